using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>Transactional batches and markers built as Kafka's clients and coordinator write them.</summary>
public abstract class TxnLogTest : LogDirectoryTest
{
    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));

    protected long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    protected PartitionLog Open(long segmentBytes = 1 << 20) =>
        PartitionLog.Open(Dir, new LogConfig { SegmentBytes = segmentBytes }, NullLogger.Instance, Time);

    /// <summary>A data batch of <paramref name="records"/> records keyed k0, k1, … with values "v{sequence}".</summary>
    protected byte[] Data(long producerId, int sequence, int records = 3, short epoch = 0, bool transactional = true, string keyPrefix = "k")
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = sequence, IsTransactional = transactional };
        for (int i = 0; i < records; i++)
            builder.Add(Now, System.Text.Encoding.UTF8.GetBytes(keyPrefix + i), false, System.Text.Encoding.UTF8.GetBytes("v" + (sequence + i)), false);
        return Build(builder);
    }

    protected byte[] Marker(long producerId, ControlRecordType type, short epoch = 0, int coordinatorEpoch = 0)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = -1, IsTransactional = true, IsControl = true };
        builder.Add(Now, ControlRecord.Key(type), false, ControlRecord.EndTransactionValue(coordinatorEpoch), false);
        return Build(builder);
    }

    private static byte[] Build(RecordBatchBuilder builder)
    {
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    protected static AppendResult Append(PartitionLog log, byte[] batch) => log.AppendChecked(batch.AsSpan().ToArray());

    /// <summary>The base offsets of the batches a read returned.</summary>
    protected static List<long> BatchesIn(LogRead read)
    {
        var found = new List<long>();
        var memory = read.Memory;
        while (RecordBatch.TryReadNext(ref memory, out var batch))
            found.Add(batch.Header.BaseOffset);
        return found;
    }
}
