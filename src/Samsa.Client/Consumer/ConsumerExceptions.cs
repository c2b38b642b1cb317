using Samsa.Protocol;

namespace Samsa.Client.Consumer;

/// <summary>Thrown by a poll that <c>Wakeup()</c> interrupted (from another thread), as Kafka's WakeupException.</summary>
public sealed class WakeupException() : OperationCanceledException("The consumer was woken up by Wakeup().");

/// <summary>
/// A commit was refused because this member is no longer in the group's current generation (it
/// was removed after a rebalance or timeout); the partitions may now belong to another member.
/// Poll again to rejoin; records processed since the last commit may be delivered again.
/// </summary>
public sealed class CommitFailedException(ErrorCode error, string message) : KafkaException(error, message);

/// <summary>A partition has no committed offset (or it is out of range) and auto.offset.reset is none.</summary>
public sealed class NoOffsetForPartitionException(IReadOnlyCollection<TopicPartition> partitions)
    : KafkaException(ErrorCode.OffsetOutOfRange,
        $"No valid offset for {string.Join(", ", partitions)} and auto.offset.reset is none: Seek to a position, or set auto.offset.reset to earliest or latest.")
{
    /// <summary>The partitions that have no committed offset to start from.</summary>
    public IReadOnlyCollection<TopicPartition> Partitions { get; } = partitions;
}
