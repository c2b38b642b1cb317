using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Share;
using Samsa.Broker.Handlers;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Broker.Share;

/// <summary>What one acquisition took from a partition: the log read (kept until the response is sent), the slice of it to send, and the ranges acquired.</summary>
internal sealed record ShareAcquisition(LogRead Read, ReadOnlyMemory<byte> Records, IReadOnlyList<AcquiredRange> Ranges)
{
    public long Count => Ranges.Sum(r => r.LastOffset - r.FirstOffset + 1);
}

/// <summary>
/// The share-partitions of this broker and the share sessions that fetch from them (Kafka's
/// SharePartitionManager). A share-partition — one partition as one share group consumes it — is
/// created at its first fetch, from its persisted state if it has any, otherwise starting where
/// share.auto.offset.reset says; its state is written to __share_group_state (the
/// <see cref="IShareStateStore"/>) whenever what is persisted of it changes.
/// <para>
/// Each share-partition has its own lock (<see cref="ShareLeader.Gate"/>); log reads happen
/// outside it, and nothing here calls into the group coordinator while holding it. The coordinator
/// calls in (<see cref="IShareGroupListener"/>) when a member leaves, under its shard lock, which
/// is why that order — shard, then share-partition — is the only one.
/// </para>
/// </summary>
internal sealed class SharePartitionManager : IShareGroupListener, IDisposable
{
    private readonly ConcurrentDictionary<ShareKey, ShareLeader> _leaders = new();
    private readonly Lock _createLock = new();
    private readonly TopicManager _topics;
    private readonly IShareStateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AppendNotifier _changes = new();
    private Dictionary<ShareKey, StoredShareState> _stored = [];

    public SharePartitionManager(SharePartitionOptions options, ShareAutoOffsetReset reset, int maxSessions, TopicManager topics,
        IShareStateStore store, TimeProvider time, ILogger logger)
    {
        Options = options;
        Reset = reset;
        Sessions = new ShareSessionCache(maxSessions);
        _topics = topics;
        _store = store;
        _time = time;
        _logger = logger;
    }

    public SharePartitionOptions Options { get; }

    public ShareAutoOffsetReset Reset { get; }

    public ShareSessionCache Sessions { get; }

    public TopicManager Topics => _topics;

    /// <summary>Completes when records were released or acknowledged, so a waiting share fetch may find some to acquire.</summary>
    public Task NextChange => _changes.NextAppend;

    public void Changed() => _changes.Appended();

    public int AcquisitionLockTimeoutMs => (int)Options.RecordLockDuration.TotalMilliseconds;

    /// <summary>The group's configs (share.record.lock.duration.ms, share.auto.offset.reset); set once, before serving.</summary>
    public Groups.GroupConfigs? GroupConfigs
    {
        get => _groupConfigs;
        set
        {
            _groupConfigs = value;
            if (value is not null)
                value.Changed += OnGroupConfigChanged;
        }
    }

    private Groups.GroupConfigs? _groupConfigs;

    /// <summary>The lock duration a member of <paramref name="groupId"/> is told in its ShareFetch and ShareAcknowledge responses.</summary>
    public int AcquisitionLockTimeoutMsOf(string groupId) =>
        _groupConfigs is { } c ? (int)c.ShareRecordLockDuration(groupId).TotalMilliseconds : AcquisitionLockTimeoutMs;

    private SharePartitionOptions OptionsOf(string groupId) =>
        _groupConfigs is { } c ? Options with { RecordLockDuration = c.ShareRecordLockDuration(groupId) } : Options;

    private ShareAutoOffsetReset ResetOf(string groupId) =>
        _groupConfigs is { } c ? (c.ShareAutoOffsetReset(groupId) == "earliest" ? ShareAutoOffsetReset.Earliest : ShareAutoOffsetReset.Latest) : Reset;

    private void OnGroupConfigChanged(string groupId)
    {
        var duration = OptionsOf(groupId).RecordLockDuration;
        foreach (var (key, leader) in _leaders)
        {
            if (key.GroupId != groupId)
                continue;
            lock (leader.Gate)
                leader.Partition.SetLockDuration(duration);
        }
    }

    /// <summary>Reads what the store holds, before serving; state of topics deleted meanwhile is dropped.</summary>
    public void Load()
    {
        lock (_createLock)
            _stored = new Dictionary<ShareKey, StoredShareState>(_store.Load());
        ForgetDeletedTopics();
    }

    /// <summary>
    /// Topics changed: share-partitions of topics that no longer exist are dropped with their state
    /// (Kafka deletes share state when its topic is deleted). A topic created again has a new id.
    /// </summary>
    public void ForgetDeletedTopics()
    {
        try
        {
            foreach (var key in AllKeys().Where(k => _topics.FindById(k.TopicId) is null))
                Forget(key);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Dropping the share state of deleted topics failed");
        }
    }

    private List<ShareKey> AllKeys()
    {
        lock (_createLock)
            return _leaders.Keys.Concat(_stored.Keys).Distinct().ToList();
    }

    /// <summary>The log of a topic partition, or the error a share request answers for it.</summary>
    public ErrorCode TryGetLog(TopicIdPartition tp, out Topic topic, out PartitionLog log)
    {
        log = null!;
        topic = _topics.FindById(tp.TopicId)!;
        if (topic is null)
            return ErrorCode.UnknownTopicId;
        if (tp.Partition < 0 || tp.Partition >= topic.Partitions.Length)
            return ErrorCode.UnknownTopicOrPartition;
        log = topic.Partitions[tp.Partition];
        return ErrorCode.None;
    }

    /// <summary>The share-partition of a group and topic partition, created (and its start persisted) at first use.</summary>
    public ShareLeader GetOrCreate(ShareKey key, PartitionLog log)
    {
        if (_leaders.TryGetValue(key, out var leader))
            return leader;
        _store.Prepare();
        lock (_createLock)
        {
            if (_leaders.TryGetValue(key, out leader))
                return leader;
            SharePartition partition;
            StoredShareState? stored = _stored.GetValueOrDefault(key);
            if (stored is not null)
            {
                partition = SharePartition.Load(stored.State, OptionsOf(key.GroupId), _time, ResetOf(key.GroupId), log.LogStartOffset, log.LogEndOffset);
            }
            else
            {
                long start = SharePartition.InitialStartOffset(ResetOf(key.GroupId), log.LogStartOffset, log.LogEndOffset);
                partition = new SharePartition(OptionsOf(key.GroupId), _time, start);
            }
            leader = new ShareLeader(key, partition, stored, _store, _time, _logger, Changed);
            lock (leader.Gate)
                leader.AfterChange(); // a new share-partition's start is written at once, so a restart keeps it
            _leaders[key] = leader;
            _logger.LogDebug("Share-partition {Group} {Topic}-{Partition} starts at {Offset}", key.GroupId, key.TopicId, key.Partition, partition.StartOffset);
            return leader;
        }
    }

    public ShareLeader? Find(ShareKey key) => _leaders.GetValueOrDefault(key);

    /// <summary>
    /// Acquires records for a member: reads the log from the share-partition's next fetch offset
    /// (outside its lock), then takes what is still free under the lock. A read that another
    /// member's acquisition overtook is retried from the new fetch offset.
    /// </summary>
    public static ShareAcquisition? Acquire(ShareLeader leader, PartitionLog log, string memberId, int maxRecords, int batchSize, ShareAcquireMode mode, int maxBytes,
        bool readCommitted = false)
    {
        for (int attempt = 0; attempt < 4; attempt++)
        {
            long fetchOffset;
            bool full;
            lock (leader.Gate)
            {
                var partition = leader.Partition;
                partition.AdvanceToLogStart(log.LogStartOffset);
                fetchOffset = partition.NextFetchOffset();
                // Nothing available in flight and no room for new records: reading the log would be for nothing.
                full = fetchOffset > partition.EndOffset && partition.InFlightCount >= partition.Options.MaxInFlightRecords;
                leader.AfterChange();
            }
            // share.isolation.level=read_committed: nothing at or past the last stable offset (a batch
            // boundary: the first batch of the oldest open transaction).
            long end = readCommitted ? log.LastStableOffset : log.LogEndOffset;
            if (full || fetchOffset >= end)
                return null;
            var read = log.Read(fetchOffset, Math.Max(maxBytes, 1));
            var aborted = readCommitted ? log.CollectAbortedTransactions(fetchOffset, end) : null;
            var (ranges, ends, abortedRanges) = Batches(read.Memory, end, aborted);
            if (ranges.Length == 0)
            {
                read.Dispose();
                return null;
            }
            IReadOnlyList<AcquiredRange> acquired;
            bool overtaken;
            lock (leader.Gate)
            {
                try
                {
                    acquired = leader.Partition.Acquire(memberId, fetchOffset, ranges, maxRecords, batchSize, mode);
                }
                catch (ArgumentOutOfRangeException)
                {
                    // The log start moved past everything in flight meanwhile: read again.
                    acquired = [];
                }
                if (abortedRanges.Count > 0 && acquired.Count > 0)
                {
                    // Records of aborted transactions are archived, never delivered (as Kafka's share
                    // partitions do under read_committed); what is left goes to the member.
                    foreach (var range in Intersect(acquired, abortedRanges))
                        leader.Partition.Acknowledge(memberId, [new ShareAcknowledgement(range.First, range.Last, [(sbyte)AcknowledgeType.Reject])]);
                    acquired = Subtract(acquired, abortedRanges);
                    overtaken = acquired.Count == 0;
                }
                else
                {
                    overtaken = acquired.Count == 0 && leader.Partition.NextFetchOffset() != fetchOffset;
                }
                leader.AfterChange();
            }
            if (acquired.Count == 0)
            {
                read.Dispose();
                if (overtaken)
                    continue;
                return null;
            }
            // Send the batches that hold acquired offsets (whole batches; the client keeps only the acquired ones).
            int first = 0;
            while (ranges[first].Last < acquired[0].FirstOffset)
                first++;
            int last = ranges.Length - 1;
            while (ranges[last].First > acquired[^1].LastOffset)
                last--;
            int start = first == 0 ? 0 : ends[first - 1];
            return new ShareAcquisition(read, read.Memory[start..ends[last]], acquired);
        }
        return null;
    }

    /// <summary>
    /// The batches of a log read below <paramref name="end"/>: their offset ranges, where each ends in
    /// the buffer, and the ranges of those that belong to one of the <paramref name="aborted"/> transactions.
    /// </summary>
    private static (OffsetRange[] Ranges, int[] Ends, List<OffsetRange> Aborted) Batches(ReadOnlyMemory<byte> memory, long end, List<AbortedTransaction>? aborted)
    {
        var ranges = new List<OffsetRange>();
        var ends = new List<int>();
        var abortedRanges = new List<OffsetRange>();
        var span = memory.Span;
        int at = 0;
        while (at + RecordBatchHeader.Size <= span.Length)
        {
            var header = RecordBatchHeader.Read(span[at..]);
            if (header.TotalSize <= 0 || at + header.TotalSize > span.Length || header.BaseOffset >= end)
                break;
            at += header.TotalSize;
            ranges.Add(new OffsetRange(header.BaseOffset, header.LastOffset));
            ends.Add(at);
            if (aborted is not null && InAborted(aborted, header))
                abortedRanges.Add(new OffsetRange(header.BaseOffset, header.LastOffset));
        }
        return ([.. ranges], [.. ends], abortedRanges);
    }

    private static bool InAborted(List<AbortedTransaction> aborted, in RecordBatchHeader header)
    {
        foreach (var txn in aborted)
        {
            if (txn.Covers(header))
                return true;
        }
        return false;
    }

    private static IEnumerable<OffsetRange> Intersect(IReadOnlyList<AcquiredRange> acquired, List<OffsetRange> ranges)
    {
        foreach (var a in acquired)
        {
            foreach (var r in ranges)
            {
                long first = Math.Max(a.FirstOffset, r.First), last = Math.Min(a.LastOffset, r.Last);
                if (first <= last)
                    yield return new OffsetRange(first, last);
            }
        }
    }

    /// <summary>The acquired ranges less the given ones (sorted, disjoint).</summary>
    private static List<AcquiredRange> Subtract(IReadOnlyList<AcquiredRange> acquired, List<OffsetRange> removed)
    {
        var result = new List<AcquiredRange>();
        foreach (var a in acquired)
        {
            long next = a.FirstOffset;
            foreach (var r in removed)
            {
                if (r.Last < next || r.First > a.LastOffset)
                    continue;
                if (r.First > next)
                    result.Add(a with { FirstOffset = next, LastOffset = r.First - 1 });
                next = r.Last + 1;
            }
            if (next <= a.LastOffset)
                result.Add(a with { FirstOffset = next });
        }
        return result;
    }

    /// <summary>Applies one partition's acknowledgements for a member (all or none).</summary>
    public ErrorCode Acknowledge(ShareKey key, string memberId, IReadOnlyList<ShareAcknowledgement> batches)
    {
        // Kafka answers acknowledgements for a share-partition it has not got with UNKNOWN_TOPIC_OR_PARTITION.
        if (Find(key) is not { } leader)
            return ErrorCode.UnknownTopicOrPartition;
        ErrorCode error;
        lock (leader.Gate)
        {
            error = leader.Partition.Acknowledge(memberId, batches);
            if (error == ErrorCode.None)
                leader.AfterChange();
        }
        if (error == ErrorCode.None)
            Changed();
        return error;
    }

    /// <summary>Gives back what a member holds in the given share-partitions (its session closed).</summary>
    public void Release(string groupId, string memberId, IEnumerable<TopicIdPartition> partitions)
    {
        long released = 0;
        foreach (var tp in partitions)
        {
            if (Find(new ShareKey(groupId, tp.TopicId, tp.Partition)) is not { } leader)
                continue;
            lock (leader.Gate)
            {
                released += leader.Partition.ReleaseMember(memberId);
                leader.AfterChange();
            }
        }
        if (released > 0)
            Changed();
    }

    /// <summary>
    /// How long a member that left its group (rather than being fenced) has to close its share
    /// session. Clients leave the group first and then send their last acknowledgements on the
    /// session (librdkafka does), so releasing at the leave would lose those and deliver the records
    /// again; Kafka, which never ties the two, releases at the session's close or when the
    /// connection drops. Here the records go back at the close, or after this grace.
    /// </summary>
    public static readonly TimeSpan LeaveGrace = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<(string Group, string Member), ITimer> _leaving = new();

    /// <summary>
    /// A member left or was fenced. Fenced (or without a session): its session closes and every
    /// share-partition of the group gives back what it held, at once. Left: its session acquires
    /// nothing more and closes — giving everything back — when the member closes it or after <see cref="LeaveGrace"/>.
    /// </summary>
    public void MemberLeft(string groupId, string memberId, bool fenced)
    {
        var session = Sessions.Get(groupId, memberId);
        if (fenced || session is null)
        {
            if (session is not null)
                Sessions.Remove(groupId, memberId, session);
            CancelLeave(groupId, memberId);
            ReleaseEverywhere(groupId, memberId);
            return;
        }
        session.Leaving = true;
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            try
            {
                if (_leaving.TryRemove(new KeyValuePair<(string, string), ITimer>((groupId, memberId), timer!)))
                    timer!.Dispose();
                if (Sessions.Remove(groupId, memberId, session))
                    ReleaseEverywhere(groupId, memberId);
            }
            catch (Exception e)
            {
                // A timer callback must never throw: that would end the process.
                _logger.LogError(e, "Releasing what member {Member} of share group {Group} held failed", memberId, groupId);
            }
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_leaving.TryRemove((groupId, memberId), out var previous))
            previous.Dispose();
        _leaving[(groupId, memberId)] = timer;
        timer.Change(LeaveGrace, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Closes a member's session (a final ShareFetch or ShareAcknowledge, after its
    /// acknowledgements): what it holds goes back — in its session's partitions, or in all of the
    /// group's when it already left the group.
    /// </summary>
    public void CloseSession(string groupId, string memberId)
    {
        if (Sessions.Remove(groupId, memberId) is not { } closed)
            return;
        if (closed.Leaving)
        {
            CancelLeave(groupId, memberId);
            ReleaseEverywhere(groupId, memberId);
        }
        else
        {
            Release(groupId, memberId, closed.Partitions);
        }
    }

    private void CancelLeave(string groupId, string memberId)
    {
        if (_leaving.TryRemove((groupId, memberId), out var timer))
            timer.Dispose();
    }

    private void ReleaseEverywhere(string groupId, string memberId) =>
        Release(groupId, memberId, _leaders.Keys.Where(k => k.GroupId == groupId).Select(k => k.TopicPartition).ToList());

    /// <summary>A share group was deleted: its sessions close and its share-partitions and their state go.</summary>
    public void GroupDeleted(string groupId)
    {
        Sessions.RemoveGroup(groupId);
        lock (_createLock)
        {
            var keys = _leaders.Keys.Where(k => k.GroupId == groupId).Concat(_stored.Keys.Where(k => k.GroupId == groupId)).Distinct().ToList();
            foreach (var key in keys)
            {
                if (_leaders.TryRemove(key, out var leader))
                    leader.Dispose();
                _stored.Remove(key);
                try
                {
                    _store.Delete(key);
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Deleting the state of share-partition {Group} {Topic}-{Partition} failed", key.GroupId, key.TopicId, key.Partition);
                }
            }
        }
    }

    // ---- admin (DescribeShareGroupOffsets, AlterShareGroupOffsets, DeleteShareGroupOffsets) ----

    /// <summary>What a share-partition persists now: the live state if it has been fetched since the start, else what was loaded; null for none.</summary>
    public ShareState? StateOf(ShareKey key)
    {
        if (Find(key) is { } leader)
        {
            lock (leader.Gate)
                return leader.Partition.ExportState();
        }
        lock (_createLock)
            return _stored.GetValueOrDefault(key)?.State;
    }

    /// <summary>Every share-partition of a group that has state.</summary>
    public IReadOnlyList<ShareKey> KeysOf(string groupId)
    {
        lock (_createLock)
            return _leaders.Keys.Where(k => k.GroupId == groupId).Concat(_stored.Keys.Where(k => k.GroupId == groupId)).Distinct().ToList();
    }

    /// <summary>
    /// Starts a share-partition over at <paramref name="startOffset"/> (AlterShareGroupOffsets, for
    /// an empty group): whatever was in flight is forgotten, and the state epoch moves on, as
    /// Kafka's re-initialisation does. The new state is written before this returns.
    /// </summary>
    public void ResetStart(ShareKey key, PartitionLog log, long startOffset)
    {
        _store.Prepare();
        lock (_createLock)
        {
            int epoch = (StateOf(key)?.StateEpoch ?? -1) + 1;
            if (_leaders.TryRemove(key, out var old))
                old.Dispose();
            var partition = new SharePartition(Options, _time, Math.Max(startOffset, 0), epoch);
            partition.AdvanceToLogStart(log.LogStartOffset);
            var previous = _stored.GetValueOrDefault(key);
            var leader = new ShareLeader(key, partition, previous, _store, _time, _logger, Changed);
            lock (leader.Gate)
                leader.AfterChange();
            _leaders[key] = leader;
            if (leader.Persisted is { } written)
                _stored[key] = written;
        }
        Changed();
    }

    /// <summary>Forgets a share-partition's state (DeleteShareGroupOffsets): its next fetch starts where share.auto.offset.reset says.</summary>
    public void Forget(ShareKey key)
    {
        lock (_createLock)
        {
            if (_leaders.TryRemove(key, out var leader))
                leader.Dispose();
            _stored.Remove(key);
            _store.Delete(key);
        }
    }

    public void Dispose()
    {
        foreach (var timer in _leaving.Values)
            timer.Dispose();
        _leaving.Clear();
        foreach (var leader in _leaders.Values)
            leader.Dispose();
        _leaders.Clear();
    }
}
