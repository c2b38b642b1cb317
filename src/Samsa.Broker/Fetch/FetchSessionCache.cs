using Samsa.Protocol;

namespace Samsa.Broker.Fetch;

/// <summary>A partition a fetch asks for, as the session remembers it.</summary>
internal readonly record struct FetchPartition(string Topic, int Partition);

internal sealed record FetchPartitionRequest(FetchPartition Key, long FetchOffset, int MaxBytes, long LogStartOffset, int CurrentLeaderEpoch);

/// <summary>
/// Incremental fetch sessions (KIP-227). A consumer fetching hundreds of partitions sends the full
/// list once (epoch 0), then only what changed; the broker answers only partitions with news.
/// Pure state: the Fetch handler asks it what to fetch and what to send; time comes from a
/// TimeProvider so idle-session eviction is tested with fake time. Not thread-safe: the Fetch
/// handler calls it under its own lock (sessions are per consumer, contention is low).
/// </summary>
internal sealed class FetchSessionCache(int maxSessions, TimeSpan idleTimeout, TimeProvider time)
{
    public const int InitialEpoch = 0;
    public const int FinalEpoch = -1;

    private readonly Dictionary<int, FetchSession> _sessions = [];
    private int _nextId = Random.Shared.Next(1, int.MaxValue / 2);

    public int Count => _sessions.Count;

    /// <summary>
    /// Resolves a fetch request against the cache. The result lists every partition to read (the
    /// request's for a full fetch, the session's for an incremental one), or an error:
    /// FETCH_SESSION_ID_NOT_FOUND for an unknown session, INVALID_FETCH_SESSION_EPOCH for a
    /// reordered or replayed request.
    /// </summary>
    public FetchContext Begin(int sessionId, int epoch, IReadOnlyList<FetchPartitionRequest> partitions, IReadOnlyList<FetchPartition> forgotten)
    {
        EvictIdle();
        if (epoch == FinalEpoch)
        {
            // A sessionless full fetch; with a session id it also closes that session.
            if (sessionId != 0)
                _sessions.Remove(sessionId);
            return new FetchContext(null, ErrorCode.None, partitions, incremental: false);
        }

        if (epoch == InitialEpoch)
        {
            if (sessionId != 0)
                _sessions.Remove(sessionId);
            FetchSession? session = null;
            if (_sessions.Count < maxSessions || EvictOldest())
            {
                session = new FetchSession(NextId(), time.GetTimestamp());
                foreach (var p in partitions)
                    session.Partitions[p.Key] = new CachedPartition(p);
                _sessions.Add(session.Id, session);
            }
            // A full cache still serves the fetch, with session id 0: the client stays sessionless.
            return new FetchContext(session, ErrorCode.None, partitions, incremental: false);
        }

        if (!_sessions.TryGetValue(sessionId, out var existing))
            return new FetchContext(null, ErrorCode.FetchSessionIdNotFound, [], incremental: true);
        if (existing.Epoch != epoch)
            return new FetchContext(null, ErrorCode.InvalidFetchSessionEpoch, [], incremental: true);

        foreach (var f in forgotten)
            existing.Partitions.Remove(f);
        foreach (var p in partitions)
        {
            if (existing.Partitions.TryGetValue(p.Key, out var cached))
                cached.Request = p;
            else
                existing.Partitions[p.Key] = new CachedPartition(p);
        }
        existing.LastUsed = time.GetTimestamp();
        var all = existing.Partitions.Values.Select(c => c.Request).ToList();
        return new FetchContext(existing, ErrorCode.None, all, incremental: true);
    }

    private int NextId()
    {
        do
        {
            _nextId = _nextId == int.MaxValue ? 1 : _nextId + 1;
        }
        while (_sessions.ContainsKey(_nextId));
        return _nextId;
    }

    private void EvictIdle()
    {
        foreach (var id in _sessions.Values.Where(s => time.GetElapsedTime(s.LastUsed) > idleTimeout).Select(s => s.Id).ToList())
            _sessions.Remove(id);
    }

    private bool EvictOldest()
    {
        if (_sessions.Count == 0)
            return false;
        var oldest = _sessions.Values.MinBy(s => s.LastUsed)!;
        _sessions.Remove(oldest.Id);
        return true;
    }

    internal sealed class FetchSession(int id, long created)
    {
        public int Id { get; } = id;

        /// <summary>The epoch the next incremental request must carry; 0 until the first response is sent.</summary>
        public int Epoch { get; set; }

        public long LastUsed { get; set; } = created;

        public Dictionary<FetchPartition, CachedPartition> Partitions { get; } = [];
    }

    internal sealed class CachedPartition(FetchPartitionRequest request)
    {
        public FetchPartitionRequest Request { get; set; } = request;

        public long? HighWatermark { get; set; }

        public long? LastStableOffset { get; set; }

        public long? LogStartOffset { get; set; }
    }
}

/// <summary>One fetch resolved against the session cache.</summary>
internal sealed class FetchContext
{
    private readonly FetchSessionCache.FetchSession? _session;

    internal FetchContext(FetchSessionCache.FetchSession? session, ErrorCode error, IReadOnlyList<FetchPartitionRequest> partitions, bool incremental)
    {
        _session = session;
        Error = error;
        Partitions = partitions;
        IsIncremental = incremental;
    }

    public ErrorCode Error { get; }

    /// <summary>The session id to put in the response: 0 when sessionless.</summary>
    public int SessionId => _session?.Id ?? 0;

    public IReadOnlyList<FetchPartitionRequest> Partitions { get; }

    public bool IsIncremental { get; }

    /// <summary>
    /// Whether a partition goes into the response. Full fetches answer every partition; incremental
    /// ones only those with records, an error, or a changed high watermark, last stable offset or
    /// log start offset — the consumer's view of lag depends on those. Records what was sent.
    /// </summary>
    public bool ShouldInclude(FetchPartition key, bool hasRecords, ErrorCode error, long highWatermark, long lastStableOffset, long logStartOffset)
    {
        FetchSessionCache.CachedPartition? cached = null;
        bool changed = _session is null || !_session.Partitions.TryGetValue(key, out cached)
            || cached.HighWatermark != highWatermark || cached.LastStableOffset != lastStableOffset || cached.LogStartOffset != logStartOffset;
        if (cached is not null)
        {
            cached.HighWatermark = highWatermark;
            cached.LastStableOffset = lastStableOffset;
            cached.LogStartOffset = logStartOffset;
        }
        return !IsIncremental || hasRecords || error != ErrorCode.None || changed;
    }

    /// <summary>Called once the response is built: the session expects the next epoch.</summary>
    public void Complete()
    {
        if (_session is not null && Error == ErrorCode.None)
            _session.Epoch = _session.Epoch == int.MaxValue ? 1 : _session.Epoch + 1;
    }
}
