namespace Samsa.Broker.Share;

internal sealed partial class SharePartition
{
    /// <summary>
    /// The state to persist, as Kafka's share coordinator would hold it: the SPSO and every
    /// in-flight offset as batches. Acquired offsets are written as they were before their
    /// acquisition (available, one delivery fewer), because Kafka does not persist acquisitions:
    /// after a reload nobody holds them, and the delivery in progress did not finish.
    /// </summary>
    public ShareState ExportState()
    {
        ExpireLocks();
        var batches = new List<ShareStateBatch>(_runs.Count);
        long complete = 0;
        foreach (var run in _runs.AsSpan())
        {
            var state = run.State == RecordState.Acquired ? RecordState.Available : run.State;
            short count = run.State == RecordState.Acquired ? (short)Math.Max(run.DeliveryCount - 1, 0) : run.DeliveryCount;
            if (RecordStates.IsTerminal(state))
                complete += run.Count;
            if (batches.Count > 0 && batches[^1] is var last && last.DeliveryState == state && last.DeliveryCount == count)
                batches[^1] = last with { LastOffset = run.Last };
            else
                batches.Add(new ShareStateBatch(run.First, run.Last, state, count));
        }
        return new ShareState(StateEpoch, _startOffset, (int)Math.Min(complete, int.MaxValue), batches);
    }

    /// <summary>
    /// A share-partition from persisted state, with the log's current bounds. A state never
    /// initialised (start offset -1) starts where share.auto.offset.reset says. Offsets between
    /// the start offset and the last batch that no batch covers were never delivered and come
    /// back available; so does anything persisted as acquired. An available batch already at
    /// the delivery limit (the limit was lowered) comes back archived. Records the log no longer
    /// has (below its start offset) are archived.
    /// </summary>
    public static SharePartition Load(
        ShareState state,
        SharePartitionOptions options,
        TimeProvider time,
        ShareAutoOffsetReset reset,
        long logStartOffset,
        long logEndOffset)
    {
        ArgumentNullException.ThrowIfNull(state);
        long start = state.StartOffset >= 0 ? state.StartOffset : InitialStartOffset(reset, logStartOffset, logEndOffset);
        var partition = new SharePartition(options, time, start, state.StateEpoch);
        partition.Restore(state.Batches);
        partition.AdvanceToLogStart(logStartOffset);
        return partition;
    }

    private void Restore(IReadOnlyList<ShareStateBatch> batches)
    {
        long next = _startOffset, previousLast = long.MinValue;
        foreach (var batch in batches)
        {
            if (batch.FirstOffset > batch.LastOffset || batch.FirstOffset <= previousLast)
                throw new InvalidDataException($"State batch {batch.FirstOffset}-{batch.LastOffset} is empty or overlaps the one before it.");
            if (batch.DeliveryCount < 0 || !Enum.IsDefined(batch.DeliveryState))
                throw new InvalidDataException($"State batch {batch.FirstOffset}-{batch.LastOffset} has state {batch.DeliveryState}, count {batch.DeliveryCount}.");
            previousLast = batch.LastOffset;
            // Kafka's coordinator may keep a batch that straddles a start offset moved into it.
            if (batch.LastOffset < _startOffset)
                continue;
            long first = Math.Max(batch.FirstOffset, _startOffset);
            if (first > next)
                _runs.Append(new InFlightRun { First = next, Last = first - 1, State = RecordState.Available });
            var state = batch.DeliveryState == RecordState.Acquired ? RecordState.Available : batch.DeliveryState;
            if (state == RecordState.Available && batch.DeliveryCount >= Options.DeliveryCountLimit)
                state = RecordState.Archived;
            _runs.Append(new InFlightRun { First = first, Last = batch.LastOffset, State = state, DeliveryCount = batch.DeliveryCount });
            next = batch.LastOffset + 1;
        }
        Settle();
    }

    /// <summary>
    /// Checks what every operation must leave true, throwing if anything is off: runs cover the
    /// SPSO to the SPEO without holes, the first is not done, only acquired runs have a member and
    /// a lock, and no delivery count of an offset not done passes the limit (an available one stays below it).
    /// </summary>
    internal void CheckInvariants()
    {
        long expected = _startOffset;
        var runs = _runs.AsSpan();
        for (int i = 0; i < runs.Length; i++)
        {
            var run = runs[i];
            string at = $"run {i} ({run.First}-{run.Last}, {run.State}, count {run.DeliveryCount}, member {run.MemberId ?? "-"})";
            if (run.First != expected || run.Last < run.First)
                throw new InvalidOperationException($"{at} does not start at {expected}.");
            if (i == 0 && RecordStates.IsTerminal(run.State))
                throw new InvalidOperationException($"{at} is done but the SPSO did not move past it.");
            if (i > 0 && runs[i - 1].IsLike(run))
                throw new InvalidOperationException($"{at} was not joined to the run before it.");
            bool acquired = run.State == RecordState.Acquired;
            if (acquired != (run.MemberId is not null) || acquired != (run.LockDeadline != 0))
                throw new InvalidOperationException($"{at} has a member or lock that does not fit its state.");
            // Done offsets may carry counts from before a lowered limit; the others may not.
            if (run.DeliveryCount < 0
                || (!RecordStates.IsTerminal(run.State) && run.DeliveryCount > Options.DeliveryCountLimit)
                || (run.State == RecordState.Available && run.DeliveryCount >= Options.DeliveryCountLimit)
                || (acquired && run.DeliveryCount < 1))
                throw new InvalidOperationException($"{at} has a delivery count out of range.");
            expected = run.Last + 1;
        }
    }
}
