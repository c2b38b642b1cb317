using CsCheck;
using static Samsa.Assignors.Tests.ConsumerGroups.Groups;

namespace Samsa.Assignors.Tests.ConsumerGroups;

/// <summary>
/// Random groups (up to five topics, some missing, up to nine members with random or identical
/// subscriptions), assigned fresh and then again after one change: a member joins, leaves or
/// changes its subscription, or a topic is resized or deleted. Every assignment must be complete,
/// balanced, stable and independent of the order the spec enumerates in; uniform must move no
/// more than it has to.
/// </summary>
public class AssignorPropertyTests
{
    private enum Change { Join, Leave, Resubscribe, Resize }

    private sealed record Scenario(int[] Partitions, int[] Masks, Change Change, int Mask, int Pick, int NewCount)
    {
        public override string ToString() =>
            $"partitions [{string.Join(",", Partitions)}] masks [{string.Join(",", Masks)}] then {Change} mask {Mask} pick {Pick} count {NewCount}";
    }

    private static Gen<Scenario> Scenarios(int topics, int members, int partitions) => Gen.Select(
        Gen.Int[-1, partitions].Array[1, topics],
        Gen.Bool,
        Gen.Int[0, 31].Array[0, members],
        Gen.Enum<Change>(),
        Gen.Int[0, 31],
        Gen.Int[0, 1000],
        Gen.Int[-1, partitions],
        (counts, identical, masks, change, mask, pick, newCount) =>
            new Scenario(counts, identical ? [.. masks.Select(_ => masks[0])] : masks, change, mask, pick, newCount));

    private static readonly Gen<Scenario> Small = Scenarios(topics: 5, members: 9, partitions: 12);

    private static readonly Gen<Scenario> Large = Scenarios(topics: 8, members: 40, partitions: 60);

    [Theory]
    [InlineData("uniform")]
    [InlineData("range")]
    public void Small_groups(string name) => Small.Sample(s => Run(name, s), iter: 400);

    [Theory]
    [InlineData("uniform")]
    [InlineData("range")]
    public void Larger_groups(string name) => Large.Sample(s => Run(name, s), iter: 60);

    private static void Run(string name, Scenario s)
    {
        var assignor = ConsumerGroupAssignors.Create(name);
        var members = s.Masks.Select((mask, i) => ($"m{i * 37 % 101:D3}", TopicsOf(s, mask))).ToList();
        var metadata = Metadata(s.Partitions);
        var empty = new Dictionary<string, Dictionary<Guid, int[]>>();
        var first = Flatten(Checked(assignor, members, empty, metadata));

        // The change, applied to members that keep their current (first) assignment.
        var counts = s.Partitions.ToArray();
        bool identical = s.Masks.Distinct().Count() <= 1;
        switch (s.Change)
        {
            case Change.Join:
                members.Add(($"new{s.Pick}", TopicsOf(s, identical && s.Masks.Length > 0 ? s.Masks[0] : s.Mask)));
                break;
            case Change.Leave when members.Count > 0:
                members.RemoveAt(s.Pick % members.Count);
                break;
            case Change.Resubscribe when members.Count > 0:
                int who = s.Pick % members.Count;
                members = [.. members.Select((m, i) => identical || i == who ? (m.Item1, TopicsOf(s, s.Mask)) : m)];
                break;
            case Change.Resize:
                counts[s.Pick % counts.Length] = s.NewCount;
                break;
        }
        metadata = Metadata(counts);
        var second = Flatten(Checked(assignor, members, first, metadata));

        if (name == "uniform")
            AssertFewestMoves(members, first, second, metadata);
    }

    /// <summary>Assigns, checks the invariants, and checks that a rerun on the result changes nothing.</summary>
    private static GroupAssignment Checked(IConsumerGroupAssignor assignor, List<(string Id, Guid[] Topics)> members,
        Dictionary<string, Dictionary<Guid, int[]>> current, Metadata metadata)
    {
        var spec = WithCurrent(members, current);
        var assignment = assignor.Assign(spec, metadata);
        AssertComplete(spec, metadata, assignment);
        var flat = Flatten(assignment);
        AssertBalanced(spec, flat, metadata, perTopic: assignor.Name == "range");

        // Determinism: members, subscriptions and current sets in the opposite order, and another set type.
        var reversed = WithCurrent(Enumerable.Reverse(members).Select(m => (m.Id, m.Topics.Reverse().ToArray())),
            current.ToDictionary(kv => kv.Key, kv => kv.Value.Reverse().ToDictionary(t => t.Key, t => t.Value.Reverse().ToArray())),
            p => new SortedSet<int>(p));
        Assert.Equal(Show(assignment), Show(assignor.Assign(reversed, metadata)));

        // Stability: the result as the current assignment moves nothing.
        var again = assignor.Assign(WithCurrent(members, flat), metadata);
        Assert.Equal(Show(assignment), Show(again));

        // The coordinator's way: the result itself as the current assignment comes back as is.
        var own = new GroupSpec(members.ToDictionary(m => m.Id, m => new MemberSpec(null, m.Topics, assignment.Members[m.Id])));
        var rerun = assignor.Assign(own, metadata);
        Assert.All(members, m => Assert.Same(assignment.Members[m.Id], rerun.Members[m.Id]));
        return assignment;
    }

    /// <summary>
    /// Homogeneous groups: everyone's count is within one. Otherwise (uniform) no single partition
    /// can move to a co-subscriber with two or more fewer in total; range balances each topic.
    /// </summary>
    private static void AssertBalanced(GroupSpec spec, Dictionary<string, Dictionary<Guid, int[]>> flat, Metadata metadata, bool perTopic)
    {
        var loads = flat.ToDictionary(m => m.Key, m => m.Value.Values.Sum(p => p.Length));
        foreach (var topic in metadata.Counts.Keys)
        {
            var subscribers = spec.Members.Where(m => m.Value.SubscribedTopicIds.Contains(topic)).Select(m => m.Key).ToList();
            if (subscribers.Count == 0)
                continue;
            if (perTopic)
            {
                var sizes = subscribers.Select(m => flat[m].GetValueOrDefault(topic)?.Length ?? 0).ToList();
                Assert.True(sizes.Max() - sizes.Min() <= 1, $"topic unbalanced: {string.Join(",", sizes)}");
                continue;
            }
            int least = subscribers.Min(m => loads[m]);
            foreach (var owner in subscribers.Where(m => flat[m].ContainsKey(topic)))
                Assert.True(loads[owner] <= least + 1, $"{owner} has {loads[owner]}, a co-subscriber {least}");
        }
        if (spec.IsHomogeneous && !perTopic && loads.Count > 0)
            Assert.True(loads.Values.Max() - loads.Values.Min() <= 1, $"unbalanced: {string.Join(",", loads.Values)}");
    }

    /// <summary>
    /// Homogeneous: the kept partitions are the most any balanced assignment keeps (the members
    /// holding most keep floor + 1); so a joiner takes floor(P / (N + 1)) and, when one leaves,
    /// nobody else loses anything. Heterogeneous: no member gives up a partition of a topic in
    /// which it also gains one (what it keeps of each topic is min(had, has)).
    /// </summary>
    private static void AssertFewestMoves(List<(string Id, Guid[] Topics)> members, Dictionary<string, Dictionary<Guid, int[]>> before,
        Dictionary<string, Dictionary<Guid, int[]>> after, Metadata metadata)
    {
        // What each member still validly holds of its previous assignment.
        var valid = members.ToDictionary(m => m.Id, m => before.GetValueOrDefault(m.Id)?
            .Where(kv => m.Topics.Contains(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value.Where(p => p < metadata.PartitionCount(kv.Key)).ToArray()) ?? []);
        int kept = members.Sum(m => valid[m.Id].Sum(kv => kv.Value.Intersect(after[m.Id].GetValueOrDefault(kv.Key) ?? []).Count()));

        var spec = WithCurrent(members, before);
        if (spec.IsHomogeneous && members.Count > 0)
        {
            int total = members[0].Topics.Distinct().Sum(t => Math.Max(0, metadata.PartitionCount(t)));
            int floor = total / members.Count, extra = total % members.Count;
            var held = valid.Values.Select(v => v.Values.Sum(p => p.Length)).OrderDescending().ToList();
            int best = held.Select((h, i) => Math.Min(h, floor + (i < extra ? 1 : 0))).Sum();
            Assert.Equal(best, kept);
            return;
        }
        int churnFree = members.Sum(m => valid[m.Id].Sum(kv => Math.Min(kv.Value.Length, after[m.Id].GetValueOrDefault(kv.Key)?.Length ?? 0)));
        Assert.Equal(churnFree, kept);
    }

    [Fact]
    public void A_member_joining_a_balanced_homogeneous_group_takes_exactly_its_floor_share() =>
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 30]).Sample((partitions, n) =>
        {
            var uniform = ConsumerGroupAssignors.Create("uniform");
            var metadata = Topics((1, partitions / 2), (2, partitions - partitions / 2));
            var members = Enumerable.Range(0, n).Select(i => ($"m{i:D2}", new[] { T(1), T(2) })).ToList();
            var before = Flatten(uniform.Assign(WithCurrent(members, new Dictionary<string, Dictionary<Guid, int[]>>()), metadata));
            members.Add(("joiner", [T(1), T(2)]));
            var after = Flatten(uniform.Assign(WithCurrent(members, before), metadata));
            Assert.Equal(partitions / (n + 1), Moved(before, after));
            Assert.Equal(partitions / (n + 1), Load(after, "joiner"));

            members.RemoveAt(0);
            var left = Flatten(uniform.Assign(WithCurrent(members, after), metadata));
            Assert.Equal(0, Moved(after, left));
        }, iter: 200);

    private static Guid[] TopicsOf(Scenario s, int mask) =>
        [.. Enumerable.Range(0, s.Partitions.Length).Where(t => (mask & (1 << t)) != 0).Select(t => T(t + 1))];

    // -1 leaves the topic out: it does not exist.
    private static Metadata Metadata(int[] counts) =>
        new(counts.Select((n, t) => (n, t)).Where(x => x.n >= 0).ToDictionary(x => T(x.t + 1), x => x.n));
}
