namespace Samsa.Client.Producer;

/// <summary>A record to produce. <see cref="Partition"/> null lets the partitioner choose; <see cref="Timestamp"/> null means now.</summary>
public sealed record Message<TKey, TValue>(TKey Key, TValue Value)
{
    /// <summary>The record's headers; null or empty for none.</summary>
    public IReadOnlyList<Header>? Headers { get; init; }

    /// <summary>The partition to write to; null lets the partitioner choose.</summary>
    public int? Partition { get; init; }

    /// <summary>The record's timestamp (CreateTime); null means when the producer batches it.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>Where a record was written. Offset is -1 with acks=0 (the broker does not answer).</summary>
public sealed record DeliveryResult(string Topic, int Partition, long Offset, long TimestampMs)
{
    /// <summary>Where it was written, as one value.</summary>
    public TopicPartitionOffset TopicPartitionOffset => new(Topic, Partition, Offset);
}

/// <summary>The outcome of a fire-and-forget <c>Produce</c>: a result, or the error that failed it.</summary>
public sealed record DeliveryReport(string Topic, int Partition, DeliveryResult? Result, KafkaException? Error);
