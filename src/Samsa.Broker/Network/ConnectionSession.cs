namespace Samsa.Broker.Network;

/// <summary>Per-connection state that outlives one request: SASL progress and who the client is.</summary>
public sealed class ConnectionSession
{
    /// <summary>The mechanism agreed in SaslHandshake, until authentication completes.</summary>
    public string? Mechanism { get; set; }

    /// <summary>The authenticated user, or null.</summary>
    public string? Principal { get; set; }

    public bool Authenticated => Principal is not null;

    /// <summary>
    /// Completes when the client closed its end while a request waits (a fetch's max_wait_ms): the
    /// connection reads nothing while it handles a request, so only this notices. Cancel the token
    /// once the wait is over. Null outside a socket (handler tests).
    /// </summary>
    public Func<CancellationToken, Task>? WhenClientGone { get; set; }
}
