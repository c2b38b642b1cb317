using Samsa.Broker.Security;

namespace Samsa.Broker.Network;

/// <summary>Per-connection state that outlives one request: SASL progress and who the client is.</summary>
public sealed class ConnectionSession
{
    /// <summary>The mechanism's authenticator made by SaslHandshake, holding the exchange's state until it completes.</summary>
    public ISaslAuthenticator? Authenticator { get; set; }

    /// <summary>
    /// After a SaslHandshake v0 the client sends bare size-prefixed SASL tokens, with no request
    /// header, until authentication completes.
    /// </summary>
    public bool RawSaslTokens { get; set; }

    /// <summary>Set when authentication failed: the connection sends the answer, waits
    /// connection.failed.authentication.delay.ms and closes.</summary>
    public string? AuthenticationFailure { get; set; }

    /// <summary>The authenticated user, or null.</summary>
    public string? Principal { get; set; }

    public bool Authenticated => Principal is not null;

    /// <summary>
    /// Completes when the client closed its end while a request waits (a fetch's max_wait_ms): the
    /// connection reads nothing while it handles a request, so only this notices. Cancel the token
    /// once the wait is over. Null outside a socket (handler tests).
    /// </summary>
    public Func<CancellationToken, Task>? WhenClientGone { get; set; }

    /// <summary>Runs one SASL token through the authenticator and records the outcome on the session.</summary>
    internal SaslStep Authenticate(ReadOnlySpan<byte> token)
    {
        var step = Authenticator!.Evaluate(token);
        if (step.Failed)
        {
            AuthenticationFailure = step.Error;
            Authenticator = null;
        }
        else if (step.Complete)
        {
            Principal = step.Principal;
            Authenticator = null;
            RawSaslTokens = false;
        }
        return step;
    }
}
