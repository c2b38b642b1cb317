using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Security.Sasl;

/// <summary>
/// The SASL state of one connection on a SASL listener, as Kafka's SaslServerAuthenticator keeps
/// it: ApiVersions and SaslHandshake first; after a v1 handshake only SaslAuthenticate, after a v0
/// one raw size-prefixed tokens (kafka-python 2.0.2); then the authenticated session, which lasts
/// connections.max.reauth.ms when set (KIP-368) and may be renewed by a new handshake on the same
/// connection. Anything out of that order closes the connection; a refused authentication is
/// answered and then closed after connection.failed.authentication.delay.ms. No I/O: the
/// connection reads <see cref="ExpectsRawToken"/> and <see cref="Failure"/>.
/// </summary>
internal sealed class SaslServerSession(SaslListener listener)
{
    private enum State
    {
        Handshake,
        Authenticate,
        Complete,
        Failed,
    }

    private State _state = State.Handshake;
    private ISaslAuthenticator? _authenticator;
    private bool _rawTokens;
    private bool _clientSupportsReauthentication;
    private long _expiresAt;
    private KafkaPrincipal? _principal;
    private string? _mechanism;

    /// <summary>The authenticated principal (kept while re-authenticating), or null.</summary>
    public KafkaPrincipal? Principal => _principal;

    /// <summary>After a v0 handshake the next frames are bare SASL tokens, not Kafka requests.</summary>
    public bool ExpectsRawToken => _state == State.Authenticate && _rawTokens;

    /// <summary>Frames are capped at sasl.server.max.receive.size until authenticated, and while re-authenticating.</summary>
    public bool Authenticating => _state != State.Complete;

    /// <summary>Set when authentication failed: the connection sends what it has, waits the failure delay, and closes.</summary>
    public string? Failure { get; private set; }

    /// <summary>Throws <see cref="ProtocolException"/> (the connection closes) for a request Kafka would not take now.</summary>
    public void Admit(ApiKey key)
    {
        switch (_state)
        {
            case State.Complete when _expiresAt != 0 && listener.Time.GetTimestamp() >= _expiresAt:
                throw new ProtocolException($"{key} after the SASL session expired (connections.max.reauth.ms) without re-authentication.");
            case State.Complete:
                return;
            case State.Handshake when key is ApiKey.ApiVersions or ApiKey.SaslHandshake:
                return;
            case State.Handshake:
                throw new ProtocolException($"Unexpected Kafka request of type {key} during SASL handshake.");
            case State.Authenticate when key == ApiKey.SaslAuthenticate && !_rawTokens:
                return;
            case State.Authenticate:
                throw new ProtocolException($"Unexpected Kafka request of type {key} during SASL authentication.");
            default:
                throw new ProtocolException($"{key} after a failed SASL authentication.");
        }
    }

    public SaslHandshakeResponse Handshake(string mechanism, short version)
    {
        var response = new SaslHandshakeResponse { Mechanisms = [.. listener.Mechanisms] };
        if (_state == State.Complete && !_clientSupportsReauthentication)
        {
            // Kafka answers a handshake on an authenticated connection from a client that never
            // spoke SaslAuthenticate v1+ (no KIP-368) as its request handler does, and carries on.
            response.ErrorCode = ErrorCode.IllegalSaslState;
            return response;
        }
        string? enabled = listener.Mechanisms.FirstOrDefault(m => m == mechanism);
        if (enabled is null || (_state == State.Complete && enabled != _mechanism))
        {
            response.ErrorCode = ErrorCode.UnsupportedSaslMechanism;
            Fail(_state == State.Complete
                ? $"re-authentication must keep mechanism {_mechanism}, not {mechanism}"
                : $"unsupported SASL mechanism {mechanism}");
            return response;
        }
        _mechanism = enabled;
        _authenticator = listener.Start(enabled);
        _rawTokens = version == 0;
        _state = State.Authenticate;
        return response;
    }

    public SaslAuthenticateResponse Authenticate(byte[] token, short version)
    {
        if (_state == State.Complete)
            return new SaslAuthenticateResponse { ErrorCode = ErrorCode.IllegalSaslState, ErrorMessage = "SaslAuthenticate request received after successful authentication" };
        if (version > 0)
            _clientSupportsReauthentication = true;
        try
        {
            var reply = Evaluate(token, out long lifetimeMs);
            return new SaslAuthenticateResponse { AuthBytes = reply, SessionLifetimeMs = lifetimeMs };
        }
        catch (SaslAuthenticationException e)
        {
            Fail(e.Message);
            return new SaslAuthenticateResponse { ErrorCode = ErrorCode.SaslAuthenticationFailed, ErrorMessage = e.Message };
        }
    }

    /// <summary>A v0 token: the reply token, or null when authentication failed (v0 has no way to say why: the connection closes).</summary>
    public byte[]? RawToken(ReadOnlySpan<byte> token)
    {
        try
        {
            return Evaluate(token, out _);
        }
        catch (SaslAuthenticationException e)
        {
            Fail(e.Message);
            return null;
        }
    }

    private byte[] Evaluate(ReadOnlySpan<byte> token, out long lifetimeMs)
    {
        lifetimeMs = 0;
        var authenticator = _authenticator!;
        var reply = authenticator.Evaluate(token);
        if (!authenticator.IsComplete)
            return reply;
        var principal = KafkaPrincipal.User(authenticator.UserName!);
        if (_principal is not null && _principal != principal)
            throw new SaslAuthenticationException($"Cannot change principals during re-authentication from {_principal}: {principal}");
        _principal = principal;
        _state = State.Complete;
        _authenticator = null;
        if (listener.SessionLifetime > TimeSpan.Zero)
        {
            lifetimeMs = (long)listener.SessionLifetime.TotalMilliseconds;
            _expiresAt = listener.Time.GetTimestamp() + (long)(listener.SessionLifetime.TotalSeconds * listener.Time.TimestampFrequency);
        }
        return reply;
    }

    private void Fail(string reason)
    {
        _state = State.Failed;
        _authenticator = null;
        Failure = reason;
    }
}
