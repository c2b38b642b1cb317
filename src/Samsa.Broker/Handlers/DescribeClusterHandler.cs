using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DescribeCluster v0-2: this node is the whole cluster and its controller.
internal sealed class DescribeClusterHandler(BrokerNode node) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeCluster;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IResponse?>(new DescribeClusterResponse
        {
            ClusterId = node.ClusterId,
            ControllerId = node.NodeId,
            Brokers = [new() { BrokerId = node.NodeId, Host = node.Host, Port = node.Port }],
        });
}
