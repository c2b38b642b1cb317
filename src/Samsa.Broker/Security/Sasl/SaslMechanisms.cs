namespace Samsa.Broker.Security.Sasl;

/// <summary>The SASL mechanisms Samsa serves, by their IANA names.</summary>
internal static class SaslMechanisms
{
    public const string Plain = "PLAIN";
    public const string ScramSha256 = "SCRAM-SHA-256";
    public const string ScramSha512 = "SCRAM-SHA-512";

    public static string Supported => $"{Plain}, {ScramSha256}, {ScramSha512}";

    /// <summary>The canonical name, or null for a mechanism Samsa does not serve (GSSAPI, OAUTHBEARER, ...).</summary>
    public static string? Parse(string name) => name.Trim().ToUpperInvariant() switch
    {
        Plain => Plain,
        ScramSha256 => ScramSha256,
        ScramSha512 => ScramSha512,
        _ => null,
    };
}

/// <summary>
/// A client's authentication refused. The message goes to the client in SaslAuthenticate's
/// error_message, so it says what Kafka says and never whether a user exists.
/// </summary>
internal sealed class SaslAuthenticationException(string message) : Exception(message);

/// <summary>
/// One mechanism's server side for one connection, with whatever state its steps need between
/// tokens. The connection's <see cref="SaslServerSession"/> creates one per (re-)authentication.
/// </summary>
internal interface ISaslAuthenticator
{
    string Mechanism { get; }

    /// <summary>Takes the client's next token and returns the server's; throws <see cref="SaslAuthenticationException"/> to refuse.</summary>
    byte[] Evaluate(ReadOnlySpan<byte> clientToken);

    bool IsComplete { get; }

    /// <summary>The authenticated user, once complete.</summary>
    string? UserName { get; }
}
