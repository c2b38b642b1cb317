using Samsa.Protocol;

namespace Samsa.Client.Errors;

/// <summary>
/// The client could not prove who it is to a broker, or the broker to it. Never retriable: the
/// same credentials fail again, so the operation fails at once instead of retrying until its
/// deadline (Java's AuthenticationException).
/// </summary>
public abstract class AuthenticationException : KafkaException
{
    /// <summary>An authentication failure with the broker's error code.</summary>
    protected AuthenticationException(ErrorCode error, string message, Exception? innerException)
        : base(error, message, innerException) { }

    /// <summary>Always false: the same credentials fail again.</summary>
    public override bool IsRetriable => false;
}

/// <summary>SASL failed: a wrong password, an unknown user, a mechanism the listener does not enable (SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM).</summary>
public sealed class SaslAuthenticationException : AuthenticationException
{
    /// <summary>A SASL failure with the broker's error code (SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM, ...).</summary>
    public SaslAuthenticationException(ErrorCode error, string message, Exception? innerException = null)
        : base(error, message, innerException) { }

    /// <summary>SASL_AUTHENTICATION_FAILED with a generic message.</summary>
    public SaslAuthenticationException() : this(ErrorCode.SaslAuthenticationFailed, "SASL authentication failed.") { }

    /// <summary>SASL_AUTHENTICATION_FAILED with a message.</summary>
    public SaslAuthenticationException(string message) : this(ErrorCode.SaslAuthenticationFailed, message) { }

    /// <summary>SASL_AUTHENTICATION_FAILED with a message and its cause.</summary>
    public SaslAuthenticationException(string message, Exception innerException) : this(ErrorCode.SaslAuthenticationFailed, message, innerException) { }
}

/// <summary>The TLS handshake failed: the broker's certificate is not trusted or not for its name, or the broker refused ours.</summary>
public sealed class SslAuthenticationException : AuthenticationException
{
    /// <summary>A failed TLS handshake and its cause.</summary>
    public SslAuthenticationException(string message, Exception? innerException = null)
        : base(ErrorCode.SaslAuthenticationFailed, message, innerException) { }

    /// <summary>A failed TLS handshake with a generic message.</summary>
    public SslAuthenticationException() : this("TLS handshake failed.") { }

    /// <summary>A failed TLS handshake with a message.</summary>
    public SslAuthenticationException(string message) : this(message, null) { }
}
