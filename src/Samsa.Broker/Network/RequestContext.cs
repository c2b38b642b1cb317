using System.Net;
using Samsa.Broker.Security.Authorization;
using Samsa.Protocol;

namespace Samsa.Broker.Network;

/// <summary>What a handler knows about the request besides its body.</summary>
public sealed class RequestContext(ApiKey apiKey, short apiVersion, int correlationId, string? clientId, EndPoint? clientAddress, long connectionId, ConnectionSession? session = null)
{
    private List<IDisposable>? _resources;

    public ApiKey ApiKey { get; } = apiKey;

    public short ApiVersion { get; } = apiVersion;

    public int CorrelationId { get; } = correlationId;

    public string? ClientId { get; } = clientId;

    public EndPoint? ClientAddress { get; } = clientAddress;

    public long ConnectionId { get; } = connectionId;

    public ConnectionSession Session { get; } = session ?? new ConnectionSession();

    /// <summary>The broker's authorizer; null when none is configured, and then everything is allowed.</summary>
    public IAuthorizer? Authorizer { get; init; }

    /// <summary>
    /// Whether this connection's principal, from its address, may do <paramref name="operation"/> on
    /// the resource: the one check every handler makes, once per resource in the request.
    /// </summary>
    public bool Authorize(AclOperation operation, AclResourceType resourceType, string resourceName) =>
        Authorizer is null || Authorizer.Authorize(Session.Principal, ClientHost, operation, resourceType, resourceName);

    /// <summary>Cluster-level operations (CreateTopics, the ACL APIs) name Kafka's one cluster resource.</summary>
    public bool AuthorizeCluster(AclOperation operation) => Authorize(operation, AclResourceType.Cluster, ClusterResourceName);

    public const string ClusterResourceName = "kafka-cluster";

    /// <summary>What the "authorized operations" fields answer when a client did not ask for them (Kafka's INT_MIN).</summary>
    public const int OperationsNotRequested = int.MinValue;

    /// <summary>
    /// The operations this principal may perform on the resource, as the bit field of operation codes
    /// that Metadata, DescribeCluster and the group describe APIs return (KIP-430): each of the
    /// operations Kafka supports for the type, checked like a request; all of them without an authorizer.
    /// </summary>
    public int AuthorizedOperations(AclResourceType resourceType, string resourceName)
    {
        int field = 0;
        foreach (var operation in SupportedOperations(resourceType))
        {
            if (Authorize(operation, resourceType, resourceName))
                field |= 1 << (int)operation;
        }
        return field;
    }

    private static ReadOnlySpan<AclOperation> SupportedOperations(AclResourceType type) => type switch
    {
        AclResourceType.Topic => [AclOperation.Read, AclOperation.Write, AclOperation.Create, AclOperation.Describe, AclOperation.Delete, AclOperation.Alter, AclOperation.DescribeConfigs, AclOperation.AlterConfigs],
        AclResourceType.Group => [AclOperation.Read, AclOperation.Describe, AclOperation.Delete, AclOperation.DescribeConfigs, AclOperation.AlterConfigs],
        AclResourceType.Cluster => [AclOperation.Create, AclOperation.ClusterAction, AclOperation.DescribeConfigs, AclOperation.AlterConfigs, AclOperation.IdempotentWrite, AclOperation.Alter, AclOperation.Describe],
        AclResourceType.TransactionalId => [AclOperation.Describe, AclOperation.Write],
        AclResourceType.DelegationToken => [AclOperation.Describe],
        AclResourceType.User => [AclOperation.CreateTokens, AclOperation.DescribeTokens],
        _ => [],
    };

    /// <summary>The client's address as ACL host entries name it (IPv4-mapped addresses as IPv4).</summary>
    private string ClientHost => ClientAddress is IPEndPoint ip
        ? (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString()
        : AclBinding.Wildcard;

    /// <summary>
    /// Keeps a buffer alive until the response has been encoded (log reads that a Fetch response
    /// points into), then disposes it.
    /// </summary>
    public void RegisterForDispose(IDisposable resource) => (_resources ??= []).Add(resource);

    internal void DisposeResources()
    {
        if (_resources is null)
            return;
        foreach (var r in _resources)
            r.Dispose();
        _resources = null;
    }
}
