using System.Collections.Frozen;
using System.Globalization;
using Samsa.Protocol.Sasl;

namespace Samsa.Broker.Security.Sasl;

/// <summary>
/// The SCRAM users (AlterUserScramCredentials, <c>samsa users</c>), kept in
/// <c>scram-credentials</c> in the data directory: salt, iterations, StoredKey and ServerKey per
/// user and mechanism, never a password or a salted password. Every change rewrites the file
/// (written aside, fsynced, renamed over) before it is published; readers take the published
/// snapshot without a lock. Users from sasl.scram.users are salted when the store opens and kept
/// in memory only; a durable credential of the same user and mechanism wins over them.
/// </summary>
public sealed class ScramCredentialStore
{
    public const string FileName = "scram-credentials";
    private const string Version = "v1";

    private readonly string _path;
    private readonly Lock _lock = new();
    private volatile FrozenDictionary<(string User, string Mechanism), ScramCredential> _credentials;
    private readonly FrozenDictionary<(string User, string Mechanism), ScramCredential> _configured;

    public ScramCredentialStore(string dataDirectory, IReadOnlyDictionary<string, string>? configuredUsers = null)
    {
        _path = Path.Combine(dataDirectory, FileName);
        _credentials = Load(_path).ToFrozenDictionary();
        _configured = Salt(configuredUsers).ToFrozenDictionary();
    }

    public ScramCredential? Get(string user, ScramAlgorithm algorithm) =>
        _credentials.TryGetValue((user, algorithm.Name), out var credential) ? credential
        : _configured.TryGetValue((user, algorithm.Name), out credential) ? credential
        : null;

    /// <summary>Credentials for sasl.scram.users: a random salt per user and mechanism, 4096 iterations.</summary>
    private static Dictionary<(string, string), ScramCredential> Salt(IReadOnlyDictionary<string, string>? users)
    {
        var credentials = new Dictionary<(string, string), ScramCredential>();
        foreach (var (user, password) in users ?? new Dictionary<string, string>())
        {
            foreach (var algorithm in ScramAlgorithm.All)
                credentials[(user, algorithm.Name)] = ScramCredential.FromPassword(algorithm, password);
        }
        return credentials;
    }

    /// <summary>Every user with at least one credential, and their mechanisms with iterations.</summary>
    public IReadOnlyDictionary<string, List<(ScramAlgorithm Algorithm, int Iterations)>> Users()
    {
        var users = new SortedDictionary<string, List<(ScramAlgorithm, int)>>(StringComparer.Ordinal);
        foreach (var ((user, mechanism), credential) in _configured.Where(c => !_credentials.ContainsKey(c.Key)).Concat(_credentials))
        {
            if (!users.TryGetValue(user, out var list))
                users[user] = list = [];
            list.Add((ScramAlgorithm.FromName(mechanism)!, credential.Iterations));
        }
        foreach (var list in users.Values)
            list.Sort((a, b) => a.Item1.Type.CompareTo(b.Item1.Type));
        return users;
    }

    /// <summary>Applies upserts (a credential) and deletions (null) together, persisted before they are visible.</summary>
    public void Apply(IReadOnlyList<(string User, ScramAlgorithm Algorithm, ScramCredential? Credential)> changes)
    {
        if (changes.Count == 0)
            return;
        lock (_lock)
        {
            var next = new Dictionary<(string, string), ScramCredential>(_credentials);
            foreach (var (user, algorithm, credential) in changes)
            {
                if (credential is null)
                    next.Remove((user, algorithm.Name));
                else
                    next[(user, algorithm.Name)] = credential;
            }
            Save(next);
            _credentials = next.ToFrozenDictionary();
        }
    }

    private void Save(Dictionary<(string User, string Mechanism), ScramCredential> credentials)
    {
        DurableFile.Replace(_path, credentials.OrderBy(c => c.Key.User, StringComparer.Ordinal).ThenBy(c => c.Key.Mechanism, StringComparer.Ordinal)
            .Select(e => string.Join(' ', Version, e.Key.Mechanism, Uri.EscapeDataString(e.Key.User), e.Value.Iterations.ToString(CultureInfo.InvariantCulture),
                Convert.ToBase64String(e.Value.Salt), Convert.ToBase64String(e.Value.StoredKey), Convert.ToBase64String(e.Value.ServerKey)))
            .Prepend("# Samsa SCRAM credentials: version, mechanism, user, iterations, salt, StoredKey, ServerKey (base64). No passwords."));
    }

    private static Dictionary<(string, string), ScramCredential> Load(string path)
    {
        var credentials = new Dictionary<(string, string), ScramCredential>();
        if (!File.Exists(path))
            return credentials;
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0 || line[0] == '#')
                continue;
            var f = line.Split(' ');
            if (f.Length != 7 || f[0] != Version || ScramAlgorithm.FromName(f[1]) is not { } algorithm
                || !int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations))
                throw new Samsa.Storage.StorageException($"{path}:{number}: not a SCRAM credential line; fix or remove it.");
            try
            {
                credentials[(Uri.UnescapeDataString(f[2]), algorithm.Name)] = new ScramCredential(
                    Convert.FromBase64String(f[4]), Convert.FromBase64String(f[5]), Convert.FromBase64String(f[6]), iterations);
            }
            catch (FormatException e)
            {
                throw new Samsa.Storage.StorageException($"{path}:{number}: bad base64 in a SCRAM credential: {e.Message}");
            }
        }
        return credentials;
    }
}
