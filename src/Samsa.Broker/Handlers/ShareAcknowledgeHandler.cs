using Samsa.Broker.Network;
using Samsa.Broker.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// ShareAcknowledge v1-2 (KIP-932; v2 adds AcquisitionLockTimeoutMs and the renew type 4, KIP-1222).
// Needs an open share session (epoch 0 is INVALID_SHARE_SESSION_EPOCH, an unknown one
// SHARE_SESSION_NOT_FOUND, a wrong epoch INVALID_SHARE_SESSION_EPOCH); epoch -1 acknowledges, then
// closes the session and gives back what the member still holds. Each partition's batches are
// applied all or none, with Kafka's errors: INVALID_REQUEST for malformed batches or types,
// INVALID_RECORD_STATE for records the member does not hold, UNKNOWN_TOPIC_OR_PARTITION for a
// share-partition that was never fetched, UNKNOWN_TOPIC_ID for a topic that does not exist. Acknowledgements are checked against who holds each
// record, so a member that left (whose records went back) is refused by record state, not by id.
internal sealed class ShareAcknowledgeHandler(SharePartitionManager shares) : IApiHandler
{
    public ApiKey Key => ApiKey.ShareAcknowledge;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ShareAcknowledgeRequest)request;
        string groupId = r.GroupId ?? "", memberId = r.MemberId ?? "";
        var response = new ShareAcknowledgeResponse { AcquisitionLockTimeoutMs = shares.AcquisitionLockTimeoutMsOf(groupId) };
        if (groupId.Length == 0 || memberId.Length == 0)
        {
            response.ErrorCode = ErrorCode.InvalidRequest;
            response.ErrorMessage = groupId.Length == 0 ? "GroupId can't be empty." : "MemberId can't be empty.";
            return ValueTask.FromResult<IResponse?>(response);
        }
        if (!context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Group, groupId))
        {
            response.ErrorCode = ErrorCode.GroupAuthorizationFailed;
            return ValueTask.FromResult<IResponse?>(response);
        }
        var (error, session) = shares.Sessions.BeginAcknowledge(groupId, memberId, r.ShareSessionEpoch);
        if (error != ErrorCode.None)
        {
            response.ErrorCode = error;
            return ValueTask.FromResult<IResponse?>(response);
        }

        var batches = new Dictionary<TopicIdPartition, List<ShareAcknowledgement>>();
        var order = new List<TopicIdPartition>();
        foreach (var t in r.Topics)
        {
            foreach (var p in t.Partitions)
            {
                var tp = new TopicIdPartition(t.TopicId, p.PartitionIndex);
                if (!batches.TryGetValue(tp, out var list))
                {
                    batches[tp] = list = [];
                    order.Add(tp);
                }
                list.AddRange(p.AcknowledgementBatches.Select(b => new ShareAcknowledgement(b.FirstOffset, b.LastOffset, b.AcknowledgeTypes)));
            }
        }
        var byTopic = new Dictionary<Guid, ShareAcknowledgeResponse.ShareAcknowledgeTopicResponse>();
        foreach (var tp in order)
        {
            if (!byTopic.TryGetValue(tp.TopicId, out var topic))
            {
                byTopic[tp.TopicId] = topic = new ShareAcknowledgeResponse.ShareAcknowledgeTopicResponse { TopicId = tp.TopicId };
                response.Responses.Add(topic);
            }
            topic.Partitions.Add(new ShareAcknowledgeResponse.PartitionData
            {
                PartitionIndex = tp.Partition,
                ErrorCode = MayRead(shares, context, tp) ? Apply(shares, groupId, memberId, tp, batches[tp], context.ApiVersion) : ErrorCode.TopicAuthorizationFailed,
                CurrentLeader = new ShareAcknowledgeResponse.LeaderIdAndEpoch { LeaderId = -1, LeaderEpoch = -1 },
            });
        }
        if (r.ShareSessionEpoch == ShareSessionCache.FinalEpoch)
            shares.CloseSession(groupId, memberId);
        return ValueTask.FromResult<IResponse?>(response);
    }

    /// <summary>READ on the partition's topic, which acknowledging needs (an unknown topic is left to <see cref="Apply"/> to report).</summary>
    public static bool MayRead(SharePartitionManager shares, RequestContext context, TopicIdPartition tp) =>
        context.Authorizer is null || shares.TryGetLog(tp, out var topic, out _) != ErrorCode.None
        || context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Topic, topic.Name);

    /// <summary>One partition's acknowledgements, from ShareFetch or ShareAcknowledge; the renew type exists from v2.</summary>
    public static ErrorCode Apply(SharePartitionManager shares, string groupId, string memberId, TopicIdPartition tp,
        IReadOnlyList<ShareAcknowledgement> batches, short version)
    {
        if (batches.Count == 0)
            return ErrorCode.None;
        if (version < 2 && batches.Any(b => b.Types.Contains((sbyte)AcknowledgeType.Renew)))
            return ErrorCode.InvalidRequest;
        if (shares.TryGetLog(tp, out _, out _) is var error && error != ErrorCode.None)
            return error;
        return shares.Acknowledge(new ShareKey(groupId, tp.TopicId, tp.Partition), memberId, batches);
    }
}
