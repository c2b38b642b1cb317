using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// ConsumerGroupDescribe v0-1 (KIP-848). Samsa's groups all use the classic protocol, and Kafka
// answers this API for a classic group with GROUP_ID_NOT_FOUND ("not a consumer group"); admin
// clients then fall back to DescribeGroups. Unknown groups get the same error, as in Kafka.
// Not implemented: the KIP-848 consumer group protocol itself (ConsumerGroupHeartbeat).
internal sealed class ConsumerGroupDescribeHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.ConsumerGroupDescribe;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ConsumerGroupDescribeRequest)request;
        var response = new ConsumerGroupDescribeResponse();
        foreach (var groupId in r.GroupIds)
        {
            bool exists = coordinator.ShardFor(groupId).GroupExists(groupId);
            response.Groups.Add(new ConsumerGroupDescribeResponse.DescribedGroup
            {
                GroupId = groupId,
                ErrorCode = ErrorCode.GroupIdNotFound,
                ErrorMessage = exists ? $"Group {groupId} is not a consumer group." : $"Group {groupId} not found.",
            });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
