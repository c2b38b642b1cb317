namespace Samsa.Broker.Share;

internal sealed partial class SharePartition
{
    /// <summary>
    /// Acquires offsets for <paramref name="memberId"/> from record batches read from the log at
    /// <paramref name="fetchOffset"/> (normally <see cref="NextFetchOffset"/>): the available
    /// in-flight offsets they cover and the offsets past the SPEO, never an offset at or below
    /// which the SPSO lies and never one another member holds. Each acquired offset counts a
    /// delivery and is locked for <see cref="SharePartitionOptions.RecordLockDuration"/>.
    /// <para>
    /// The batches span one range, gaps between them included (offsets compacted away are
    /// acquired too; the member acknowledges them as gaps). At most <paramref name="maxRecords"/>
    /// offsets are acquired, read as <paramref name="mode"/> says, and new offsets only while the
    /// in-flight cap allows. Available in-flight offsets between the fetch offset and the first
    /// batch are no longer in the log and are archived, as are never-acquired offsets there.
    /// </para>
    /// <para>
    /// The result lists the acquired offsets as ranges of one delivery count, a new range starting
    /// at a batch boundary once the current one holds <paramref name="batchSize"/> offsets.
    /// </para>
    /// </summary>
    public IReadOnlyList<AcquiredRange> Acquire(
        string memberId,
        long fetchOffset,
        ReadOnlySpan<OffsetRange> batches,
        int maxRecords,
        int batchSize = int.MaxValue,
        ShareAcquireMode mode = ShareAcquireMode.BatchOptimized)
    {
        ArgumentException.ThrowIfNullOrEmpty(memberId);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (int i = 0; i < batches.Length; i++)
        {
            if (batches[i].First > batches[i].Last || (i > 0 && batches[i].First <= batches[i - 1].Last))
                throw new ArgumentException($"Batch {i} ({batches[i].First}-{batches[i].Last}) is empty or not after the one before it.", nameof(batches));
        }
        ExpireLocks();
        if (fetchOffset > SpeoNow + 1)
            throw new ArgumentOutOfRangeException(nameof(fetchOffset), fetchOffset, $"Reading from beyond the SPEO + 1 ({SpeoNow + 1}) would skip offsets.");
        if (batches.IsEmpty)
            return [];

        ArchiveVanished(fetchOffset, batches[0].First);
        var acquired = new AcquiredRanges(batchSize);
        long first = Math.Max(batches[0].First, _startOffset);
        long limit = Math.Max(maxRecords, 0);
        long capacity = Options.MaxInFlightRecords - (SpeoNow - _startOffset + 1);
        long deadline = Now + _lockTicks;
        var take = new Take(memberId, deadline, mode);

        for (int b = 0; b < batches.Length && limit > 0; b++)
        {
            // A batch owns the offsets up to the next batch's first, so a gap goes with the batch before it.
            long unitFirst = Math.Max(batches[b].First, first);
            long unitLast = b + 1 < batches.Length ? batches[b + 1].First - 1 : batches[b].Last;
            if (unitLast < unitFirst)
                continue;
            acquired.StartUnit(unitFirst);
            long inFlightLast = Math.Min(unitLast, SpeoNow);
            if (unitFirst <= inFlightLast)
                limit -= ReacquireAvailable(unitFirst, inFlightLast, limit, take, acquired);
            long newFirst = Math.Max(unitFirst, SpeoNow + 1);
            if (newFirst > unitLast)
                continue;
            // New offsets: in batch mode the rest of a started batch is taken whole, so only the
            // in-flight cap stops it; in record mode both limits cut it exactly.
            long count = unitLast - newFirst + 1;
            if (mode == ShareAcquireMode.RecordLimit)
                count = Math.Min(count, Math.Min(limit, capacity));
            if (count <= 0 || capacity <= 0)
                break;
            AppendAcquired(newFirst, newFirst + count - 1, take);
            acquired.Add(newFirst, newFirst + count - 1, 1);
            limit -= count;
            capacity -= count;
            if (newFirst + count - 1 < unitLast)
                break;
        }

        if (acquired.Any)
            _earliestDeadline = Math.Min(_earliestDeadline, deadline);
        Settle();
        return acquired.Result;
    }

    /// <summary>What an acquisition gives each offset it takes.</summary>
    private sealed record Take(string MemberId, long Deadline, ShareAcquireMode Mode);

    /// <summary>Acquires the available offsets from first to last, at most limit of them in record-limit mode; returns how many.</summary>
    private long ReacquireAvailable(long first, long last, long limit, Take take, AcquiredRanges acquired)
    {
        long taken = 0;
        for (long at = first; at <= last;)
        {
            if (take.Mode == ShareAcquireMode.RecordLimit && taken >= limit)
                break;
            var run = _runs[_runs.IndexOf(at)];
            long end = Math.Min(run.Last, last);
            if (run.State != RecordState.Available)
            {
                at = end + 1;
                continue;
            }
            if (take.Mode == ShareAcquireMode.RecordLimit)
                end = Math.Min(end, at + (limit - taken) - 1);
            var (start, _) = _runs.Isolate(at, end);
            ref var piece = ref _runs.AsSpan()[start];
            MoveTo(ref piece, RecordState.Acquired);
            piece.DeliveryCount++;
            piece.MemberId = take.MemberId;
            piece.LockDeadline = take.Deadline;
            acquired.Add(at, end, piece.DeliveryCount);
            taken += end - at + 1;
            at = end + 1;
        }
        return taken;
    }

    /// <summary>Appends never-acquired offsets as acquired; offsets skipped between the SPEO and them do not exist and are archived.</summary>
    private void AppendAcquired(long first, long last, Take take)
    {
        long next = SpeoNow + 1;
        if (first > next)
            _runs.Append(new InFlightRun { First = next, Last = first - 1, State = RecordState.Archived });
        _runs.Append(new InFlightRun
        {
            First = first,
            Last = last,
            State = RecordState.Acquired,
            DeliveryCount = 1,
            MemberId = take.MemberId,
            LockDeadline = take.Deadline,
        });
    }

    /// <summary>
    /// A read at fetchOffset whose first batch starts later found nothing in between: those
    /// records were compacted away, so available offsets there are archived (Kafka's
    /// maybeArchiveStaleBatches). Acquired ones stay with their member until acknowledged.
    /// </summary>
    private void ArchiveVanished(long fetchOffset, long firstBatchOffset)
    {
        long first = Math.Max(fetchOffset, _startOffset), last = Math.Min(firstBatchOffset - 1, SpeoNow);
        for (long at = first; at <= last;)
        {
            var run = _runs[_runs.IndexOf(at)];
            long end = Math.Min(run.Last, last);
            if (run.State == RecordState.Available)
            {
                var (start, _) = _runs.Isolate(at, end);
                MoveTo(ref _runs.AsSpan()[start], RecordState.Archived);
            }
            at = end + 1;
        }
    }

    /// <summary>Collects acquired pieces into response ranges of one delivery count, split at batch boundaries by the batch size.</summary>
    private sealed class AcquiredRanges(int batchSize)
    {
        private readonly List<AcquiredRange> _ranges = [];
        private long _unitFirst = long.MinValue;

        public bool Any => _ranges.Count > 0;

        public IReadOnlyList<AcquiredRange> Result => _ranges;

        public void StartUnit(long first) => _unitFirst = first;

        public void Add(long first, long last, short deliveryCount)
        {
            if (_ranges.Count > 0)
            {
                var current = _ranges[^1];
                bool adjacent = current.LastOffset + 1 == first && current.DeliveryCount == deliveryCount;
                bool full = first == _unitFirst && current.LastOffset - current.FirstOffset + 1 >= batchSize;
                if (adjacent && !full)
                {
                    _ranges[^1] = current with { LastOffset = last };
                    return;
                }
            }
            _ranges.Add(new AcquiredRange(first, last, deliveryCount));
        }
    }
}
