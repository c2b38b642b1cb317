namespace Samsa.Broker.Share;

/// <summary>
/// The delivery state of one partition for one share group (KIP-932; Kafka's SharePartition),
/// with no I/O and no threads of its own: the owner serialises calls, reads the log and persists
/// what <see cref="ExportState"/> returns.
/// <para>
/// Offsets below the share-partition start offset (SPSO, <see cref="StartOffset"/>) are done:
/// acknowledged or archived, and forgotten. Offsets from the SPSO to the share-partition end
/// offset (SPEO, <see cref="EndOffset"/>) are in flight, each in a <see cref="RecordState"/>;
/// offsets above the SPEO have never been acquired. The in-flight offsets are kept as runs of
/// offsets in the same state (<see cref="InFlightRuns"/>), split only where states differ.
/// </para>
/// <para>
/// Acquisition locks run on the <see cref="TimeProvider"/>. Every member applies the locks that
/// have run out by now before doing anything else, so no caller sees, or can acknowledge, an
/// offset whose lock has expired; <see cref="NextLockExpiry"/> tells an owner when to look again
/// (to wake a waiting fetch, say).
/// </para>
/// </summary>
internal sealed partial class SharePartition
{
    private readonly TimeProvider _time;
    private readonly InFlightRuns _runs = new();
    private long _lockTicks;
    private long _startOffset;

    // No lock can run out before this timestamp, so expiry checks before it are free. It may be
    // early (a renewed lock moves later), never late.
    private long _earliestDeadline = long.MaxValue;

    public SharePartition(SharePartitionOptions options, TimeProvider time, long startOffset, int stateEpoch = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(startOffset);
        Options = options;
        _time = time;
        _startOffset = startOffset;
        StateEpoch = stateEpoch;
        _lockTicks = (long)(options.RecordLockDuration.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>
    /// The group's share.record.lock.duration.ms changed: records acquired from now on are locked for
    /// the new duration (those already locked keep their deadline, as in Kafka). Caller holds the gate.
    /// </summary>
    public void SetLockDuration(TimeSpan duration) =>
        _lockTicks = (long)(duration.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Where a share-partition without persisted state starts, by share.auto.offset.reset.</summary>
    public static long InitialStartOffset(ShareAutoOffsetReset reset, long logStartOffset, long logEndOffset) =>
        reset == ShareAutoOffsetReset.Earliest ? logStartOffset : logEndOffset;

    public SharePartitionOptions Options { get; }

    /// <summary>The state epoch the group coordinator gave this state (persisted with it).</summary>
    public int StateEpoch { get; }

    /// <summary>The SPSO: every offset below it is acknowledged or archived. It never moves back.</summary>
    public long StartOffset
    {
        get
        {
            ExpireLocks();
            return _startOffset;
        }
    }

    /// <summary>The SPEO: the last offset in flight, or <see cref="StartOffset"/> - 1 when none is.</summary>
    public long EndOffset
    {
        get
        {
            ExpireLocks();
            return SpeoNow;
        }
    }

    /// <summary>Offsets from the SPSO to the SPEO, in whatever state: what the in-flight cap counts.</summary>
    public long InFlightCount => EndOffset - _startOffset + 1;

    private long SpeoNow => _runs.IsEmpty ? _startOffset - 1 : _runs.Last;

    private long Now => _time.GetTimestamp();

    /// <summary>
    /// Where the next log read should start: the first available offset in flight, or the offset
    /// after the SPEO when none is available.
    /// </summary>
    public long NextFetchOffset()
    {
        ExpireLocks();
        foreach (var run in _runs.AsSpan())
        {
            if (run.State == RecordState.Available)
                return run.First;
        }
        return SpeoNow + 1;
    }

    /// <summary>The in-flight offsets as runs, in offset order.</summary>
    public IReadOnlyList<InFlightBatch> InFlight()
    {
        ExpireLocks();
        var batches = new InFlightBatch[_runs.Count];
        for (int i = 0; i < batches.Length; i++)
            batches[i] = _runs[i].ToBatch();
        return batches;
    }

    /// <summary>The state of one offset, or null if it is not in flight (below the SPSO or above the SPEO).</summary>
    public InFlightBatch? StateOf(long offset)
    {
        ExpireLocks();
        if (offset < _startOffset || offset > SpeoNow)
            return null;
        return _runs[_runs.IndexOf(offset)].ToBatch();
    }

    /// <summary>How long until the first acquisition lock still held runs out; null if none is held.</summary>
    public TimeSpan? NextLockExpiry()
    {
        ExpireLocks();
        long earliest = long.MaxValue;
        foreach (var run in _runs.AsSpan())
        {
            if (run.State == RecordState.Acquired)
                earliest = Math.Min(earliest, run.LockDeadline);
        }
        return earliest == long.MaxValue ? null : _time.GetElapsedTime(Now, earliest);
    }

    /// <summary>
    /// Ends every acquisition lock that has run out: the offsets become available, or archived
    /// if they had their last permitted delivery. Returns how many offsets were released.
    /// </summary>
    public long ExpireLocks()
    {
        long now = Now;
        if (now < _earliestDeadline)
            return 0;
        long released = 0, next = long.MaxValue;
        var runs = _runs.AsSpan();
        for (int i = 0; i < runs.Length; i++)
        {
            ref var run = ref runs[i];
            if (run.State != RecordState.Acquired)
                continue;
            if (run.LockDeadline > now)
            {
                next = Math.Min(next, run.LockDeadline);
                continue;
            }
            MoveTo(ref run, run.DeliveryCount >= Options.DeliveryCountLimit ? RecordState.Archived : RecordState.Available);
            released += run.Count;
        }
        _earliestDeadline = next;
        if (released > 0)
            Settle();
        return released;
    }

    /// <summary>
    /// Releases everything a member holds, as when its share session closes or it leaves the
    /// group. Since KAFKA-19972 (Kafka 4.2) the delivery the acquisition counted stands, as for a
    /// release by the member or a lock expiry: a client that crashes on a record would otherwise
    /// get it forever. So a record on its last permitted delivery is archived; the others become
    /// available and count their next delivery when acquired again. Returns how many offsets were released.
    /// </summary>
    public long ReleaseMember(string memberId)
    {
        ArgumentException.ThrowIfNullOrEmpty(memberId);
        ExpireLocks();
        long released = 0;
        var runs = _runs.AsSpan();
        for (int i = 0; i < runs.Length; i++)
        {
            ref var run = ref runs[i];
            if (run.State != RecordState.Acquired || !string.Equals(run.MemberId, memberId, StringComparison.Ordinal))
                continue;
            MoveTo(ref run, run.DeliveryCount >= Options.DeliveryCountLimit ? RecordState.Archived : RecordState.Available);
            released += run.Count;
        }
        if (released > 0)
            Settle();
        return released;
    }

    /// <summary>
    /// The log start offset moved (retention, DeleteRecords): records below it are gone, so every
    /// in-flight offset below it is archived and the SPSO moves up to it. Unlike Kafka, which
    /// lets such offsets stay acquired until their locks end, acquired ones are archived at once;
    /// their member's acknowledgements of them are then ignored, as Kafka ignores any below the SPSO.
    /// </summary>
    public void AdvanceToLogStart(long logStartOffset)
    {
        ExpireLocks();
        if (logStartOffset <= _startOffset)
            return;
        if (logStartOffset > SpeoNow)
        {
            _runs.Clear();
            _startOffset = logStartOffset;
            return;
        }
        var (start, end) = _runs.Isolate(_startOffset, logStartOffset - 1);
        var runs = _runs.AsSpan();
        for (int i = start; i < end; i++)
        {
            if (!RecordStates.IsTerminal(runs[i].State))
                MoveTo(ref runs[i], RecordState.Archived);
        }
        Settle();
    }

    /// <summary>Changes a run's state, refusing any transition Kafka does not make.</summary>
    private static void MoveTo(ref InFlightRun run, RecordState to)
    {
        if (!RecordStates.CanTransition(run.State, to))
            throw new InvalidOperationException($"Offsets {run.First}-{run.Last} cannot go from {run.State} to {to}.");
        run.State = to;
        if (to != RecordState.Acquired)
        {
            run.MemberId = null;
            run.LockDeadline = 0;
        }
    }

    /// <summary>Joins runs that have become alike and moves the SPSO past the done prefix, dropping it.</summary>
    private void Settle()
    {
        _runs.Normalize();
        var runs = _runs.AsSpan();
        int done = 0;
        while (done < runs.Length && RecordStates.IsTerminal(runs[done].State))
            done++;
        if (done == 0)
            return;
        _startOffset = runs[done - 1].Last + 1;
        _runs.RemoveFirst(done);
    }
}
