using System.Security.Cryptography;
using System.Text;

namespace Samsa.Broker.Security;

/// <summary>
/// SCRAM-SHA-256 / SCRAM-SHA-512 as Kafka serves them (RFC 5802, 7677): client-first → server-first
/// (combined nonce, salt, iterations) → client-final (proof) → server-final (server signature).
/// No channel binding ("n" or "y" GS2 flags only); extensions such as tokenauth are ignored.
/// </summary>
public sealed class ScramMechanism(ScramHash hash, ScramCredentialStore store, Func<string>? serverNonce = null) : ISaslMechanism
{
    public string Name => hash.Mechanism;

    public ISaslAuthenticator Create() => new Authenticator(hash, store, serverNonce ?? RandomNonce);

    private static string RandomNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    private sealed class Authenticator(ScramHash hash, ScramCredentialStore store, Func<string> serverNonce) : ISaslAuthenticator
    {
        private enum State { ClientFirst, ClientFinal, Done }

        private State _state;
        private string _user = "";
        private string _gs2Header = "";
        private string _nonce = "";
        private string _clientFirstBare = "";
        private string _serverFirst = "";
        private ScramCredential? _credential;

        public string Mechanism => hash.Mechanism;

        private string InvalidCredentials => $"Authentication failed during authentication due to invalid credentials with SASL mechanism {hash.Mechanism}";

        public SaslStep Evaluate(ReadOnlySpan<byte> token)
        {
            string message = Encoding.UTF8.GetString(token);
            switch (_state)
            {
                case State.ClientFirst:
                    _state = State.ClientFinal;
                    return ClientFirst(message);
                case State.ClientFinal:
                    _state = State.Done;
                    return ClientFinal(message);
                default:
                    return SaslStep.Failure("Authentication failed: the SCRAM exchange is already over.");
            }
        }

        private SaslStep ClientFirst(string message)
        {
            // gs2-header = ("n" | "y") "," [ "a=" authzid ] ","
            if (message.Length < 3 || message[0] is not ('n' or 'y') || message[1] != ',')
                return SaslStep.Failure("Authentication failed: invalid client first message (channel binding is not supported)");
            int second = message.IndexOf(',', 2);
            if (second < 0)
                return SaslStep.Failure("Authentication failed: invalid client first message");
            string authzid = message[2..second];
            _gs2Header = message[..(second + 1)];
            _clientFirstBare = message[(second + 1)..];
            string? user = null, nonce = null;
            foreach (var attribute in _clientFirstBare.Split(','))
            {
                if (attribute.StartsWith("n=", StringComparison.Ordinal))
                    user = DecodeName(attribute[2..]);
                else if (attribute.StartsWith("r=", StringComparison.Ordinal))
                    nonce = attribute[2..];
                else if (attribute.StartsWith("m=", StringComparison.Ordinal))
                    return SaslStep.Failure("Authentication failed: mandatory SCRAM extensions are not supported");
            }
            if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(nonce))
                return SaslStep.Failure("Authentication failed: invalid client first message");
            _credential = store.Find(hash, user);
            if (_credential is null)
                return SaslStep.Failure(InvalidCredentials);
            if (authzid.Length > 0 && DecodeName(authzid.StartsWith("a=", StringComparison.Ordinal) ? authzid[2..] : authzid) != user)
                return SaslStep.Failure("Authentication failed: Client requested an authorization id that is different from username");
            _user = user;
            _nonce = nonce + serverNonce();
            _serverFirst = $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}";
            return SaslStep.Challenge(Encoding.UTF8.GetBytes(_serverFirst));
        }

        private SaslStep ClientFinal(string message)
        {
            int proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
            if (proofAt < 0 || _credential is null)
                return SaslStep.Failure("Authentication failed: Invalid client final message");
            string withoutProof = message[..proofAt];
            string? binding = null, nonce = null;
            foreach (var attribute in withoutProof.Split(','))
            {
                if (attribute.StartsWith("c=", StringComparison.Ordinal))
                    binding = attribute[2..];
                else if (attribute.StartsWith("r=", StringComparison.Ordinal))
                    nonce = attribute[2..];
            }
            if (nonce != _nonce)
                return SaslStep.Failure("Invalid client nonce in the final client message.");
            if (binding != Convert.ToBase64String(Encoding.UTF8.GetBytes(_gs2Header)))
                return SaslStep.Failure("Authentication failed: Invalid client final message");
            byte[] proof;
            try
            {
                proof = Convert.FromBase64String(message[(proofAt + 3)..]);
            }
            catch (FormatException)
            {
                return SaslStep.Failure("Authentication failed: Invalid client final message");
            }
            var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
            var signature = hash.Hmac(_credential.StoredKey, authMessage);
            if (proof.Length != signature.Length)
                return SaslStep.Failure(InvalidCredentials);
            for (int i = 0; i < proof.Length; i++)
                signature[i] ^= proof[i]; // now the client key the proof claims
            if (!CryptographicOperations.FixedTimeEquals(hash.Hash(signature), _credential.StoredKey))
                return SaslStep.Failure(InvalidCredentials);
            var serverSignature = hash.Hmac(_credential.ServerKey, authMessage);
            return SaslStep.Success(_user, Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature)));
        }

        /// <summary>saslname of RFC 5802: ',' and '=' arrive as "=2C" and "=3D".</summary>
        private static string DecodeName(string name) => name.Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
    }
}
