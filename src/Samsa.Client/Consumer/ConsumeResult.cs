namespace Samsa.Client.Consumer;

public enum TimestampKind
{
    CreateTime,
    LogAppendTime,
}

/// <summary>One record returned by poll, with where it came from.</summary>
public sealed class ConsumeResult<TKey, TValue>
{
    internal static readonly IReadOnlyList<Header> NoHeaders = [];

    public required string Topic { get; init; }

    public required int Partition { get; init; }

    public required long Offset { get; init; }

    public int? LeaderEpoch { get; init; }

    public required TKey Key { get; init; }

    public required TValue Value { get; init; }

    /// <summary>Milliseconds since the Unix epoch, as the record carries it.</summary>
    public required long TimestampMs { get; init; }

    public TimestampKind TimestampKind { get; init; }

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(TimestampMs);

    public IReadOnlyList<Header> Headers { get; init; } = NoHeaders;

    /// <summary>
    /// How many times a share group has delivered this record, this delivery included (Java's
    /// ConsumerRecord.deliveryCount()); null for records of a regular consumer.
    /// </summary>
    public short? DeliveryCount { get; init; }

    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <summary>The offset to commit after processing this record: the next one to read.</summary>
    public TopicPartitionOffset NextOffset => new(Topic, Partition, Offset + 1, LeaderEpoch);

    public override string ToString() => $"{Topic}-{Partition}@{Offset}";
}
