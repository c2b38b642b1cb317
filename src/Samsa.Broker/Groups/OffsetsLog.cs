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

    public Samsa.Protocol.ErrorCode AppendTransactional(int partition, IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch)
    {
        if (records.Count == 0)
            return Samsa.Protocol.ErrorCode.None;
        // Appended unchecked, as Kafka appends a coordinator's writes (AppendOrigin.COORDINATOR: no
        // sequence check), but with a sequence so the partition log tracks the producer's open
        // transaction (its LSO, and compaction leaving the pending records alone until the marker).
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = producerEpoch, BaseSequence = 0, IsTransactional = true };
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (key, value) in records)
            builder.Add(now, key, false, value, value is null);
        using var output = new PooledBufferWriter(builder.EstimatedSize + 64);
        builder.Build(output);
        return topic.Partitions[partition].AppendCoordinatorTransactional(output.WrittenSpanForUpdate).Error;
    }

    public Samsa.Protocol.ErrorCode AppendMarker(int partition, long producerId, short producerEpoch, bool commit)
    {
        using var output = new PooledBufferWriter(128);
        Transactions.TxnMarkers.Build(output, producerId, producerEpoch, commit, time.GetUtcNow().ToUnixTimeMilliseconds());
        return topic.Partitions[partition].AppendChecked(output.WrittenSpanForUpdate).Error;
    }

    /// <summary>Every (key, value) of one partition, oldest first, for loading at start-up (transactions ignored: __transaction_state has none).</summary>
    public IEnumerable<(byte[] Key, byte[]? Value)> Read(int partition) => ReadEntries(partition).Where(e => e.Marker is null).Select(e => (e.Key, e.Value));

    /// <summary>Every record of one partition, oldest first, with its transaction (producer id, or marker type).</summary>
    public IEnumerable<OffsetsLogEntry> ReadEntries(int partition)
    {
        var log = topic.Partitions[partition];
        long offset = log.LogStartOffset;
        using var scratch = new PooledBufferWriter();
        var result = new List<OffsetsLogEntry>();
        while (offset < log.LogEndOffset)
        {
            using var read = log.Read(offset, 1 << 20);
            if (read.Length == 0)
                break;
            ReadOnlyMemory<byte> buffer = read.Memory;
            while (RecordBatch.TryReadNext(ref buffer, out var batch))
            {
                var h = batch.Header;
                foreach (var record in batch.GetRecords(scratch))
                {
                    if (record.Offset < offset || record.Key is null)
                        continue;
                    if (h.IsControl)
                    {
                        try
                        {
                            result.Add(new OffsetsLogEntry([], null, h.ProducerId, ControlRecord.ReadType(record.Key.Value.Span)));
                        }
                        catch (Samsa.Protocol.ProtocolException)
                        {
                            // A control record of a kind we do not know: nothing to apply.
                        }
                        continue;
                    }
                    result.Add(new OffsetsLogEntry(record.Key.Value.ToArray(), record.Value?.ToArray(), h.IsTransactional ? h.ProducerId : -1));
                }
                offset = batch.Header.LastOffset + 1;
            }
        }
        logger.LogDebug("Read {Count} record(s) from {Topic}-{Partition}", result.Count, topic.Name, partition);
        return result;
    }
}
