using System.Text.RegularExpressions;

namespace Samsa.Client.Consumer;

/// <summary>
/// The consumer's surface (the Java client's <c>Consumer</c>, Confluent.Kafka's <c>IConsumer</c>), so that
/// applications can take it from dependency injection and mock it. <see cref="KafkaConsumer{TKey, TValue}"/>
/// implements it; see there for the semantics of each member. Like the Java consumer, one instance is
/// not for concurrent use (<see cref="Wakeup"/> aside).
/// </summary>
public interface IKafkaConsumer<TKey, TValue> : IDisposable, IAsyncDisposable
{
    /// <summary>The settings the consumer was built with.</summary>
    ConsumerOptions Options { get; }

    /// <summary>The partitions assigned to this consumer now.</summary>
    IReadOnlyCollection<TopicPartition> Assignment { get; }

    /// <summary>The topics subscribed to by name.</summary>
    IReadOnlyCollection<string> Subscription { get; }

    /// <summary>
    /// Who this member is in its group now (KIP-447), for a transactional producer's
    /// SendOffsetsToTransactionAsync: group id, generation (the member epoch with the consumer
    /// protocol, KIP-848), member id, group instance id; generation -1 and an empty member id while
    /// not in the group. Null without a group.id.
    /// </summary>
    ConsumerGroupMetadata? GroupMetadata { get; }

    /// <summary>Joins the group for these topics.</summary>
    void Subscribe(IEnumerable<string> topics, IConsumerRebalanceListener? listener = null);

    /// <summary>Joins the group for one topic.</summary>
    void Subscribe(string topic, IConsumerRebalanceListener? listener = null);

    /// <summary>Joins the group for every topic matching the pattern.</summary>
    void Subscribe(Regex pattern, IConsumerRebalanceListener? listener = null);

    /// <summary>Reads these partitions without a group.</summary>
    void Assign(IEnumerable<TopicPartition> partitions);

    /// <summary>Leaves the group and drops the subscription or assignment.</summary>
    void Unsubscribe();

    /// <inheritdoc cref="Unsubscribe"/>
    ValueTask UnsubscribeAsync(CancellationToken cancellationToken = default);

    /// <summary>Returns the records fetched so far, waiting up to <paramref name="timeout"/> for some.</summary>
    IReadOnlyList<ConsumeResult<TKey, TValue>> Poll(TimeSpan timeout);

    /// <inheritdoc cref="Poll"/>
    ValueTask<IReadOnlyList<ConsumeResult<TKey, TValue>>> PollAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Polls in a loop, one record at a time, until cancelled.</summary>
    IAsyncEnumerable<ConsumeResult<TKey, TValue>> ConsumeAsync(CancellationToken cancellationToken = default);

    /// <summary>Commits the given offsets (null: the positions of everything returned) and waits for the answer.</summary>
    void CommitSync(IEnumerable<TopicPartitionOffset>? offsets = null);

    /// <inheritdoc cref="CommitSync"/>
    ValueTask CommitSyncAsync(IEnumerable<TopicPartitionOffset>? offsets = null, CancellationToken cancellationToken = default);

    /// <summary>Commits without waiting; <paramref name="onComplete"/> hears the outcome.</summary>
    Task CommitAsync(IEnumerable<TopicPartitionOffset>? offsets = null, Action<IReadOnlyList<TopicPartitionOffset>, Exception?>? onComplete = null);

    /// <summary>The group's committed offsets of these partitions (null where none).</summary>
    IReadOnlyDictionary<TopicPartition, TopicPartitionOffset?> Committed(IEnumerable<TopicPartition> partitions);

    /// <inheritdoc cref="Committed"/>
    ValueTask<IReadOnlyDictionary<TopicPartition, TopicPartitionOffset?>> CommittedAsync(IEnumerable<TopicPartition> partitions, CancellationToken cancellationToken = default);

    /// <summary>Moves the position of an assigned partition.</summary>
    void Seek(TopicPartitionOffset offset);

    /// <summary>Moves these partitions to their first offsets.</summary>
    void SeekToBeginning(IEnumerable<TopicPartition> partitions);

    /// <summary>Moves these partitions to their ends.</summary>
    void SeekToEnd(IEnumerable<TopicPartition> partitions);

    /// <summary>The offset of the next record to be returned from the partition.</summary>
    long Position(TopicPartition partition);

    /// <inheritdoc cref="Position"/>
    ValueTask<long> PositionAsync(TopicPartition partition, CancellationToken cancellationToken = default);

    /// <summary>The earliest offset whose timestamp is at or after each time (null where none).</summary>
    IReadOnlyDictionary<TopicPartition, OffsetAndTimestamp?> OffsetsForTimes(IReadOnlyDictionary<TopicPartition, DateTimeOffset> timestamps);

    /// <inheritdoc cref="OffsetsForTimes"/>
    ValueTask<IReadOnlyDictionary<TopicPartition, OffsetAndTimestamp?>> OffsetsForTimesAsync(IReadOnlyDictionary<TopicPartition, DateTimeOffset> timestamps, CancellationToken cancellationToken = default);

    /// <summary>The first offset of each partition.</summary>
    IReadOnlyDictionary<TopicPartition, long> BeginningOffsets(IEnumerable<TopicPartition> partitions);

    /// <summary>The end offset (next to be written) of each partition.</summary>
    IReadOnlyDictionary<TopicPartition, long> EndOffsets(IEnumerable<TopicPartition> partitions);

    /// <summary>Stops returning records of these partitions until <see cref="Resume"/>.</summary>
    void Pause(IEnumerable<TopicPartition> partitions);

    /// <summary>Returns records of paused partitions again.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "Kafka's name for it in every client; a keyword only in Visual Basic.")]
    void Resume(IEnumerable<TopicPartition> partitions);

    /// <summary>The paused partitions.</summary>
    IReadOnlyCollection<TopicPartition> Paused();

    /// <summary>Makes a blocked poll return early (from any thread).</summary>
    void Wakeup();

    /// <summary>Commits (with auto-commit), leaves the group and closes the connections.</summary>
    void Close();

    /// <inheritdoc cref="Close"/>
    ValueTask CloseAsync(CancellationToken cancellationToken = default);
}
