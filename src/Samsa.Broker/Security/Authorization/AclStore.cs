using System.Collections.Frozen;

namespace Samsa.Broker.Security.Authorization;

/// <summary>
/// The ACLs, kept in <c>acls</c> in the data directory, one binding a line. Every change rewrites
/// the file (written aside, fsynced, renamed over) before it is published; the authorizer reads
/// the published snapshot, grouped by resource type, without a lock.
/// </summary>
public sealed class AclStore
{
    public const string FileName = "acls";
    private const string Version = "v1";

    private readonly string _path;
    private readonly Lock _lock = new();
    private volatile State _snapshot;

    private sealed record State(List<AclBinding> All, FrozenDictionary<AclResourceType, AclBinding[]> ByType);

    public AclStore(string dataDirectory)
    {
        _path = Path.Combine(dataDirectory, FileName);
        _snapshot = Publish(Load(_path));
    }

    public IReadOnlyList<AclBinding> All() => _snapshot.All;

    public ReadOnlySpan<AclBinding> For(AclResourceType type) =>
        _snapshot.ByType.TryGetValue(type, out var acls) ? acls : [];

    public void Add(IReadOnlyList<AclBinding> bindings)
    {
        if (bindings.Count == 0)
            return;
        lock (_lock)
        {
            var next = _snapshot.All.Concat(bindings).Distinct().ToList();
            Save(next);
            _snapshot = Publish(next);
        }
    }

    public IReadOnlyList<IReadOnlyList<AclBinding>> Remove(IReadOnlyList<AclBindingFilter> filters)
    {
        lock (_lock)
        {
            var current = _snapshot.All;
            var removed = filters.Select(f => (IReadOnlyList<AclBinding>)current.Where(f.Matches).ToList()).ToList();
            var next = current.Where(b => !filters.Any(f => f.Matches(b))).ToList();
            if (next.Count != current.Count)
            {
                Save(next);
                _snapshot = Publish(next);
            }
            return removed;
        }
    }

    private static State Publish(List<AclBinding> all) =>
        new(all, all.GroupBy(b => b.ResourceType).ToFrozenDictionary(g => g.Key, g => g.ToArray()));

    private void Save(List<AclBinding> bindings)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        DurableFile.Replace(_path, bindings.Select(b => string.Join(' ', Version, b.ResourceType, b.PatternType, Uri.EscapeDataString(b.ResourceName),
                Uri.EscapeDataString(b.Principal), Uri.EscapeDataString(b.Host), b.Operation, b.Permission))
            .Prepend("# Samsa ACLs: version, resource type, pattern type, resource name, principal, host, operation, permission (names escaped)."));
    }

    private static List<AclBinding> Load(string path)
    {
        var bindings = new List<AclBinding>();
        if (!File.Exists(path))
            return bindings;
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0 || line[0] == '#')
                continue;
            var f = line.Split(' ');
            if (f.Length != 8 || f[0] != Version
                || !Enum.TryParse<AclResourceType>(f[1], out var type) || !Enum.TryParse<AclPatternType>(f[2], out var pattern)
                || !Enum.TryParse<AclOperation>(f[6], out var operation) || !Enum.TryParse<AclPermissionType>(f[7], out var permission))
                throw new Samsa.Storage.StorageException($"{path}:{number}: not an ACL line; fix or remove it.");
            var binding = new AclBinding(type, Uri.UnescapeDataString(f[3]), pattern, Uri.UnescapeDataString(f[4]), Uri.UnescapeDataString(f[5]), operation, permission);
            if (binding.Problem() is { } problem)
                throw new Samsa.Storage.StorageException($"{path}:{number}: {problem}; fix or remove the line.");
            bindings.Add(binding);
        }
        return bindings;
    }
}
