using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// CreatePartitions v0-3: grows a live topic; consumers see the new partitions on their next
// metadata refresh. Manual assignments may only name this node.
internal sealed class CreatePartitionsHandler(TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.CreatePartitions;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (CreatePartitionsRequest)request;
        var response = new CreatePartitionsResponse();
        foreach (var t in r.Topics)
        {
            var (error, message) = topics.AddPartitions(t.Name, t.Count, r.ValidateOnly);
            response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = t.Name, ErrorCode = error, ErrorMessage = message });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
