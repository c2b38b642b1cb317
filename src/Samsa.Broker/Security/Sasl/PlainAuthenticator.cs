using System.Security.Cryptography;
using System.Text;

namespace Samsa.Broker.Security.Sasl;

/// <summary>
/// PLAIN (RFC 4616): one token, <c>authzid NUL user NUL password</c>, checked against the users of
/// the listener's PlainLoginModule in constant time. As Kafka's PlainSaslServer: an authorization
/// id other than the user is refused, and the messages are Kafka's.
/// </summary>
internal sealed class PlainAuthenticator(IReadOnlyDictionary<string, string> users) : ISaslAuthenticator
{
    public string Mechanism => SaslMechanisms.Plain;

    public bool IsComplete { get; private set; }

    public string? UserName { get; private set; }

    public byte[] Evaluate(ReadOnlySpan<byte> clientToken)
    {
        if (IsComplete)
            throw new SaslAuthenticationException("Authentication failed: PLAIN takes a single token.");
        string message = Encoding.UTF8.GetString(clientToken);
        var parts = message.Split('\0');
        if (parts.Length != 3)
            throw new SaslAuthenticationException("Invalid SASL/PLAIN response: expected 3 tokens, got " + parts.Length);
        string authzid = parts[0], user = parts[1], password = parts[2];
        if (user.Length == 0)
            throw new SaslAuthenticationException("Authentication failed: username not specified");
        if (password.Length == 0)
            throw new SaslAuthenticationException("Authentication failed: password not specified");
        // Compare against a dummy for unknown users too, so timing does not tell which users exist.
        string expected = users.TryGetValue(user, out var known) ? known : "\u0001no such user";
        bool ok = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(password))) && known is not null;
        if (!ok)
            throw new SaslAuthenticationException("Authentication failed: Invalid username or password");
        if (authzid.Length > 0 && authzid != user)
            throw new SaslAuthenticationException("Authentication failed: Client requested an authorization id that is different from username");
        UserName = user;
        IsComplete = true;
        return [];
    }
}
