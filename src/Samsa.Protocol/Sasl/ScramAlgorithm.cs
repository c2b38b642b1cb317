using System.Security.Cryptography;
using System.Text;

namespace Samsa.Protocol.Sasl;

/// <summary>
/// The arithmetic of SCRAM (RFC 5802, RFC 7677) for one hash: the salted password, the client and
/// server keys derived from it, proofs and signatures. Kafka's mechanisms are SCRAM-SHA-256 (type 1
/// in AlterUserScramCredentials) and SCRAM-SHA-512 (type 2), with 4096 to 16384 iterations.
/// Passwords are taken as their UTF-8 bytes, as Kafka and librdkafka do (no SASLprep).
/// </summary>
public sealed class ScramAlgorithm
{
    public const int MinIterations = 4096;
    public const int MaxIterations = 16384;

    public static ScramAlgorithm Sha256 { get; } = new("SCRAM-SHA-256", 1, HashAlgorithmName.SHA256);

    public static ScramAlgorithm Sha512 { get; } = new("SCRAM-SHA-512", 2, HashAlgorithmName.SHA512);

    public static IReadOnlyList<ScramAlgorithm> All { get; } = [Sha256, Sha512];

    public ScramAlgorithm(string name, sbyte type, HashAlgorithmName hash)
    {
        Name = name;
        Type = type;
        Hash = hash;
    }

    /// <summary>The SASL mechanism name.</summary>
    public string Name { get; }

    /// <summary>Kafka's ScramMechanism type in the user SCRAM credential APIs.</summary>
    public sbyte Type { get; }

    public HashAlgorithmName Hash { get; }

    public static ScramAlgorithm? FromName(string name) => All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    public static ScramAlgorithm? FromType(sbyte type) => All.FirstOrDefault(a => a.Type == type);

    private int HashSize => Hash == HashAlgorithmName.SHA512 ? 64 : Hash == HashAlgorithmName.SHA256 ? 32 : 20;

    /// <summary>Hi(password, salt, i): PBKDF2 with the mechanism's HMAC.</summary>
    public byte[] SaltedPassword(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, Hash, HashSize);

    public byte[] ClientKey(byte[] saltedPassword) => Hmac(saltedPassword, "Client Key"u8);

    public byte[] ServerKey(byte[] saltedPassword) => Hmac(saltedPassword, "Server Key"u8);

    public byte[] StoredKey(byte[] clientKey) => CryptographicOperations.HashData(Hash, clientKey);

    /// <summary>ClientKey XOR HMAC(StoredKey, AuthMessage).</summary>
    public byte[] ClientProof(byte[] saltedPassword, string authMessage)
    {
        var clientKey = ClientKey(saltedPassword);
        var signature = Hmac(StoredKey(clientKey), Encoding.UTF8.GetBytes(authMessage));
        for (int i = 0; i < clientKey.Length; i++)
            clientKey[i] ^= signature[i];
        return clientKey;
    }

    /// <summary>HMAC(ServerKey, AuthMessage): what the server proves itself with in its final message.</summary>
    public byte[] ServerSignature(byte[] serverKey, string authMessage) => Hmac(serverKey, Encoding.UTF8.GetBytes(authMessage));

    /// <summary>True when the proof came from someone holding the password behind <paramref name="storedKey"/>.</summary>
    public bool VerifyClientProof(byte[] storedKey, string authMessage, ReadOnlySpan<byte> proof)
    {
        var signature = Hmac(storedKey, Encoding.UTF8.GetBytes(authMessage));
        if (proof.Length != signature.Length)
            return false;
        for (int i = 0; i < signature.Length; i++)
            signature[i] ^= proof[i];
        return CryptographicOperations.FixedTimeEquals(CryptographicOperations.HashData(Hash, signature), storedKey);
    }

    private byte[] Hmac(byte[] key, ReadOnlySpan<byte> data) => CryptographicOperations.HmacData(Hash, key, data);

    public override string ToString() => Name;
}
