using System.Security.Cryptography;
using System.Text;

namespace Samsa.Protocol.Sasl;

/// <summary>
/// The client's side of one SCRAM exchange: <see cref="First"/>, then <see cref="Final"/> with the
/// server's first message, then <see cref="Verify"/> with its final one (which proves the server
/// knew the credential too). No I/O; the caller carries the tokens.
/// </summary>
public sealed class ScramClient
{
    private readonly ScramAlgorithm _algorithm;
    private readonly string _user;
    private readonly string _password;
    private readonly string _nonce;
    private string? _authMessage;
    private byte[]? _saltedPassword;

    public ScramClient(ScramAlgorithm algorithm, string user, string password, string? nonce = null)
    {
        _algorithm = algorithm;
        _user = user;
        _password = password;
        _nonce = nonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace(',', '-');
    }

    private string Bare => $"n={ScramMessages.EncodeSaslName(_user)},r={_nonce}";

    public byte[] First() => Encoding.UTF8.GetBytes("n,," + Bare);

    public byte[] Final(ReadOnlySpan<byte> serverFirstBytes)
    {
        var serverFirst = ScramMessages.ParseServerFirst(Encoding.UTF8.GetString(serverFirstBytes));
        if (!serverFirst.Nonce.StartsWith(_nonce, StringComparison.Ordinal) || serverFirst.Nonce.Length == _nonce.Length)
            throw new FormatException("The server's SCRAM nonce does not extend ours.");
        if (serverFirst.Iterations < ScramAlgorithm.MinIterations)
            throw new FormatException($"The server asks for {serverFirst.Iterations} SCRAM iterations, fewer than the minimum {ScramAlgorithm.MinIterations}.");
        string withoutProof = $"c=biws,r={serverFirst.Nonce}";
        _authMessage = ScramMessages.AuthMessage(Bare, serverFirst.Text, withoutProof);
        _saltedPassword = _algorithm.SaltedPassword(_password, serverFirst.Salt, serverFirst.Iterations);
        var proof = _algorithm.ClientProof(_saltedPassword, _authMessage);
        return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}");
    }

    /// <summary>Throws when the server's signature is not the one its credential gives.</summary>
    public void Verify(ReadOnlySpan<byte> serverFinalBytes)
    {
        if (_authMessage is null || _saltedPassword is null)
            throw new InvalidOperationException("Final must come before Verify.");
        var signature = ScramMessages.ParseServerFinal(Encoding.UTF8.GetString(serverFinalBytes));
        var expected = _algorithm.ServerSignature(_algorithm.ServerKey(_saltedPassword), _authMessage);
        if (!CryptographicOperations.FixedTimeEquals(signature, expected))
            throw new FormatException("The server's SCRAM signature is wrong: it does not hold this user's credential.");
    }
}
