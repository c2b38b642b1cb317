using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// CreatePartitions v0-3: grows a live topic; consumers see the new partitions on their next
// metadata refresh. Manual assignments may only name this node. The partition caps of CreateTopics
// apply (POLICY_VIOLATION).
internal sealed class CreatePartitionsHandler(TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.CreatePartitions;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (CreatePartitionsRequest)request;
        var response = new CreatePartitionsResponse();
        // KRaft builds one record per new partition in a list bounded at 10,000 and fails the whole
        // request past it, with this message (EventHandlerExceptionInfo).
        long asked = r.Topics.Sum(t => topics.TryGet(t.Name, out var existing) ? Math.Max(0L, t.Count - existing.Partitions.Length) : 0);
        if (asked > PartitionCeiling.PerRequest)
        {
            foreach (var t in r.Topics)
                response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = t.Name, ErrorCode = ErrorCode.PolicyViolation, ErrorMessage = "Unable to perform excessively large batch operation." });
            return ValueTask.FromResult<IResponse?>(response);
        }
        foreach (var t in r.Topics)
        {
            var (error, message) = context.Authorize(Security.Authorization.AclOperation.Alter, Security.Authorization.AclResourceType.Topic, t.Name)
                ? topics.AddPartitions(t.Name, t.Count, r.ValidateOnly)
                : (ErrorCode.TopicAuthorizationFailed, $"Not authorized to alter topic {t.Name}.");
            response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = t.Name, ErrorCode = error, ErrorMessage = message });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
