namespace Samsa.Client.Consumer;

/// <summary>
/// Told when the group moves partitions. Runs inside Poll — never on an I/O loop and never
/// concurrently with the application's own calls — so it may commit, seek or read positions.
/// </summary>
public interface IConsumerRebalanceListener
{
    /// <summary>
    /// These partitions are being taken away in an orderly rebalance: commit what was processed.
    /// Eager protocols revoke everything before every rebalance; cooperative ones only what moves.
    /// </summary>
    void OnPartitionsRevoked(IReadOnlyCollection<TopicPartition> partitions);

    /// <summary>
    /// Called after a rebalance with the partitions this consumer now owns (all of them under the eager protocol,
    /// the newly added ones under the cooperative one), before the next records are returned.
    /// </summary>
    /// <param name="partitions">The partitions assigned.</param>
    void OnPartitionsAssigned(IReadOnlyCollection<TopicPartition> partitions);

    /// <summary>
    /// These partitions were lost: the member fell out of the group (session timeout, poll interval,
    /// fenced generation) and another member may already own them, so committing for them would
    /// fail. Defaults to <see cref="OnPartitionsRevoked"/>, as in Kafka.
    /// </summary>
    void OnPartitionsLost(IReadOnlyCollection<TopicPartition> partitions) => OnPartitionsRevoked(partitions);
}

/// <summary>A listener from delegates, for the common case.</summary>
public sealed class RebalanceListener(
    Action<IReadOnlyCollection<TopicPartition>>? onAssigned = null,
    Action<IReadOnlyCollection<TopicPartition>>? onRevoked = null,
    Action<IReadOnlyCollection<TopicPartition>>? onLost = null) : IConsumerRebalanceListener
{
    /// <inheritdoc />
    public void OnPartitionsAssigned(IReadOnlyCollection<TopicPartition> partitions) => onAssigned?.Invoke(partitions);

    /// <inheritdoc />
    public void OnPartitionsRevoked(IReadOnlyCollection<TopicPartition> partitions) => onRevoked?.Invoke(partitions);

    /// <inheritdoc />
    public void OnPartitionsLost(IReadOnlyCollection<TopicPartition> partitions) => (onLost ?? onRevoked)?.Invoke(partitions);
}
