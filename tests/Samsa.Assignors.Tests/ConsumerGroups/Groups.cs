namespace Samsa.Assignors.Tests.ConsumerGroups;

/// <summary>Builds specs from plain arrays and reads assignments back as sorted arrays, and checks the invariants every assignment must meet.</summary>
internal static class Groups
{
    /// <summary>Topic ids whose order is their number, so expected outputs read in topic order.</summary>
    public static Guid T(int i) => new(i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public sealed class Metadata(IReadOnlyDictionary<Guid, int> counts) : ITopicMetadata
    {
        public IReadOnlyDictionary<Guid, int> Counts => counts;

        public int PartitionCount(Guid topicId) => counts.TryGetValue(topicId, out int n) ? n : -1;
    }

    public static Metadata Topics(params (int Topic, int Partitions)[] topics) =>
        new(topics.ToDictionary(t => T(t.Topic), t => t.Partitions));

    public sealed record Member(int[] Topics, Dictionary<int, int[]>? Current = null);

    public static MemberSpec Spec(Member m) => new(null, m.Topics.Select(T).ToList(),
        (m.Current ?? []).ToDictionary(kv => T(kv.Key), kv => (IReadOnlySet<int>)kv.Value.ToHashSet()));

    public static GroupSpec Group(IEnumerable<(string Id, Member Member)> members) =>
        new(members.ToDictionary(m => m.Id, m => Spec(m.Member)));

    public static GroupSpec Group(params (string Id, Member Member)[] members) => Group((IEnumerable<(string, Member)>)members);

    /// <summary>A spec whose current assignments are the given (flattened) assignment.</summary>
    public static GroupSpec WithCurrent(IEnumerable<(string Id, Guid[] Topics)> members, IReadOnlyDictionary<string, Dictionary<Guid, int[]>> current,
        Func<int[], IReadOnlySet<int>>? asSet = null) =>
        new(members.ToDictionary(m => m.Id, m => new MemberSpec(null, m.Topics,
            current.TryGetValue(m.Id, out var a) ? a.ToDictionary(kv => kv.Key, kv => (asSet ?? (p => p.ToHashSet()))(kv.Value)) : [])));

    /// <summary>Member -> topic -> ascending partitions.</summary>
    public static Dictionary<string, Dictionary<Guid, int[]>> Flatten(GroupAssignment assignment) =>
        assignment.Members.ToDictionary(m => m.Key, m => m.Value.ToDictionary(kv => kv.Key, kv => kv.Value.Order().ToArray()));

    /// <summary>Readable form for exact comparisons: "a: 1[0,1] 2[3]".</summary>
    public static string Show(GroupAssignment assignment) =>
        string.Join(" | ", Flatten(assignment).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m =>
            $"{m.Key}: " + string.Join(" ", m.Value.OrderBy(kv => kv.Key).Select(kv => $"{Number(kv.Key)}[{string.Join(",", kv.Value)}]"))));

    private static int Number(Guid id) => BitConverter.ToInt32(id.ToByteArray(), 0);

    public static Dictionary<(Guid Topic, int Partition), string> Owners(Dictionary<string, Dictionary<Guid, int[]>> flat) =>
        flat.SelectMany(m => m.Value.SelectMany(kv => kv.Value.Select(p => ((kv.Key, p), m.Key)))).ToDictionary(x => x.Item1, x => x.Key);

    public static int Load(Dictionary<string, Dictionary<Guid, int[]>> flat, string member) => flat[member].Values.Sum(p => p.Length);

    /// <summary>
    /// Every member has an entry; every partition of a topic that exists and has a subscriber goes
    /// to exactly one subscriber; nothing else is assigned; no empty sets.
    /// </summary>
    public static void AssertComplete(GroupSpec group, Metadata topics, GroupAssignment assignment)
    {
        Assert.Equal(group.Members.Keys.Order(StringComparer.Ordinal), assignment.Members.Keys.Order(StringComparer.Ordinal));
        var seen = new HashSet<(Guid, int)>();
        foreach (var (id, partitions) in assignment.Members)
        {
            var subscribed = group.Members[id].SubscribedTopicIds.ToHashSet();
            foreach (var (topic, set) in partitions)
            {
                Assert.Contains(topic, subscribed);
                Assert.NotEmpty(set);
                int count = topics.PartitionCount(topic);
                foreach (int p in set)
                {
                    Assert.InRange(p, 0, count - 1);
                    Assert.True(seen.Add((topic, p)), $"{topic}-{p} assigned twice");
                }
            }
        }
        var wanted = group.Members.Values.SelectMany(m => m.SubscribedTopicIds).Distinct()
            .Where(t => topics.PartitionCount(t) > 0).Sum(t => topics.PartitionCount(t));
        Assert.Equal(wanted, seen.Count);
    }

    /// <summary>Partitions whose owner changed, counting only those whose previous owner is still in the group.</summary>
    public static int Moved(Dictionary<string, Dictionary<Guid, int[]>> before, Dictionary<string, Dictionary<Guid, int[]>> after)
    {
        var now = Owners(after);
        return Owners(before).Count(kv => after.ContainsKey(kv.Value) && now.TryGetValue(kv.Key, out var owner) && owner != kv.Value);
    }
}
