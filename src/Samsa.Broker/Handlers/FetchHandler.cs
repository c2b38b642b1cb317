using Samsa.Broker.Fetch;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Storage;

namespace Samsa.Broker.Handlers;

// Fetch v0-18. Whole batches from the log within partition_max_bytes and the response's max_bytes;
// only the first partition with data may exceed them, by one batch, so a consumer always makes
// progress. fetch.min.bytes / fetch.max.wait.ms long-poll until enough bytes arrive; incremental
// fetch sessions (KIP-227) from v7; topic ids from v13.
// Single node: high watermark = log end. Every response carries the partition's real last stable
// offset (the first offset of its oldest open transaction). read_committed (isolation_level 1, v4+)
// readers get only whole batches below it (a cut on a batch boundary of the bytes read, nothing
// re-encoded), the aborted transactions overlapping what they were sent (from the segments'
// .txnindex; they drop those records themselves), and min_bytes counts only bytes below it; a
// marker that moves it wakes waiting fetches. read_uncommitted readers read to the log end, with
// no aborted-transaction list. Not implemented yet: sending file ranges without copying (data goes
// through pooled buffers), and fetch from follower / preferred read replica.
// With an authorizer each topic needs READ (else TOPIC_AUTHORIZATION_FAILED), asked once per topic.
internal sealed class FetchHandler(TopicManager topics, BrokerOptions options, AppendNotifier appends, FetchObserver? observer = null) : IApiHandler
{
    // What a read_committed answer with nothing aborted carries; never added to (a list is made when there are entries).
    private static readonly List<FetchResponse.AbortedTransaction> NoAbortedTransactions = [];

    private readonly FetchSessionCache _sessions = new(1000, TimeSpan.FromMinutes(2), options.TimeProvider);
    private readonly Lock _sessionLock = new();

    public ApiKey Key => ApiKey.Fetch;

    public async ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (FetchRequest)request;
        bool byId = context.ApiVersion >= 13;
        var requested = new List<FetchPartitionRequest>();
        foreach (var t in r.Topics)
        {
            string name = byId ? topics.FindById(t.TopicId)?.Name ?? "\u0000" + t.TopicId : t.Topic;
            foreach (var p in t.Partitions)
                requested.Add(new FetchPartitionRequest(new FetchPartition(name, p.Partition), p.FetchOffset, p.PartitionMaxBytes, p.LogStartOffset, p.CurrentLeaderEpoch));
        }
        var forgotten = r.ForgottenTopicsData
            .SelectMany(f => f.Partitions.Select(p => new FetchPartition(byId ? topics.FindById(f.TopicId)?.Name ?? "\u0000" + f.TopicId : f.Topic, p)))
            .ToList();

        FetchContext session;
        lock (_sessionLock)
            session = context.ApiVersion >= 7 ? _sessions.Begin(r.SessionId, r.SessionEpoch, requested, forgotten) : _sessions.Begin(0, FetchSessionCache.FinalEpoch, requested, []);
        if (session.Error != ErrorCode.None)
            return new FetchResponse { ErrorCode = session.Error, SessionId = 0 };
        observer?.Fetched(context.ClientId, context.ClientAddress, session.Partitions);

        if (!await WaitForDataAsync(context, session, r, cancellationToken).ConfigureAwait(false))
        {
            // The client is gone: nobody to answer, and its session moves on as if it had been.
            lock (_sessionLock)
                session.Complete();
            return null;
        }

        var response = Build(context, session, r.MaxBytes, byId, ReadCommitted(context, r));
        lock (_sessionLock)
            session.Complete();
        return response;
    }

    private static bool ReadCommitted(RequestContext context, FetchRequest r) => context.ApiVersion >= 4 && r.IsolationLevel == 1;

    /// <summary>
    /// Waits until min_bytes are there, max_wait_ms passed, or the broker stops (then the fetch is
    /// answered with what there is). False when the client closed its connection meanwhile: a wait
    /// must not hold a socket for a client that left (max_wait_ms can be days).
    /// </summary>
    private async Task<bool> WaitForDataAsync(RequestContext context, FetchContext session, FetchRequest r, CancellationToken shutdown)
    {
        var start = options.TimeProvider.GetTimestamp();
        var maxWait = TimeSpan.FromMilliseconds(Math.Max(0, r.MaxWaitMs));
        CancellationTokenSource? waiting = null;
        Task? gone = null;
        try
        {
            while (true)
            {
                var woken = appends.NextAppend;
                if (r.MaxWaitMs <= 0 || shutdown.IsCancellationRequested || AvailableBytes(session.Partitions, r.MinBytes, ReadCommitted(context, r)) >= Math.Max(1, r.MinBytes))
                    return true;
                var left = maxWait - options.TimeProvider.GetElapsedTime(start);
                if (left <= TimeSpan.Zero)
                    return true;
                waiting ??= CancellationTokenSource.CreateLinkedTokenSource(shutdown);
                gone ??= context.Session.WhenClientGone?.Invoke(waiting.Token) ?? Task.Delay(Timeout.Infinite, waiting.Token);
                var timeout = Task.Delay(left, options.TimeProvider, waiting.Token);
                var first = await Task.WhenAny(woken, timeout, gone).ConfigureAwait(false);
                if (first == gone && !shutdown.IsCancellationRequested)
                    return false;
                if (first == timeout)
                    return true;
            }
        }
        finally
        {
            if (waiting is not null)
            {
                await waiting.CancelAsync().ConfigureAwait(false);
                waiting.Dispose();
            }
        }
    }

    /// <summary>What the fetch could be sent now: read_committed readers count only bytes below the last stable offset.</summary>
    private long AvailableBytes(IReadOnlyList<FetchPartitionRequest> partitions, int enough, bool readCommitted)
    {
        long total = 0;
        foreach (var p in partitions)
        {
            if (!TryGetLog(p.Key, out var log))
                continue;
            long end = readCommitted ? log.LastStableOffset : log.LogEndOffset;
            if (p.FetchOffset >= end)
                continue;
            total += log.BytesAfter(p.FetchOffset, enough - total, readCommitted ? end : long.MaxValue);
            if (total >= enough)
                return total;
        }
        return total;
    }

    private bool TryGetLog(FetchPartition key, out PartitionLog log)
    {
        log = null!;
        if (!topics.TryGet(key.Topic, out var topic) || key.Partition < 0 || key.Partition >= topic.Partitions.Length)
            return false;
        log = topic.Partitions[key.Partition];
        return true;
    }

    private FetchResponse Build(RequestContext context, FetchContext session, int maxBytes, bool byId, bool readCommitted)
    {
        var response = new FetchResponse { SessionId = session.SessionId };
        var byTopic = new Dictionary<string, FetchResponse.FetchableTopicResponse>(StringComparer.Ordinal);
        long budget = maxBytes <= 0 ? int.MaxValue : maxBytes;
        bool sentAny = false;
        // READ per topic, asked once per topic of the request (and not at all without an authorizer).
        Dictionary<string, bool>? readable = context.Authorizer is null ? null : new(StringComparer.Ordinal);
        foreach (var p in session.Partitions)
        {
            // As Kafka: read_committed answers carry a list (empty when nothing was aborted), read_uncommitted null.
            var data = new FetchResponse.PartitionData { PartitionIndex = p.Key.Partition, Records = ReadOnlyMemory<byte>.Empty, AbortedTransactions = readCommitted ? NoAbortedTransactions : null };
            long hw = -1, lso = -1, logStart = -1;
            bool hasRecords = false;
            if (readable is not null && !MayRead(context, readable, p.Key.Topic))
            {
                data.ErrorCode = ErrorCode.TopicAuthorizationFailed;
            }
            else if (!TryGetLog(p.Key, out var log))
            {
                data.ErrorCode = byId ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition;
            }
            else
            {
                // The LSO first: read before the log end, it can never be above it.
                lso = log.LastStableOffset;
                hw = log.LogEndOffset;
                logStart = log.LogStartOffset;
                long fetchable = readCommitted ? lso : hw;
                if (p.FetchOffset < logStart || p.FetchOffset > hw)
                {
                    data.ErrorCode = ErrorCode.OffsetOutOfRange;
                }
                else if (p.FetchOffset < fetchable && (budget > 0 || !sentAny))
                {
                    // Kafka's minOneMessage: only the first partition with data may go past the
                    // limits (by its one first batch, so a consumer always progresses); every later
                    // one gets whole batches within what is left, so the response never exceeds max_bytes.
                    int limit = (int)Math.Min(p.MaxBytes, Math.Max(budget, 0));
                    var read = log.Read(p.FetchOffset, limit, minOneBatch: !sentAny, maxOffset: readCommitted ? lso : long.MaxValue);
                    context.RegisterForDispose(read);
                    if (read.Length > 0)
                    {
                        data.Records = read.Memory;
                        budget -= read.Length;
                        sentAny = hasRecords = true;
                        if (readCommitted)
                            AddAbortedTransactions(data, log, p.FetchOffset, read.LastOffset + 1);
                    }
                }
            }
            data.HighWatermark = hw;
            data.LastStableOffset = lso;
            data.LogStartOffset = logStart;
            if (!session.ShouldInclude(p.Key, hasRecords, data.ErrorCode, hw, lso, logStart))
                continue;
            if (!byTopic.TryGetValue(p.Key.Topic, out var topicResponse))
            {
                topicResponse = new FetchResponse.FetchableTopicResponse { Topic = p.Key.Topic };
                if (byId && topics.TryGet(p.Key.Topic, out var t))
                    topicResponse.TopicId = t.Id;
                byTopic[p.Key.Topic] = topicResponse;
                response.Responses.Add(topicResponse);
            }
            topicResponse.Partitions.Add(data);
        }
        return response;
    }

    /// <summary>The aborted transactions overlapping the batches sent, for the reader to drop their records.</summary>
    private static void AddAbortedTransactions(FetchResponse.PartitionData data, PartitionLog log, long fetchOffset, long upperBound)
    {
        if (log.CollectAbortedTransactions(fetchOffset, upperBound) is not { } aborted)
            return;
        var list = new List<FetchResponse.AbortedTransaction>(aborted.Count);
        data.AbortedTransactions = list;
        foreach (var a in aborted)
            list.Add(new FetchResponse.AbortedTransaction { ProducerId = a.ProducerId, FirstOffset = a.FirstOffset });
    }

    /// <summary>An unknown topic id has no name to authorize: it stays UNKNOWN_TOPIC_ID, as in Kafka.</summary>
    private static bool MayRead(RequestContext context, Dictionary<string, bool> readable, string topic)
    {
        if (topic.StartsWith('\u0000'))
            return true;
        if (!readable.TryGetValue(topic, out bool allowed))
            readable[topic] = allowed = context.Authorize(AclOperation.Read, AclResourceType.Topic, topic);
        return allowed;
    }
}
