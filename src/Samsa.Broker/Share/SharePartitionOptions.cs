namespace Samsa.Broker.Share;

/// <summary>The settings one share-partition obeys, with Kafka's defaults.</summary>
internal sealed record SharePartitionOptions
{
    /// <summary>
    /// group.share.delivery.count.limit (per group: share.delivery.count.limit): deliveries a record
    /// gets before it is archived instead of made available again. Kafka accepts 2 to 10.
    /// </summary>
    public int DeliveryCountLimit { get; init; } = 5;

    /// <summary>
    /// group.share.record.lock.duration.ms (per group: share.record.lock.duration.ms): how long an
    /// acquired record stays with its member without being acknowledged or renewed.
    /// </summary>
    public TimeSpan RecordLockDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// group.share.partition.max.record.locks: the most offsets in flight (from the start offset to
    /// the end offset) before no new offsets are acquired. Batch-optimized acquisition may pass it
    /// by part of one batch, as Kafka's does. Kafka accepts 100 to 10000.
    /// </summary>
    public int MaxInFlightRecords { get; init; } = 2000;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(DeliveryCountLimit, 1, nameof(DeliveryCountLimit));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(DeliveryCountLimit, short.MaxValue, nameof(DeliveryCountLimit));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RecordLockDuration, TimeSpan.Zero, nameof(RecordLockDuration));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInFlightRecords, 1, nameof(MaxInFlightRecords));
    }
}

/// <summary>
/// share.auto.offset.reset: where a share-partition with no persisted state starts. Kafka also
/// has by_duration:&lt;duration&gt;, which needs a timestamp lookup and is not here.
/// </summary>
internal enum ShareAutoOffsetReset
{
    /// <summary>The default: only records written from now on (the log end offset).</summary>
    Latest,

    /// <summary>Everything still in the log (the log start offset).</summary>
    Earliest,
}
