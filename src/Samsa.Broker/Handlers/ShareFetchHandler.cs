using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Network;
using Samsa.Broker.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Storage;

namespace Samsa.Broker.Handlers;

// ShareFetch v1-2 (KIP-932; v0 was Kafka 4.0's early access and is not served). Share sessions as
// Kafka keeps them (epoch 0 opens, -1 closes, SHARE_SESSION_NOT_FOUND / INVALID_SHARE_SESSION_EPOCH /
// SHARE_SESSION_LIMIT_REACHED); piggybacked acknowledgements are applied first, per partition all or
// none (AcknowledgeErrorCode); then records are acquired from the session's partitions, round the
// partitions from where the last fetch stopped, up to MaxRecords in all (whole batches, or exactly
// with v2's ShareAcquireMode 1) and MaxBytes, with AcquiredRecords giving each range's delivery
// count. Records are the log's own batches, referenced rather than copied. A fetch that finds
// nothing waits up to MaxWaitMs for MinBytes, woken by appends and by records coming free
// (acknowledged, released, or their locks expired). The member must be in the share group
// (UNKNOWN_MEMBER_ID) — stricter than Kafka, which leaves that to the group coordinator; a final
// request (-1) is served for a member that already left, so its last acknowledgements count.
// Not implemented: fetching for a share-partition whose topic is not on this broker (single node:
// no NOT_LEADER_OR_FOLLOWER), read_committed (no transactions), renew-only fetches that skip
// acquisition (IsRenewAck is accepted and renew acknowledgements applied; the fetch still acquires).
internal sealed class ShareFetchHandler(SharePartitionManager shares, GroupCoordinator groups, BrokerOptions options, AppendNotifier appends) : IApiHandler
{
    public ApiKey Key => ApiKey.ShareFetch;

    public async ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ShareFetchRequest)request;
        string groupId = r.GroupId ?? "", memberId = r.MemberId ?? "";
        if (groupId.Length == 0 || memberId.Length == 0)
            return Error(ErrorCode.InvalidRequest, groupId.Length == 0 ? "GroupId can't be empty." : "MemberId can't be empty.");
        if (context.ApiVersion >= 2 && r.ShareAcquireMode is not ((sbyte)ShareAcquireMode.BatchOptimized or (sbyte)ShareAcquireMode.RecordLimit))
            return Error(ErrorCode.InvalidRequest, $"ShareAcquireMode {r.ShareAcquireMode} is not known.");
        if (!context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Group, groupId))
            return Error(ErrorCode.GroupAuthorizationFailed, null);
        if (r.ShareSessionEpoch != ShareSessionCache.FinalEpoch && !IsMember(groupId, memberId))
            return Error(ErrorCode.UnknownMemberId, $"Member {memberId} is not a member of share group {groupId}.");

        // The request may name a topic more than once (librdkafka does): merge by partition.
        var requested = new List<TopicIdPartition>();
        var acks = new Dictionary<TopicIdPartition, List<ShareAcknowledgement>>();
        foreach (var t in r.Topics)
        {
            foreach (var p in t.Partitions)
            {
                var tp = new TopicIdPartition(t.TopicId, p.PartitionIndex);
                if (!requested.Contains(tp))
                    requested.Add(tp);
                if (p.AcknowledgementBatches.Count > 0)
                {
                    if (!acks.TryGetValue(tp, out var list))
                        acks[tp] = list = [];
                    list.AddRange(p.AcknowledgementBatches.Select(b => new ShareAcknowledgement(b.FirstOffset, b.LastOffset, b.AcknowledgeTypes)));
                }
            }
        }
        var forgotten = r.ForgottenTopicsData.SelectMany(f => f.Partitions.Select(p => new TopicIdPartition(f.TopicId, p))).ToList();

        var (error, session, kind) = shares.Sessions.BeginFetch(groupId, memberId, r.ShareSessionEpoch, requested, forgotten, acks.Count > 0);
        if (error != ErrorCode.None)
            return Error(error, error switch
            {
                ErrorCode.InvalidRequest => "Acknowledge data present in an initial share fetch request.",
                ErrorCode.ShareSessionLimitReached => "The broker holds group.share.max.share.sessions share sessions already.",
                _ => null,
            });

        var results = new Dictionary<TopicIdPartition, ShareFetchResponse.PartitionData>();
        ShareFetchResponse.PartitionData Result(TopicIdPartition tp)
        {
            if (!results.TryGetValue(tp, out var data))
            {
                results[tp] = data = new ShareFetchResponse.PartitionData
                {
                    PartitionIndex = tp.Partition,
                    Records = ReadOnlyMemory<byte>.Empty,
                    CurrentLeader = new ShareFetchResponse.LeaderIdAndEpoch { LeaderId = -1, LeaderEpoch = -1 },
                };
            }
            return data;
        }
        foreach (var (tp, batches) in acks)
        {
            var ackError = ShareAcknowledgeHandler.MayRead(shares, context, tp)
                ? ShareAcknowledgeHandler.Apply(shares, groupId, memberId, tp, batches, context.ApiVersion)
                : ErrorCode.TopicAuthorizationFailed;
            Result(tp).AcknowledgeErrorCode = (short)ackError;
        }

        if (kind == ShareFetchKind.Final)
        {
            // Close the session; what the member still holds goes back to the others.
            shares.CloseSession(groupId, memberId);
            return Build(groupId, results, requested);
        }

        int maxRecords = r.MaxRecords;
        if (maxRecords > 0 && session!.Partitions.Length > 0)
        {
            if (!await FetchAsync(context, r, session, memberId, maxRecords, Result, cancellationToken).ConfigureAwait(false))
                return null; // the client is gone: nobody to answer
        }
        if (kind == ShareFetchKind.Full)
        {
            foreach (var tp in session!.Partitions)
                Result(tp);
        }
        return Build(groupId, results, session!.Partitions);
    }

    private bool IsMember(string groupId, string memberId) =>
        groups.View(groupId) is { Type: GroupType.Share } view && view.Members.Any(m => m.MemberId == memberId);

    /// <summary>
    /// Acquires from the session's partitions, waiting for records while none could be taken, up
    /// to MaxWaitMs. False when the client closed its connection meanwhile.
    /// </summary>
    private async Task<bool> FetchAsync(RequestContext context, ShareFetchRequest r, ShareSession session, string memberId, int maxRecords,
        Func<TopicIdPartition, ShareFetchResponse.PartitionData> result, CancellationToken shutdown)
    {
        var time = options.TimeProvider;
        var start = time.GetTimestamp();
        var maxWait = TimeSpan.FromMilliseconds(Math.Max(0, r.MaxWaitMs));
        var mode = context.ApiVersion >= 2 ? (ShareAcquireMode)r.ShareAcquireMode : ShareAcquireMode.BatchOptimized;
        int batchSize = r.BatchSize > 0 ? r.BatchSize : int.MaxValue;
        CancellationTokenSource? waiting = null;
        Task? gone = null;
        try
        {
            while (true)
            {
                var woken = Task.WhenAny(appends.NextAppend, shares.NextChange);
                // A member that left meanwhile (or whose session was replaced or closed) acquires nothing more.
                if (session.Leaving || !ReferenceEquals(shares.Sessions.Get(session.GroupId, memberId), session))
                    return true;
                var left = maxWait - time.GetElapsedTime(start);
                bool last = r.MaxWaitMs <= 0 || left <= TimeSpan.Zero || shutdown.IsCancellationRequested;
                if (last || r.MinBytes <= 1 || AvailableBytes(session, r.MinBytes) >= r.MinBytes)
                {
                    if (AcquireAll(context, r, session, memberId, maxRecords, batchSize, mode, result) || last)
                        return true;
                }
                waiting ??= CancellationTokenSource.CreateLinkedTokenSource(shutdown);
                gone ??= context.Session.WhenClientGone?.Invoke(waiting.Token) ?? Task.Delay(Timeout.Infinite, waiting.Token);
                var timeout = Task.Delay(left, time, waiting.Token);
                var first = await Task.WhenAny(woken, timeout, gone).ConfigureAwait(false);
                if (first == gone && !shutdown.IsCancellationRequested)
                    return false;
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

    /// <summary>Bytes in the logs from each share-partition's next fetch offset, counted until <paramref name="enough"/>.</summary>
    private long AvailableBytes(ShareSession session, int enough)
    {
        long total = 0;
        foreach (var tp in session.Partitions)
        {
            if (shares.TryGetLog(tp, out _, out var log) != ErrorCode.None)
                continue;
            long from = shares.Find(new ShareKey(session.GroupId, tp.TopicId, tp.Partition)) is { } leader ? NextFetchOffset(leader) : 0;
            if (from >= log.LogEndOffset)
                continue;
            total += log.BytesAfter(Math.Max(from, log.LogStartOffset), enough - total);
            if (total >= enough)
                break;
        }
        return total;
    }

    private static long NextFetchOffset(ShareLeader leader)
    {
        lock (leader.Gate)
            return leader.Partition.NextFetchOffset();
    }

    /// <summary>One pass over the session's partitions; true when anything was acquired.</summary>
    private bool AcquireAll(RequestContext context, ShareFetchRequest r, ShareSession session, string memberId, int maxRecords, int batchSize,
        ShareAcquireMode mode, Func<TopicIdPartition, ShareFetchResponse.PartitionData> result)
    {
        var partitions = session.Partitions;
        // MaxBytes 0 asks for nothing (librdkafka's fetch.max.bytes=0 expects empty answers); negative means no limit.
        if (r.MaxBytes == 0)
            return false;
        long budget = r.MaxBytes < 0 ? int.MaxValue : r.MaxBytes;
        bool readCommitted = shares.GroupConfigs?.ShareIsolationLevel(session.GroupId) == "read_committed";
        long records = maxRecords;
        bool any = false;
        int begin = session.Cursor % Math.Max(partitions.Length, 1);
        for (int i = 0; i < partitions.Length && records > 0 && (budget > 0 || !any); i++)
        {
            int at = (begin + i) % partitions.Length;
            var tp = partitions[at];
            var error = shares.TryGetLog(tp, out var topic, out var log);
            if (error == ErrorCode.None && !context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Topic, topic.Name))
                error = ErrorCode.TopicAuthorizationFailed;
            if (error != ErrorCode.None)
            {
                result(tp).ErrorCode = error;
                continue;
            }
            try
            {
                var leader = shares.GetOrCreate(new ShareKey(session.GroupId, tp.TopicId, tp.Partition), log);
                int limit = (int)Math.Clamp(budget, 1, int.MaxValue);
                if (SharePartitionManager.Acquire(leader, log, memberId, (int)Math.Min(records, int.MaxValue), batchSize, mode, limit, readCommitted) is not { } taken)
                    continue;
                context.RegisterForDispose(taken.Read);
                var data = result(tp);
                data.Records = taken.Records;
                data.AcquiredRecords = taken.Ranges.Select(a => new ShareFetchResponse.AcquiredRecords
                {
                    FirstOffset = a.FirstOffset,
                    LastOffset = a.LastOffset,
                    DeliveryCount = a.DeliveryCount,
                }).ToList();
                budget -= taken.Records.Length;
                records -= taken.Count;
                any = true;
                session.Cursor = at + 1;
            }
            catch (Exception e) when (e is StorageException or ObjectDisposedException)
            {
                // The partition's log went away (topic deleted) or failed while being read.
                result(tp).ErrorCode = e is StorageException ? ErrorCode.KafkaStorageError : ErrorCode.UnknownTopicOrPartition;
            }
        }
        return any;
    }

    private ShareFetchResponse Build(string groupId, Dictionary<TopicIdPartition, ShareFetchResponse.PartitionData> results, IEnumerable<TopicIdPartition> order)
    {
        var response = new ShareFetchResponse { AcquisitionLockTimeoutMs = shares.AcquisitionLockTimeoutMsOf(groupId) };
        var byTopic = new Dictionary<Guid, ShareFetchResponse.ShareFetchableTopicResponse>();
        foreach (var tp in order.Concat(results.Keys).Distinct())
        {
            if (!results.TryGetValue(tp, out var data))
                continue;
            if (!byTopic.TryGetValue(tp.TopicId, out var topic))
            {
                byTopic[tp.TopicId] = topic = new ShareFetchResponse.ShareFetchableTopicResponse { TopicId = tp.TopicId };
                response.Responses.Add(topic);
            }
            topic.Partitions.Add(data);
        }
        return response;
    }

    private ShareFetchResponse Error(ErrorCode error, string? message) => new()
    {
        ErrorCode = error,
        ErrorMessage = message,
        AcquisitionLockTimeoutMs = shares.AcquisitionLockTimeoutMs,
    };
}
