using Samsa.Broker.Network;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// SaslHandshake v0-1. Offers sasl.enabled.mechanisms; a known one gets a fresh authenticator on
// the session. After v0 the client sends raw size-prefixed tokens (KafkaConnection passes them to
// the session); after v1 it wraps them in SaslAuthenticate. Request order is enforced by the
// dispatcher (RequestDispatcher.CheckSaslOrder), which closes the connection on a request out of turn.
internal sealed class SaslHandshakeHandler(SaslMechanisms mechanisms) : IApiHandler
{
    public ApiKey Key => ApiKey.SaslHandshake;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SaslHandshakeRequest)request;
        var response = new SaslHandshakeResponse { Mechanisms = [.. mechanisms.Names] };
        if (mechanisms.Find(r.Mechanism) is { } mechanism)
        {
            context.Session.Authenticator = mechanism.Create();
            context.Session.RawSaslTokens = context.ApiVersion == 0;
        }
        else
            response.ErrorCode = ErrorCode.UnsupportedSaslMechanism;
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// SaslAuthenticate v0-2: one token of the mechanism chosen in the handshake. A failure answers
// SASL_AUTHENTICATION_FAILED with the mechanism's message and the connection closes after
// connection.failed.authentication.delay.ms. Not implemented: re-authentication (KIP-368), so
// session_lifetime_ms is 0.
internal sealed class SaslAuthenticateHandler : IApiHandler
{
    public ApiKey Key => ApiKey.SaslAuthenticate;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SaslAuthenticateRequest)request;
        if (context.Session.Authenticator is null)
            return ValueTask.FromResult<IResponse?>(new SaslAuthenticateResponse { ErrorCode = ErrorCode.IllegalSaslState, ErrorMessage = "SaslAuthenticate before a successful SaslHandshake." });
        var step = context.Session.Authenticate(r.AuthBytes);
        return ValueTask.FromResult<IResponse?>(step.Failed
            ? new SaslAuthenticateResponse { ErrorCode = ErrorCode.SaslAuthenticationFailed, ErrorMessage = step.Error }
            : new SaslAuthenticateResponse { AuthBytes = step.Response });
    }
}
