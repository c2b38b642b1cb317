using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// ConsumerGroupDescribe v0-1 (KIP-848), answered from the published group views: epochs, the
// assignor, and every member's subscription, current and target assignment (v1: member type, always
// "consumer" here). A classic group, like an unknown one, is GROUP_ID_NOT_FOUND, as in Kafka, and
// admin clients then fall back to DescribeGroups. Not implemented: authorized operations (no ACLs).
internal sealed class ConsumerGroupDescribeHandler(GroupCoordinator coordinator) : IApiHandler
{
    private const sbyte ConsumerMemberType = 1;

    public ApiKey Key => ApiKey.ConsumerGroupDescribe;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ConsumerGroupDescribeRequest)request;
        var response = new ConsumerGroupDescribeResponse();
        foreach (var groupId in r.GroupIds)
        {
            if (!context.Authorize(Security.Authorization.AclOperation.Describe, Security.Authorization.AclResourceType.Group, groupId))
            {
                response.Groups.Add(new ConsumerGroupDescribeResponse.DescribedGroup { GroupId = groupId, ErrorCode = ErrorCode.GroupAuthorizationFailed });
                continue;
            }
            var view = coordinator.View(groupId);
            if (view is null || view.Type != GroupType.Consumer || view.State == "Dead")
            {
                response.Groups.Add(new ConsumerGroupDescribeResponse.DescribedGroup
                {
                    GroupId = groupId,
                    ErrorCode = ErrorCode.GroupIdNotFound,
                    ErrorMessage = view is null ? $"Group {groupId} not found." : $"Group {groupId} is not a consumer group.",
                });
                continue;
            }
            response.Groups.Add(new ConsumerGroupDescribeResponse.DescribedGroup
            {
                GroupId = groupId,
                GroupState = view.State,
                GroupEpoch = view.Epoch,
                AuthorizedOperations = r.IncludeAuthorizedOperations
                    ? context.AuthorizedOperations(Security.Authorization.AclResourceType.Group, groupId)
                    : RequestContext.OperationsNotRequested,
                AssignmentEpoch = view.AssignmentEpoch,
                AssignorName = view.Protocol ?? "",
                Members = view.Members.Select(m => new ConsumerGroupDescribeResponse.Member
                {
                    MemberId = m.MemberId,
                    InstanceId = m.InstanceId,
                    RackId = m.RackId,
                    MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    SubscribedTopicNames = [.. m.SubscribedTopicNames],
                    SubscribedTopicRegex = m.SubscribedTopicRegex,
                    Assignment = Wire(m.Assigned),
                    TargetAssignment = Wire(m.Target),
                    MemberType = ConsumerMemberType,
                }).ToList(),
            });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    private static ConsumerGroupDescribeResponse.Assignment Wire(IReadOnlyList<TopicPartitionsView> partitions) => new()
    {
        // A topic deleted since the assignment was made has no name left: Kafka leaves it out.
        TopicPartitions = partitions.Where(t => t.Topic.Length > 0).Select(t => new ConsumerGroupDescribeResponse.TopicPartitions
        {
            TopicId = t.TopicId,
            TopicName = t.Topic,
            Partitions = [.. t.Partitions],
        }).ToList(),
    };
}

// ConsumerGroupHeartbeat v0-1 (KIP-848): join (epoch 0), heartbeat, leave (-1) and a static member's
// temporary leave (-2); the coordinator assigns with its server-side assignors. v1: client-chosen
// member ids and SubscribedTopicRegex. Not implemented: members of a classic group switching to this
// protocol while others stay classic (online migration): such a group answers GROUP_ID_NOT_FOUND.
internal sealed class ConsumerGroupHeartbeatHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.ConsumerGroupHeartbeat;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ConsumerGroupHeartbeatRequest)request;
        if (!context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Group, r.GroupId))
            return ValueTask.FromResult<IResponse?>(new ConsumerGroupHeartbeatResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed, ErrorMessage = null });
        string host = context.ClientAddress is System.Net.IPEndPoint ip ? "/" + ip.Address : context.ClientAddress?.ToString() ?? "";
        return ValueTask.FromResult<IResponse?>(coordinator.ShardFor(r.GroupId).ConsumerGroupHeartbeat(r, context.ApiVersion, context.ClientId ?? "", host));
    }
}
