using Samsa.Protocol.Sasl;

namespace Samsa.Broker.Security.Sasl;

/// <summary>
/// SCRAM-SHA-256 / SCRAM-SHA-512: client-first → server-first, client-final → server-final, with
/// the user's salted credential from the <see cref="ScramCredentialStore"/>. Failures other than a
/// foreign authorization id get Kafka's generic message, which does not say whether the user exists.
/// </summary>
internal sealed class ScramAuthenticator(ScramAlgorithm algorithm, ScramCredentialStore store) : ISaslAuthenticator
{
    private readonly ScramServer _server = new(algorithm, user => store.Get(user, algorithm));
    private int _step;

    public string Mechanism => algorithm.Name;

    public bool IsComplete => _step == 2;

    public string? UserName => IsComplete ? _server.UserName : null;

    public byte[] Evaluate(ReadOnlySpan<byte> clientToken)
    {
        try
        {
            return _step switch
            {
                0 => Step(_server.First(clientToken)),
                1 => Step(_server.Final(clientToken)),
                _ => throw new SaslAuthenticationException("Authentication failed: the SCRAM exchange is already complete."),
            };
        }
        catch (ScramAuthenticationException e)
        {
            throw new SaslAuthenticationException(e.Specific ? e.Message
                : $"Authentication failed during authentication due to invalid credentials with SASL mechanism {algorithm.Name}");
        }
    }

    private byte[] Step(byte[] token)
    {
        _step++;
        return token;
    }
}
