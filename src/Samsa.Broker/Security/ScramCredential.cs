using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Samsa.Broker.Security;

/// <summary>SCRAM-SHA-256 or SCRAM-SHA-512: the hash behind the mechanism (RFC 5802, RFC 7677).</summary>
public sealed class ScramHash
{
    public static readonly ScramHash Sha256 = new("SCRAM-SHA-256", HashAlgorithmName.SHA256, 32);
    public static readonly ScramHash Sha512 = new("SCRAM-SHA-512", HashAlgorithmName.SHA512, 64);

    /// <summary>Kafka's lower bound for both mechanisms.</summary>
    public const int MinIterations = 4096;

    private ScramHash(string mechanism, HashAlgorithmName algorithm, int size)
    {
        Mechanism = mechanism;
        Algorithm = algorithm;
        Size = size;
    }

    public string Mechanism { get; }

    public HashAlgorithmName Algorithm { get; }

    public int Size { get; }

    public static IReadOnlyList<ScramHash> All { get; } = [Sha256, Sha512];

    public static ScramHash? ForMechanism(string mechanism) => All.FirstOrDefault(h => h.Mechanism == mechanism);

    public byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) =>
        Algorithm == HashAlgorithmName.SHA256 ? HMACSHA256.HashData(key, data) : HMACSHA512.HashData(key, data);

    public byte[] Hash(ReadOnlySpan<byte> data) =>
        Algorithm == HashAlgorithmName.SHA256 ? SHA256.HashData(data) : SHA512.HashData(data);

    /// <summary>Hi() of RFC 5802, which is PBKDF2 with this HMAC.</summary>
    public byte[] SaltedPassword(string password, ReadOnlySpan<byte> salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, Algorithm, Size);

    /// <summary>What the broker keeps of a password: salt, iterations, StoredKey and ServerKey.</summary>
    public ScramCredential CreateCredential(string password, byte[] salt, int iterations)
    {
        if (iterations < MinIterations)
            throw new ArgumentOutOfRangeException(nameof(iterations), $"{Mechanism} needs at least {MinIterations} iterations.");
        var salted = SaltedPassword(password, salt, iterations);
        var clientKey = Hmac(salted, "Client Key"u8);
        var credential = new ScramCredential(salt, iterations, Hash(clientKey), Hmac(salted, "Server Key"u8));
        CryptographicOperations.ZeroMemory(salted);
        CryptographicOperations.ZeroMemory(clientKey);
        return credential;
    }

    public ScramCredential CreateCredential(string password, int iterations = MinIterations) =>
        CreateCredential(password, RandomNumberGenerator.GetBytes(32), iterations);
}

/// <summary>A user's SCRAM secret as Kafka stores it: never the password, only what verifies a proof.</summary>
public sealed record ScramCredential(byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey);

/// <summary>SCRAM users per mechanism. Thread-safe, so credentials can change while the broker serves.</summary>
public sealed class ScramCredentialStore
{
    private readonly ConcurrentDictionary<(string Mechanism, string User), ScramCredential> _credentials = new();

    public void Set(ScramHash hash, string user, ScramCredential credential) => _credentials[(hash.Mechanism, user)] = credential;

    public bool Remove(ScramHash hash, string user) => _credentials.TryRemove((hash.Mechanism, user), out _);

    public ScramCredential? Find(ScramHash hash, string user) => _credentials.TryGetValue((hash.Mechanism, user), out var c) ? c : null;

    public bool IsEmpty => _credentials.IsEmpty;

    /// <summary>Users with a credential, and for which mechanisms and iterations (DescribeUserScramCredentials' shape).</summary>
    public IEnumerable<(string User, string Mechanism, int Iterations)> Describe() =>
        _credentials.OrderBy(e => e.Key.User, StringComparer.Ordinal).ThenBy(e => e.Key.Mechanism, StringComparer.Ordinal)
            .Select(e => (e.Key.User, e.Key.Mechanism, e.Value.Iterations));
}
