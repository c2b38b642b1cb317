namespace Samsa.Broker.Share;

/// <summary>Offsets First to Last inclusive: a record batch as read from the log.</summary>
internal readonly record struct OffsetRange(long First, long Last)
{
    public long Count => Last - First + 1;
}

/// <summary>Offsets handed to a member by one acquisition, all with the same delivery count (ShareFetchResponse.AcquiredRecords).</summary>
internal readonly record struct AcquiredRange(long FirstOffset, long LastOffset, short DeliveryCount);

/// <summary>How an acquisition reads its record limit (ShareFetch v2's ShareAcquireMode).</summary>
internal enum ShareAcquireMode : sbyte
{
    /// <summary>
    /// Whole fetched batches: the limit is checked before each batch, so the last batch started is
    /// taken whole and the total may exceed the limit. Kafka's behaviour, and the only one before v2.
    /// </summary>
    BatchOptimized = 0,

    /// <summary>Never more records than the limit, splitting a batch where it is reached.</summary>
    RecordLimit = 1,
}

/// <summary>One run of in-flight offsets as <see cref="SharePartition.InFlight"/> reports it.</summary>
internal readonly record struct InFlightBatch(long FirstOffset, long LastOffset, RecordState State, short DeliveryCount, string? MemberId);
