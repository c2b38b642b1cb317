namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// Helpers for assignments as the coordinator keeps them: topic id → set of partitions, never an
/// empty set. Instances are treated as immutable once built, so members and views share them.
/// </summary>
internal static class TopicAssignment
{
    public static readonly IReadOnlyDictionary<Guid, IReadOnlySet<int>> Empty = new Dictionary<Guid, IReadOnlySet<int>>();

    public static bool AreEqual(IReadOnlyDictionary<Guid, IReadOnlySet<int>> a, IReadOnlyDictionary<Guid, IReadOnlySet<int>> b)
    {
        if (ReferenceEquals(a, b))
            return true;
        if (a.Count != b.Count)
            return false;
        foreach (var (topic, partitions) in a)
        {
            if (!b.TryGetValue(topic, out var other) || !partitions.SetEquals(other))
                return false;
        }
        return true;
    }

    public static int Count(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment)
    {
        int n = 0;
        foreach (var partitions in assignment.Values)
            n += partitions.Count;
        return n;
    }

    public static bool Contains(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment, Guid topic, int partition) =>
        assignment.TryGetValue(topic, out var partitions) && partitions.Contains(partition);

    /// <summary>Builds an assignment from (topic, partitions) pairs, dropping empty ones and merging repeats.</summary>
    public static IReadOnlyDictionary<Guid, IReadOnlySet<int>> From(IEnumerable<(Guid Topic, IEnumerable<int> Partitions)> pairs)
    {
        var result = new Dictionary<Guid, IReadOnlySet<int>>();
        foreach (var (topic, partitions) in pairs)
        {
            var set = result.TryGetValue(topic, out var existing) ? new HashSet<int>(existing) : [];
            set.UnionWith(partitions);
            if (set.Count > 0)
                result[topic] = set;
        }
        return result.Count == 0 ? Empty : result;
    }

    /// <summary>Every (topic, partition) of an assignment, topics and partitions in ascending order (stable output).</summary>
    public static IEnumerable<(Guid Topic, int[] Partitions)> Sorted(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment) =>
        assignment.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value.Order().ToArray()));

    public static string Describe(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment, ITopicCatalog topics) =>
        string.Join(", ", Sorted(assignment).Select(t => $"{topics.NameOf(t.Topic) ?? t.Topic.ToString()}-[{string.Join(",", t.Partitions)}]"));
}
