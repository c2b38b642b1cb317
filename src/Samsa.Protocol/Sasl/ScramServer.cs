using System.Security.Cryptography;
using System.Text;

namespace Samsa.Protocol.Sasl;

/// <summary>
/// What a server keeps of a SCRAM password (RFC 5802 section 3): the salt, the iteration count,
/// StoredKey and ServerKey. Neither the password nor the salted password can be got back from it.
/// </summary>
public sealed record ScramCredential(byte[] Salt, byte[] StoredKey, byte[] ServerKey, int Iterations)
{
    /// <summary>From what AlterUserScramCredentials carries (the client salts the password).</summary>
    public static ScramCredential FromSaltedPassword(ScramAlgorithm algorithm, byte[] salt, byte[] saltedPassword, int iterations) =>
        new(salt, algorithm.StoredKey(algorithm.ClientKey(saltedPassword)), algorithm.ServerKey(saltedPassword), iterations);

    public static ScramCredential FromPassword(ScramAlgorithm algorithm, string password, int iterations = ScramAlgorithm.MinIterations, byte[]? salt = null)
    {
        salt ??= RandomNumberGenerator.GetBytes(32);
        return FromSaltedPassword(algorithm, salt, algorithm.SaltedPassword(password, salt, iterations), iterations);
    }
}

/// <summary>
/// A SCRAM exchange refused. <see cref="Specific"/> messages may go to the client as they are
/// (Kafka sends "Client requested an authorization id that is different from username"); the
/// others must not (they would tell whether a user exists), and the broker answers its generic text.
/// </summary>
public sealed class ScramAuthenticationException(string message, bool specific = false) : Exception(message)
{
    public bool Specific { get; } = specific;
}

/// <summary>
/// The server's side of one SCRAM exchange, as Kafka's ScramSaslServer runs it: the client-first
/// message names the user, whose credential <c>lookup</c> finds; an authorization id other than
/// the user, a credential below the minimum iterations, a wrong nonce, channel binding or proof end
/// it. No I/O.
/// </summary>
public sealed class ScramServer(ScramAlgorithm algorithm, Func<string, ScramCredential?> lookup, string? serverNonce = null)
{
    private ScramClientFirst? _clientFirst;
    private ScramCredential? _credential;
    private string? _serverFirst;
    private string? _nonce;

    public ScramAlgorithm Algorithm => algorithm;

    /// <summary>The user, once the client-first message was read.</summary>
    public string? UserName => _clientFirst?.UserName;

    public byte[] First(ReadOnlySpan<byte> clientFirstBytes)
    {
        if (_clientFirst is not null)
            throw new ScramAuthenticationException("Unexpected SCRAM client-first message: the exchange has begun.");
        ScramClientFirst clientFirst;
        try
        {
            clientFirst = ScramMessages.ParseClientFirst(Encoding.UTF8.GetString(clientFirstBytes));
        }
        catch (FormatException e)
        {
            throw new ScramAuthenticationException(e.Message);
        }
        _clientFirst = clientFirst;
        _credential = lookup(clientFirst.UserName) ?? throw new ScramAuthenticationException($"No {algorithm.Name} credential for user '{clientFirst.UserName}'.");
        if (clientFirst.AuthorizationId.Length > 0 && clientFirst.AuthorizationId != clientFirst.UserName)
            throw new ScramAuthenticationException("Authentication failed: Client requested an authorization id that is different from username", specific: true);
        if (_credential.Iterations < ScramAlgorithm.MinIterations)
            throw new ScramAuthenticationException($"Iterations {_credential.Iterations} is less than the minimum {ScramAlgorithm.MinIterations} for {algorithm.Name}.");
        _nonce = clientFirst.Nonce + (serverNonce ?? NewNonce());
        _serverFirst = ScramMessages.ServerFirst(_nonce, _credential.Salt, _credential.Iterations);
        return Encoding.UTF8.GetBytes(_serverFirst);
    }

    public byte[] Final(ReadOnlySpan<byte> clientFinalBytes)
    {
        if (_clientFirst is null || _credential is null || _serverFirst is null || _nonce is null)
            throw new ScramAuthenticationException("Unexpected SCRAM client-final message before the client-first one.");
        ScramClientFinal final;
        try
        {
            final = ScramMessages.ParseClientFinal(Encoding.UTF8.GetString(clientFinalBytes));
        }
        catch (FormatException e)
        {
            throw new ScramAuthenticationException(e.Message);
        }
        // RFC 5802 wants the nonce repeated exactly; librdkafka 2.0.2 (kcat) sends its own nonce
        // in front of the combined one, and Kafka accepts that by checking only the ending.
        if (!final.Nonce.EndsWith(_nonce, StringComparison.Ordinal))
            throw new ScramAuthenticationException("Invalid client nonce in the final client message.");
        if (!final.ChannelBinding.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(_clientFirst.Gs2Header)))
            throw new ScramAuthenticationException("The channel binding in the final client message does not repeat the GS2 header.");
        string authMessage = ScramMessages.AuthMessage(_clientFirst.Bare, _serverFirst, final.WithoutProof);
        if (!algorithm.VerifyClientProof(_credential.StoredKey, authMessage, final.Proof))
            throw new ScramAuthenticationException("Invalid client proof.");
        var signature = algorithm.ServerSignature(_credential.ServerKey, authMessage);
        _credential = null;
        return Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(signature));
    }

    private static string NewNonce() => new(RandomNumberGenerator.GetItems<char>("abcdefghijklmnopqrstuvwxyz0123456789", 26));
}
