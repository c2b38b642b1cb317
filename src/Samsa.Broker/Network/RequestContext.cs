using System.Net;
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
