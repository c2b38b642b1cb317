using Samsa.Assignors;
using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// ShareGroupHeartbeat v1 (KIP-932; v0 was Kafka 4.0's early access and is not served): join
// (epoch 0, with the client's own member id and its topic names), heartbeat, leave (-1). The
// coordinator assigns with the simple share assignor; a member gets its assignment when it joins
// and whenever it changes, with no revocation step. A group id that belongs to a classic or
// consumer group is GROUP_ID_NOT_FOUND, as in Kafka. Not implemented: rack-aware assignment
// (Kafka's simple assignor ignores racks too), and the share coordinator's InitializeShareGroupState
// round trip (this broker keeps share-partition state itself; see docs/share-groups.md).
internal sealed class ShareGroupHeartbeatHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.ShareGroupHeartbeat;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ShareGroupHeartbeatRequest)request;
        if (!context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Group, r.GroupId))
            return ValueTask.FromResult<IResponse?>(new ShareGroupHeartbeatResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed });
        string host = context.ClientAddress is System.Net.IPEndPoint ip ? "/" + ip.Address : context.ClientAddress?.ToString() ?? "";
        return ValueTask.FromResult<IResponse?>(coordinator.ShardFor(r.GroupId).ShareGroupHeartbeat(r, context.ClientId ?? "", host));
    }
}

// ShareGroupDescribe v1, answered from the published group views: epochs, the assignor ("simple")
// and every member's subscription and assignment. An unknown id, or a group of another type, is
// GROUP_ID_NOT_FOUND, as in Kafka; DESCRIBE on the group is needed. Not implemented: authorized operations.
internal sealed class ShareGroupDescribeHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.ShareGroupDescribe;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ShareGroupDescribeRequest)request;
        var response = new ShareGroupDescribeResponse();
        foreach (var groupId in r.GroupIds)
        {
            if (!context.Authorize(Security.Authorization.AclOperation.Describe, Security.Authorization.AclResourceType.Group, groupId))
            {
                response.Groups.Add(new ShareGroupDescribeResponse.DescribedGroup { GroupId = groupId, ErrorCode = ErrorCode.GroupAuthorizationFailed });
                continue;
            }
            var view = coordinator.View(groupId);
            if (view is null || view.Type != GroupType.Share || view.State == "Dead")
            {
                response.Groups.Add(new ShareGroupDescribeResponse.DescribedGroup
                {
                    GroupId = groupId,
                    ErrorCode = ErrorCode.GroupIdNotFound,
                    ErrorMessage = view is null || view.State == "Dead" ? $"Group {groupId} not found." : $"Group {groupId} is not a share group.",
                });
                continue;
            }
            response.Groups.Add(new ShareGroupDescribeResponse.DescribedGroup
            {
                GroupId = groupId,
                GroupState = view.State,
                GroupEpoch = view.Epoch,
                AuthorizedOperations = r.IncludeAuthorizedOperations
                    ? context.AuthorizedOperations(Security.Authorization.AclResourceType.Group, groupId)
                    : RequestContext.OperationsNotRequested,
                AssignmentEpoch = view.AssignmentEpoch,
                AssignorName = view.Protocol ?? SimpleShareAssignor.AssignorName,
                Members = view.Members.Select(m => new ShareGroupDescribeResponse.Member
                {
                    MemberId = m.MemberId,
                    RackId = m.RackId,
                    MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    SubscribedTopicNames = [.. m.SubscribedTopicNames],
                    Assignment = new ShareGroupDescribeResponse.Assignment
                    {
                        // A topic deleted since the assignment was made has no name left: Kafka leaves it out.
                        TopicPartitions = m.Assigned.Where(t => t.Topic.Length > 0).Select(t => new ShareGroupDescribeResponse.TopicPartitions
                        {
                            TopicId = t.TopicId,
                            TopicName = t.Topic,
                            Partitions = [.. t.Partitions],
                        }).ToList(),
                    },
                }).ToList(),
            });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
