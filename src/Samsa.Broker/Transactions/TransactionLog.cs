using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Transactions;

/// <summary>
/// __transaction_state: which partition a transactional id lives in and Kafka's record formats
/// (TransactionLogKey v0, TransactionLogValue v0 as transaction version 1 writes it; v1 only when a
/// rotated producer id leaves a previous id to remember, which v0 cannot hold), so Kafka's tools read ours.
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
        }, previousProducerId >= 0 ? (short)1 : ValueVersion));

    public static CoordinatorRecord Tombstone(string transactionalId) => new(Key(transactionalId), null);
}

/// <summary>
/// __transaction_state created on the first write, as Kafka creates it on first use: brokers that
/// never see a transactional producer have no 50 partitions to open at every start.
/// </summary>
internal sealed class LazyTopicLog(Func<Topics.Topic> create, TimeProvider time, Microsoft.Extensions.Logging.ILogger logger) : IOffsetsLog
{
    private readonly Lazy<OffsetsLog> _log = new(() => new OffsetsLog(create(), time, logger), LazyThreadSafetyMode.PublicationOnly); // a failed creation is tried again; a race is settled by TryGet

    public void Append(int partition, IReadOnlyList<CoordinatorRecord> records) => _log.Value.Append(partition, records);

    public Samsa.Protocol.ErrorCode AppendTransactional(int partition, IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch) =>
        throw new NotSupportedException("__transaction_state holds no transactional batches.");

    public Samsa.Protocol.ErrorCode AppendMarker(int partition, long producerId, short producerEpoch, bool commit) =>
        throw new NotSupportedException("__transaction_state holds no markers.");
}
