using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// SaslHandshake v0-1. The connection's SaslServerSession (Security/Sasl) holds the state: after v1
// the tokens come in SaslAuthenticate, after v0 as raw size-prefixed frames (kafka-python 2.0.2;
// librdkafka 2.0.2 takes v0 in the advertised range as its sign that SASL is supported). On a
// listener without SASL the answer is ILLEGAL_SASL_STATE, as Kafka's request handler gives.
internal sealed class SaslHandshakeHandler : IApiHandler
{
    public ApiKey Key => ApiKey.SaslHandshake;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SaslHandshakeRequest)request;
        IResponse response = context.Session.Sasl is { } sasl
            ? sasl.Handshake(r.Mechanism, context.ApiVersion)
            : new SaslHandshakeResponse { ErrorCode = ErrorCode.IllegalSaslState };
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// SaslAuthenticate v0-2 for the mechanism agreed in the handshake (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512), with KIP-368's session_lifetime_ms from v1. Failures are
// SASL_AUTHENTICATION_FAILED with Kafka's message, then the connection closes after
// connection.failed.authentication.delay.ms. Not implemented: OAUTHBEARER, GSSAPI.
internal sealed class SaslAuthenticateHandler : IApiHandler
{
    public ApiKey Key => ApiKey.SaslAuthenticate;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SaslAuthenticateRequest)request;
        IResponse response = context.Session.Sasl is { } sasl
            ? sasl.Authenticate(r.AuthBytes, context.ApiVersion)
            : new SaslAuthenticateResponse { ErrorCode = ErrorCode.IllegalSaslState, ErrorMessage = "SaslAuthenticate request received after successful authentication" };
        return ValueTask.FromResult<IResponse?>(response);
    }
}
