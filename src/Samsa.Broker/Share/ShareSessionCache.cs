using Samsa.Protocol;

namespace Samsa.Broker.Share;

/// <summary>One partition of a topic, by topic id, as share sessions and requests name it.</summary>
internal readonly record struct TopicIdPartition(Guid TopicId, int Partition);

/// <summary>
/// A share session (Kafka's ShareSession): the partitions a member fetches from on this broker and
/// the epoch its next request must carry. Owned by <see cref="ShareSessionCache"/>; its fields
/// change only under the cache's lock.
/// </summary>
internal sealed class ShareSession(string groupId, string memberId)
{
    private readonly Lock _lock = new();
    private readonly List<TopicIdPartition> _partitions = [];
    private readonly HashSet<TopicIdPartition> _set = [];
    private int _cursor;

    public string GroupId { get; } = groupId;

    public string MemberId { get; } = memberId;

    /// <summary>The epoch the next request must carry (changed under the cache's lock).</summary>
    public int Epoch { get; set; } = 1;

    /// <summary>Set when the member left its group: the session takes acknowledgements but acquires nothing more.</summary>
    public bool Leaving
    {
        get => Volatile.Read(ref _leaving);
        set => Volatile.Write(ref _leaving, value);
    }

    private bool _leaving;

    /// <summary>Where the next fetch starts going round the partitions, so none is always last.</summary>
    public int Cursor
    {
        get => Volatile.Read(ref _cursor);
        set => Volatile.Write(ref _cursor, value);
    }

    /// <summary>The session's partitions, in the order they were added.</summary>
    public TopicIdPartition[] Partitions
    {
        get
        {
            lock (_lock)
                return [.. _partitions];
        }
    }

    public void Add(TopicIdPartition partition)
    {
        lock (_lock)
        {
            if (_set.Add(partition))
                _partitions.Add(partition);
        }
    }

    public void Remove(TopicIdPartition partition)
    {
        lock (_lock)
        {
            if (_set.Remove(partition))
                _partitions.Remove(partition);
        }
    }
}

/// <summary>What a ShareFetch's session check decided.</summary>
internal enum ShareFetchKind
{
    /// <summary>Epoch 0: a new session with exactly the request's partitions.</summary>
    Full,

    /// <summary>An existing session, updated with the request's partitions and forgotten ones.</summary>
    Incremental,

    /// <summary>Epoch -1: acknowledge, then close the session and release what the member holds.</summary>
    Final,
}

/// <summary>
/// The broker's share sessions, keyed by group and member id (Kafka's ShareSessionCache and
/// SharePartitionManager.newContext/acknowledgeSessionUpdate). The rules, as Kafka answers them:
/// <list type="bullet">
/// <item>ShareFetch epoch 0 opens a session (replacing the member's old one), INVALID_REQUEST if it
/// carries acknowledgements, SHARE_SESSION_LIMIT_REACHED when group.share.max.share.sessions are
/// open already; the next request must carry epoch 1.</item>
/// <item>A positive epoch needs the session (SHARE_SESSION_NOT_FOUND) at exactly that epoch
/// (INVALID_SHARE_SESSION_EPOCH); the session then moves to the next epoch (wrapping to 1).</item>
/// <item>Epoch -1 needs the session and closes it.</item>
/// <item>ShareAcknowledge cannot open a session: epoch 0 is INVALID_SHARE_SESSION_EPOCH.</item>
/// </list>
/// Kafka also drops a session when its client's connection closes; this broker drops it when the
/// member is fenced, or shortly after it leaves (see <see cref="SharePartitionManager.MemberLeft"/>),
/// and the member's unacknowledged records are released then (or when their locks expire).
/// </summary>
internal sealed class ShareSessionCache(int maxSessions)
{
    public const int InitialEpoch = 0;
    public const int FinalEpoch = -1;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Group, string Member), ShareSession> _sessions = [];

    public int Count
    {
        get
        {
            lock (_lock)
                return _sessions.Count;
        }
    }

    public static int NextEpoch(int epoch) => epoch < 0 ? FinalEpoch : epoch == int.MaxValue ? 1 : epoch + 1;

    public ShareSession? Get(string groupId, string memberId)
    {
        lock (_lock)
            return _sessions.GetValueOrDefault((groupId, memberId));
    }

    /// <summary>The session check of a ShareFetch; on success the session (and its new epoch) is in place.</summary>
    public (ErrorCode Error, ShareSession? Session, ShareFetchKind Kind) BeginFetch(string groupId, string memberId, int epoch,
        IReadOnlyList<TopicIdPartition> partitions, IReadOnlyList<TopicIdPartition> forgotten, bool hasAcknowledgements)
    {
        lock (_lock)
        {
            var key = (groupId, memberId);
            if (epoch == FinalEpoch)
            {
                return _sessions.TryGetValue(key, out var closing)
                    ? (ErrorCode.None, closing, ShareFetchKind.Final)
                    : (ErrorCode.ShareSessionNotFound, null, ShareFetchKind.Final);
            }
            if (epoch == InitialEpoch)
            {
                if (hasAcknowledgements)
                    return (ErrorCode.InvalidRequest, null, ShareFetchKind.Full);
                _sessions.Remove(key);
                if (_sessions.Count >= maxSessions)
                    return (ErrorCode.ShareSessionLimitReached, null, ShareFetchKind.Full);
                var session = new ShareSession(groupId, memberId) { Epoch = NextEpoch(InitialEpoch) };
                foreach (var p in partitions)
                    session.Add(p);
                _sessions[key] = session;
                return (ErrorCode.None, session, ShareFetchKind.Full);
            }
            if (!_sessions.TryGetValue(key, out var existing))
                return (ErrorCode.ShareSessionNotFound, null, ShareFetchKind.Incremental);
            if (existing.Epoch != epoch)
                return (ErrorCode.InvalidShareSessionEpoch, null, ShareFetchKind.Incremental);
            foreach (var p in partitions)
                existing.Add(p);
            foreach (var p in forgotten)
                existing.Remove(p);
            existing.Epoch = NextEpoch(epoch);
            return (ErrorCode.None, existing, ShareFetchKind.Incremental);
        }
    }

    /// <summary>The session check of a ShareAcknowledge; epoch -1 leaves the session for the caller to close.</summary>
    public (ErrorCode Error, ShareSession? Session) BeginAcknowledge(string groupId, string memberId, int epoch)
    {
        lock (_lock)
        {
            if (epoch == InitialEpoch)
                return (ErrorCode.InvalidShareSessionEpoch, null);
            if (!_sessions.TryGetValue((groupId, memberId), out var session))
                return (ErrorCode.ShareSessionNotFound, null);
            if (epoch == FinalEpoch)
                return (ErrorCode.None, session);
            if (session.Epoch != epoch)
                return (ErrorCode.InvalidShareSessionEpoch, null);
            session.Epoch = NextEpoch(epoch);
            return (ErrorCode.None, session);
        }
    }

    /// <summary>Closes a member's session; returns it, or null when it had none.</summary>
    public ShareSession? Remove(string groupId, string memberId)
    {
        lock (_lock)
            return _sessions.Remove((groupId, memberId), out var session) ? session : null;
    }

    /// <summary>Closes the member's session if it is still <paramref name="expected"/> (not replaced by a new one).</summary>
    public bool Remove(string groupId, string memberId, ShareSession expected)
    {
        lock (_lock)
        {
            if (!_sessions.TryGetValue((groupId, memberId), out var session) || !ReferenceEquals(session, expected))
                return false;
            _sessions.Remove((groupId, memberId));
            return true;
        }
    }

    /// <summary>Closes every session of a group (the group was deleted).</summary>
    public void RemoveGroup(string groupId)
    {
        lock (_lock)
        {
            foreach (var key in _sessions.Keys.Where(k => k.Group == groupId).ToList())
                _sessions.Remove(key);
        }
    }
}
