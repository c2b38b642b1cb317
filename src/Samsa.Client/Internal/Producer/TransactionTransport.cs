using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// What the transaction manager needs from the network: coordinator lookup and one request to a
/// node. Tests replace it with a scripted coordinator; the producer uses <see cref="ClusterTransactionTransport"/>.
/// </summary>
internal interface ITransactionTransport
{
    /// <summary>FindCoordinator; key type 0 a group, 1 a transactional id. Errors come back as <see cref="KafkaException"/>.</summary>
    Task<BrokerNode> FindCoordinatorAsync(string key, sbyte keyType, CancellationToken cancellationToken);

    /// <summary>The version of <paramref name="api"/> the node and we both speak (the highest), or -1 for none.</summary>
    Task<short> VersionAsync(BrokerNode node, ApiKey api, CancellationToken cancellationToken);

    Task<TResponse> SendAsync<TResponse>(BrokerNode node, IRequest request, short version, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>;
}

/// <summary>The producer's transport: coordinator requests go on the coordinator connection, apart from Produce.</summary>
internal sealed class ClusterTransactionTransport(ClusterClient cluster) : ITransactionTransport
{
    public Task<BrokerNode> FindCoordinatorAsync(string key, sbyte keyType, CancellationToken cancellationToken) =>
        cluster.FindCoordinatorAsync(key, keyType, cancellationToken);

    public async Task<short> VersionAsync(BrokerNode node, ApiKey api, CancellationToken cancellationToken)
    {
        var connection = await cluster.ConnectAsync(node, ConnectionPurpose.Coordinator, cancellationToken).ConfigureAwait(false);
        return connection.TryGetVersion(api, out short version) ? version : (short)-1;
    }

    public async Task<TResponse> SendAsync<TResponse>(BrokerNode node, IRequest request, short version, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var connection = await cluster.ConnectAsync(node, ConnectionPurpose.Coordinator, cancellationToken).ConfigureAwait(false);
        return await connection.SendAsync<TResponse>(request, version, cancellationToken).ConfigureAwait(false);
    }
}
