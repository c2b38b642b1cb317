using Samsa.Broker.Groups;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Transactions;

/// <summary>Writes one transaction marker to one partition; UNKNOWN_TOPIC_OR_PARTITION for a partition that no longer exists.</summary>
internal interface ITxnMarkerWriter
{
    ErrorCode Write(string topic, int partition, long producerId, short producerEpoch, bool commit, int coordinatorEpoch = TxnMarkers.CoordinatorEpoch);
}

/// <summary>Transaction markers: control batches of one COMMIT or ABORT record (coordinator epoch 0: a single node never moves its coordinators).</summary>
internal static class TxnMarkers
{
    public const int CoordinatorEpoch = 0;

    public static void Build(PooledBufferWriter output, long producerId, short producerEpoch, bool commit, long timestamp, int coordinatorEpoch = CoordinatorEpoch)
    {
        using var builder = new RecordBatchBuilder
        {
            ProducerId = producerId,
            ProducerEpoch = producerEpoch,
            BaseSequence = -1,
            IsTransactional = true,
            IsControl = true,
        };
        builder.Add(timestamp, ControlRecord.Key(commit ? ControlRecordType.Commit : ControlRecordType.Abort), false,
            ControlRecord.EndTransactionValue(coordinatorEpoch), false);
        builder.Build(output);
    }
}

/// <summary>
/// Markers for data partitions go straight into their log; those for __consumer_offsets go through
/// the group coordinator's shard, which makes the transaction's offsets committed or drops them.
/// </summary>
internal sealed class TxnMarkerWriter(TopicManager topics, GroupCoordinator groups, TimeProvider time) : ITxnMarkerWriter
{
    public ErrorCode Write(string topic, int partition, long producerId, short producerEpoch, bool commit, int coordinatorEpoch = TxnMarkers.CoordinatorEpoch)
    {
        if (topic == TopicManager.ConsumerOffsetsTopic)
        {
            return partition >= 0 && partition < groups.Shards.Count
                ? groups.Shards[partition].WriteTxnMarker(producerId, producerEpoch, commit)
                : ErrorCode.UnknownTopicOrPartition;
        }
        if (!topics.TryGet(topic, out var t) || partition < 0 || partition >= t.Partitions.Length)
            return ErrorCode.UnknownTopicOrPartition;
        using var output = new PooledBufferWriter(128);
        TxnMarkers.Build(output, producerId, producerEpoch, commit, time.GetUtcNow().ToUnixTimeMilliseconds(), coordinatorEpoch);
        // The log wakes waiting fetches itself when a marker lands (TopicManager hooks MarkerAppended).
        return t.Partitions[partition].AppendChecked(output.WrittenSpanForUpdate).Error;
    }
}
