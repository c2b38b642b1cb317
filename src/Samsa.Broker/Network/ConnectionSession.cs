namespace Samsa.Broker.Network;

/// <summary>Per-connection state that outlives one request: SASL progress and who the client is.</summary>
public sealed class ConnectionSession
{
    /// <summary>The mechanism agreed in SaslHandshake, until authentication completes.</summary>
    public string? Mechanism { get; set; }

    /// <summary>The authenticated user, or null.</summary>
    public string? Principal { get; set; }

    public bool Authenticated => Principal is not null;
}
