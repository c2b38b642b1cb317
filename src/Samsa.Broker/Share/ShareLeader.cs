using Microsoft.Extensions.Logging;

namespace Samsa.Broker.Share;

/// <summary>
/// One share-partition on this broker (Kafka's share-partition leader): the
/// <see cref="SharePartition"/> state machine behind its own lock, what was last persisted of it,
/// and the timer that wakes up when its first acquisition lock runs out. Every call into the
/// state machine holds <see cref="Gate"/>; nothing waits while holding it except the local append
/// of a changed snapshot (<see cref="AfterChange"/>), which is what keeps snapshots in the order
/// of the changes they record.
/// </summary>
internal sealed class ShareLeader : IDisposable
{
    private readonly IShareStateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _changed;
    private readonly ITimer _lockTimer;
    private bool _disposed;

    public ShareLeader(ShareKey key, SharePartition partition, StoredShareState? persisted, IShareStateStore store, TimeProvider time, ILogger logger, Action changed)
    {
        Key = key;
        Partition = partition;
        Persisted = persisted;
        _store = store;
        _time = time;
        _logger = logger;
        _changed = changed;
        _lockTimer = time.CreateTimer(_ => OnLockTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public ShareKey Key { get; }

    /// <summary>Held for every call into <see cref="Partition"/>.</summary>
    public Lock Gate { get; } = new();

    public SharePartition Partition { get; }

    /// <summary>What the store holds for this share-partition (null: nothing written yet).</summary>
    public StoredShareState? Persisted { get; private set; }

    /// <summary>
    /// After any call that may have changed the state (caller holds <see cref="Gate"/>): writes a
    /// snapshot when what would be persisted differs from what was, and re-arms the lock timer.
    /// Acquisitions alone change nothing persisted (Kafka does not persist them), so a fetch writes
    /// nothing unless it also archived records. A failed write is logged and retried with the next
    /// change; the in-memory state, which the change already altered, stays authoritative until then.
    /// </summary>
    public void AfterChange()
    {
        if (_disposed)
            return;
        var state = Persistable(Partition.ExportState());
        if (Persisted is null || !Same(Persisted.State, state))
        {
            var next = new StoredShareState(state, (Persisted?.SnapshotEpoch ?? -1) + 1, Persisted?.CreateTimestamp ?? _time.GetUtcNow().ToUnixTimeMilliseconds());
            try
            {
                _store.Write(Key, next);
                Persisted = next;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Writing the state of share-partition {Group} {Topic}-{Partition} failed; it is retried with the next change",
                    Key.GroupId, Key.TopicId, Key.Partition);
            }
        }
        ArmLockTimer();
    }

    /// <summary>Replaces what is known to be persisted (after the state was rewritten elsewhere, e.g. by admin).</summary>
    public void SetPersisted(StoredShareState state) => Persisted = state;

    private void ArmLockTimer()
    {
        var next = Partition.NextLockExpiry();
        // A little after the deadline, so the expiry check then finds it passed.
        _lockTimer.Change(next is { } due ? due + TimeSpan.FromMilliseconds(1) : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void OnLockTimer()
    {
        try
        {
            long released;
            lock (Gate)
            {
                if (_disposed)
                    return;
                released = Partition.ExpireLocks();
                AfterChange();
            }
            if (released > 0)
                _changed();
        }
        catch (Exception e)
        {
            // A timer callback must never throw: that would end the process.
            _logger.LogError(e, "Lock expiry of share-partition {Group} {Topic}-{Partition} failed", Key.GroupId, Key.TopicId, Key.Partition);
        }
    }

    /// <summary>
    /// The state as it is written: offsets available with no delivery yet are left out, since a
    /// load gives the offsets no batch covers exactly that state, so the snapshot changes only
    /// when something persisted did.
    /// </summary>
    public static ShareState Persistable(ShareState state)
    {
        if (!state.Batches.Any(IsFresh))
            return state;
        return state with { Batches = state.Batches.Where(b => !IsFresh(b)).ToList() };
    }

    private static bool IsFresh(ShareStateBatch b) => b.DeliveryState == RecordState.Available && b.DeliveryCount == 0;

    public static bool Same(ShareState a, ShareState b) =>
        a.StateEpoch == b.StateEpoch && a.StartOffset == b.StartOffset && a.DeliveryCompleteCount == b.DeliveryCompleteCount
        && a.Batches.SequenceEqual(b.Batches);

    public void Dispose()
    {
        lock (Gate)
            _disposed = true;
        _lockTimer.Dispose();
    }
}
