using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Topics;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Groups;

/// <summary>
/// The real __consumer_offsets: coordinator records become uncompressed record batches in the
/// internal topic's partitions, the same bytes Kafka would write, so tools that consume the topic
/// (Burrow) read them.
/// </summary>
internal sealed class OffsetsLog(Topic topic, TimeProvider time, ILogger logger) : IOffsetsLog
{
    public void Append(int partition, IReadOnlyList<CoordinatorRecord> records)
    {
        if (records.Count == 0)
            return;
        using var builder = new RecordBatchBuilder();
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (key, value) in records)
            builder.Add(now, key, false, value, value is null);
        using var output = new PooledBufferWriter(builder.EstimatedSize + 64);
        builder.Build(output);
        var bytes = output.WrittenSpanForUpdate;
        topic.Partitions[partition].Append(bytes);
    }

    /// <summary>Every (key, value) of one partition, oldest first, for loading at start-up.</summary>
    public IEnumerable<(byte[] Key, byte[]? Value)> Read(int partition)
    {
        var log = topic.Partitions[partition];
        long offset = log.LogStartOffset;
        using var scratch = new PooledBufferWriter();
        var result = new List<(byte[], byte[]?)>();
        while (offset < log.LogEndOffset)
        {
            using var read = log.Read(offset, 1 << 20);
            if (read.Length == 0)
                break;
            ReadOnlyMemory<byte> buffer = read.Memory;
            while (RecordBatch.TryReadNext(ref buffer, out var batch))
            {
                foreach (var record in batch.GetRecords(scratch))
                {
                    if (record.Offset < offset || record.Key is null)
                        continue;
                    result.Add((record.Key.Value.ToArray(), record.Value?.ToArray()));
                }
                offset = batch.Header.LastOffset + 1;
            }
        }
        logger.LogDebug("Read {Count} record(s) from __consumer_offsets-{Partition}", result.Count, partition);
        return result;
    }
}
