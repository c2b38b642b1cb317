using System.Security.Cryptography;
using System.Text;
using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// SaslHandshake v1 only: v0 is followed by raw, unframed SASL tokens, which modern clients no
// longer send once the broker offers SaslAuthenticate. Offers PLAIN when sasl.plain.users is set.
internal sealed class SaslHandshakeHandler(BrokerOptions options) : IApiHandler
{
    public ApiKey Key => ApiKey.SaslHandshake;

    public short LowestVersion => 1;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SaslHandshakeRequest)request;
        bool enabled = options.SaslPlainUsers is not null;
        var response = new SaslHandshakeResponse { Mechanisms = enabled ? ["PLAIN"] : [] };
        if (enabled && r.Mechanism == "PLAIN")
            context.Session.Mechanism = "PLAIN";
        else
            response.ErrorCode = ErrorCode.UnsupportedSaslMechanism;
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// SaslAuthenticate v0-2 for PLAIN (RFC 4616: authzid NUL user NUL password). Passwords are compared
// in constant time. Not implemented: SCRAM, OAUTHBEARER, GSSAPI, re-authentication (KIP-368).
internal sealed class SaslAuthenticateHandler(BrokerOptions options) : IApiHandler
{
    public ApiKey Key => ApiKey.SaslAuthenticate;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SaslAuthenticateRequest)request;
        if (context.Session.Mechanism != "PLAIN" || options.SaslPlainUsers is null)
            return Result(ErrorCode.IllegalSaslState, "SaslAuthenticate before a successful SaslHandshake.");
        var parts = Encoding.UTF8.GetString(r.AuthBytes).Split('\0');
        if (parts.Length != 3)
            return Result(ErrorCode.SaslAuthenticationFailed, "Malformed PLAIN credentials.");
        string user = parts[1], password = parts[2];
        bool ok = options.SaslPlainUsers.TryGetValue(user, out var expected)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(password));
        if (!ok)
            return Result(ErrorCode.SaslAuthenticationFailed, $"Authentication failed: invalid username or password for {user}.");
        context.Session.Principal = user;
        return Result(ErrorCode.None, null);
    }

    private static ValueTask<IResponse?> Result(ErrorCode error, string? message) =>
        ValueTask.FromResult<IResponse?>(new SaslAuthenticateResponse { ErrorCode = error, ErrorMessage = message });
}
