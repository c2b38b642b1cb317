using System.Security.Cryptography;
using System.Text;

namespace Samsa.Broker.Security;

/// <summary>
/// SASL/PLAIN (RFC 4616): one token, authzid NUL user NUL password. As Kafka, an authorization id
/// other than the user name is refused, and passwords are compared in constant time.
/// </summary>
public sealed class PlainMechanism(IReadOnlyDictionary<string, string> users) : ISaslMechanism
{
    public const string MechanismName = "PLAIN";

    public string Name => MechanismName;

    public ISaslAuthenticator Create() => new Authenticator(users);

    private sealed class Authenticator(IReadOnlyDictionary<string, string> users) : ISaslAuthenticator
    {
        private bool _done;

        public string Mechanism => MechanismName;

        public SaslStep Evaluate(ReadOnlySpan<byte> token)
        {
            if (_done)
                return SaslStep.Failure("Authentication failed: PLAIN takes a single token.");
            _done = true;
            var parts = Encoding.UTF8.GetString(token).Split('\0');
            if (parts.Length != 3)
                return SaslStep.Failure($"Invalid SASL/PLAIN response: expected 3 tokens, got {parts.Length}");
            string authzid = parts[0], user = parts[1], password = parts[2];
            if (user.Length == 0)
                return SaslStep.Failure("Authentication failed: username not specified");
            if (password.Length == 0)
                return SaslStep.Failure("Authentication failed: password not specified");
            bool ok = users.TryGetValue(user, out var expected)
                && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(password));
            if (!ok)
                return SaslStep.Failure("Authentication failed: Invalid username or password");
            if (authzid.Length > 0 && authzid != user)
                return SaslStep.Failure("Authentication failed: Client requested an authorization id that is different from username");
            return SaslStep.Success(user);
        }
    }
}
