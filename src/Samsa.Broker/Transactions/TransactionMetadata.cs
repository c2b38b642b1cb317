namespace Samsa.Broker.Transactions;

/// <summary>
/// Kafka's transaction states, numbered as TransactionLogValue.TransactionStatus stores them.
/// Empty → Ongoing (a partition added) → PrepareCommit|PrepareAbort (EndTxn or a timeout; written
/// before any marker) → CompleteCommit|CompleteAbort (every marker written) → Ongoing again. Dead is
/// an expired id (its tombstone); PrepareEpochFence is never written by transaction version 1.
/// </summary>
internal enum TxnState : sbyte
{
    Empty = 0,
    Ongoing = 1,
    PrepareCommit = 2,
    PrepareAbort = 3,
    CompleteCommit = 4,
    CompleteAbort = 5,
    Dead = 6,
    PrepareEpochFence = 7,
}

internal static class TxnStates
{
    /// <summary>The names DescribeTransactions and ListTransactions use (Kafka's TransactionState.stateName).</summary>
    public static string Name(TxnState state) => state.ToString();

    public static bool TryParse(string name, out TxnState state) =>
        Enum.TryParse(name, ignoreCase: false, out state) && Enum.IsDefined(state) && !int.TryParse(name, out _);

    public static bool IsPrepare(TxnState state) => state is TxnState.PrepareCommit or TxnState.PrepareAbort;

    public static bool IsComplete(TxnState state) => state is TxnState.CompleteCommit or TxnState.CompleteAbort;
}

/// <summary>
/// One transactional id as the coordinator knows it: everything but <see cref="LastProducerEpoch"/>
/// and <see cref="MarkersInFlight"/> is in its TransactionLogValue and changes only by replaying one.
/// </summary>
internal sealed class TxnMetadata(string transactionalId)
{
    public string TransactionalId { get; } = transactionalId;

    public long ProducerId { get; set; } = -1;

    /// <summary>The id before an epoch exhaustion rotated it (a producer retrying the rotation names it).</summary>
    public long PreviousProducerId { get; set; } = -1;

    public short ProducerEpoch { get; set; } = -1;

    /// <summary>The epoch before the last InitProducerId bump, so a retried KIP-360 bump is answered, not fenced (memory only, as in Kafka).</summary>
    public short LastProducerEpoch { get; set; } = -1;

    public int TimeoutMs { get; set; }

    public TxnState State { get; set; } = TxnState.Empty;

    /// <summary>The partitions of the open (or preparing) transaction, __consumer_offsets ones included.</summary>
    public SortedSet<(string Topic, int Partition)> Partitions { get; set; } = new(PartitionOrder.Instance);

    public long LastUpdateMs { get; set; }

    /// <summary>When the first partition was added (-1 when no transaction is open).</summary>
    public long StartMs { get; set; } = -1;

    /// <summary>A marker job for the prepared transaction is being written outside the shard lock.</summary>
    public bool MarkersInFlight { get; set; }

    /// <summary>Kafka: an epoch at Short.MaxValue - 1 cannot be bumped; the next InitProducerId rotates the producer id.</summary>
    public bool EpochExhausted => ProducerEpoch >= short.MaxValue - 1;
}

/// <summary>Topic, then partition: the order partitions are listed in records and responses.</summary>
internal sealed class PartitionOrder : IComparer<(string Topic, int Partition)>
{
    public static readonly PartitionOrder Instance = new();

    public int Compare((string Topic, int Partition) x, (string Topic, int Partition) y)
    {
        int c = string.CompareOrdinal(x.Topic, y.Topic);
        return c != 0 ? c : x.Partition.CompareTo(y.Partition);
    }
}

/// <summary>The markers a prepared transaction still needs: one per partition, then its Complete record.</summary>
internal sealed record MarkerJob(string TransactionalId, long ProducerId, short ProducerEpoch, bool Commit, IReadOnlyList<(string Topic, int Partition)> Partitions);
