using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// FindCoordinator v0-6: this node coordinates every group (key type 0) and every transactional id
// (key type 1), at the listener the request came in on. v4+ batches keys. Other key types (share, 2)
// are answered COORDINATOR_NOT_AVAILABLE.
internal sealed class FindCoordinatorHandler(BrokerNode node) : IApiHandler
{
    public ApiKey Key => ApiKey.FindCoordinator;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (FindCoordinatorRequest)request;
        var error = r.KeyType is 0 or 1 ? ErrorCode.None : ErrorCode.CoordinatorNotAvailable;
        string? message = error == ErrorCode.None ? null : $"Samsa coordinates consumer groups and transactions, not key type {r.KeyType}.";
        var response = new FindCoordinatorResponse { ErrorMessage = message, ErrorCode = error };
        var (host, port) = node.AddressFor(context);
        if (context.ApiVersion >= 4)
        {
            foreach (var key in r.CoordinatorKeys)
            {
                response.Coordinators.Add(new FindCoordinatorResponse.Coordinator
                {
                    Key = key,
                    NodeId = error == ErrorCode.None ? node.NodeId : -1,
                    Host = error == ErrorCode.None ? host : "",
                    Port = error == ErrorCode.None ? port : -1,
                    ErrorCode = error,
                    ErrorMessage = message,
                });
            }
        }
        else if (error == ErrorCode.None)
        {
            (response.NodeId, response.Host, response.Port) = (node.NodeId, host, port);
        }
        else
        {
            (response.NodeId, response.Host, response.Port) = (-1, "", -1);
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
