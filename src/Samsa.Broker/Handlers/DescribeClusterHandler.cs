using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DescribeCluster v0-2: this node is the whole cluster and its controller, at the listener the request came in on,
// with the cluster's authorized operations when asked.
internal sealed class DescribeClusterHandler(BrokerNode node) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeCluster;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var (host, port) = node.AddressFor(context);
        // As Kafka, DescribeCluster needs no permission; the authorized operations (KIP-430) say what the caller may do.
        return ValueTask.FromResult<IResponse?>(new DescribeClusterResponse
        {
            ClusterId = node.ClusterId,
            ControllerId = node.NodeId,
            Brokers = [new() { BrokerId = node.NodeId, Host = host, Port = port }],
            ClusterAuthorizedOperations = ((DescribeClusterRequest)request).IncludeClusterAuthorizedOperations
                ? context.AuthorizedOperations(Security.Authorization.AclResourceType.Cluster, RequestContext.ClusterResourceName)
                : RequestContext.OperationsNotRequested,
        });
    }
}
