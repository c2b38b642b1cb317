using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DescribeCluster v0-2: this node is the whole cluster and its controller, at the listener the request came in on.
internal sealed class DescribeClusterHandler(BrokerNode node) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeCluster;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var (host, port) = node.AddressFor(context);
        return ValueTask.FromResult<IResponse?>(new DescribeClusterResponse
        {
            ClusterId = node.ClusterId,
            ControllerId = node.NodeId,
            Brokers = [new() { BrokerId = node.NodeId, Host = host, Port = port }],
        });
    }
}
