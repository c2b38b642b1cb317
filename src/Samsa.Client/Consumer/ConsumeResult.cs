namespace Samsa.Client.Consumer;

/// <summary>What a record's timestamp means (the topic's message.timestamp.type).</summary>
public enum TimestampKind
{
    /// <summary>The time the producer set.</summary>
    CreateTime,
    /// <summary>The time the broker appended it.</summary>
    LogAppendTime,
}

/// <summary>One record returned by poll, with where it came from.</summary>
public sealed class ConsumeResult<TKey, TValue>
{
    internal static readonly IReadOnlyList<Header> NoHeaders = [];

    /// <summary>The record's topic.</summary>
    public required string Topic { get; init; }

    /// <summary>Its partition.</summary>
    public required int Partition { get; init; }

    /// <summary>Its offset in the partition.</summary>
    public required long Offset { get; init; }

    /// <summary>The partition leader's epoch when it was written; null from brokers that do not say.</summary>
    public int? LeaderEpoch { get; init; }

    /// <summary>The deserialized key (default when the record has a null key).</summary>
    public required TKey Key { get; init; }

    /// <summary>The deserialized value (default for a tombstone).</summary>
    public required TValue Value { get; init; }

    /// <summary>Milliseconds since the Unix epoch, as the record carries it.</summary>
    public required long TimestampMs { get; init; }

    /// <summary>Whether <see cref="Timestamp"/> is the producer's or the broker's.</summary>
    public TimestampKind TimestampKind { get; init; }

    /// <summary>The record's timestamp.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(TimestampMs);

    /// <summary>Its headers, in the order they were written; empty when there are none.</summary>
    public IReadOnlyList<Header> Headers { get; init; } = NoHeaders;

    /// <summary>
    /// How many times a share group has delivered this record, this delivery included (Java's
    /// ConsumerRecord.deliveryCount()); null for records of a regular consumer.
    /// </summary>
    public short? DeliveryCount { get; init; }

    /// <summary>Its topic and partition.</summary>
    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <summary>The offset to commit after processing this record: the next one to read.</summary>
    public TopicPartitionOffset NextOffset => new(Topic, Partition, Offset + 1, LeaderEpoch);

    /// <inheritdoc />
    public override string ToString() => $"{Topic}-{Partition}@{Offset}";
}
