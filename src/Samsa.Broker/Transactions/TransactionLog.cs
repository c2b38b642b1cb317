using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Transactions;

/// <summary>
/// __transaction_state: which partition a transactional id lives in and Kafka's record formats
/// (TransactionLogKey v0, TransactionLogValue v0 — transaction version 1 writes v0), so Kafka's
/// tools read ours.
/// </summary>
internal static class TransactionLog
{
    public const string TopicName = "__transaction_state";
    public const short KeyVersion = 0;
    public const short ValueVersion = 0;

    /// <summary>As for groups: abs(javaHashCode(transactionalId)) % transaction.state.log.num.partitions.</summary>
    public static int PartitionFor(string transactionalId, int partitions) => OffsetsTopic.PartitionFor(transactionalId, partitions);

    public static byte[] Key(string transactionalId) =>
        VersionedData.Write(new TransactionLogKey { TransactionalId = transactionalId }, KeyVersion);

    public static CoordinatorRecord Record(string transactionalId, long producerId, long previousProducerId, short epoch, int timeoutMs, TxnState state,
        IEnumerable<(string Topic, int Partition)> partitions, long lastUpdateMs, long startMs) =>
        new(Key(transactionalId), VersionedData.Write(new TransactionLogValue
        {
            ProducerId = producerId,
            PreviousProducerId = previousProducerId,
            ProducerEpoch = epoch,
            TransactionTimeoutMs = timeoutMs,
            TransactionStatus = (sbyte)state,
            TransactionPartitions = partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
                .Select(g => new TransactionLogValue.PartitionsSchema { Topic = g.Key, PartitionIds = g.Select(p => p.Partition).ToList() }).ToList(),
            TransactionLastUpdateTimestampMs = lastUpdateMs,
            TransactionStartTimestampMs = startMs,
        }, ValueVersion));

    public static CoordinatorRecord Tombstone(string transactionalId) => new(Key(transactionalId), null);
}
