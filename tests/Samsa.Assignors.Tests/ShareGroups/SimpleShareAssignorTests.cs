using CsCheck;
using static Samsa.Assignors.Tests.ConsumerGroups.Groups;

namespace Samsa.Assignors.Tests.ShareGroups;

/// <summary>
/// The share assignor: every partition of a subscribed topic goes to ceil(M / P) of its
/// subscribers (one when there are at least as many partitions as members), members' loads differ
/// by at most one within a balancing scope, and what a member held stays with it when that costs no balance.
/// </summary>
public class SimpleShareAssignorTests
{
    private static readonly SimpleShareAssignor Assignor = new();

    [Fact]
    public void One_partition_two_members_both_get_it()
    {
        var a = Assignor.Assign(Group(("a", new Member([1])), ("b", new Member([1]))), Topics((1, 1)));
        Assert.Equal("a: 1[0] | b: 1[0]", Show(a));
    }

    [Fact]
    public void More_partitions_than_members_split_without_overlap()
    {
        var a = Assignor.Assign(Group(("a", new Member([1])), ("b", new Member([1]))), Topics((1, 4)));
        var flat = Flatten(a);
        Assert.Equal(2, Load(flat, "a"));
        Assert.Equal(2, Load(flat, "b"));
        Assert.Empty(flat["a"][T(1)].Intersect(flat["b"][T(1)]));
    }

    [Fact]
    public void Three_members_on_two_partitions_share_each_partition_twice()
    {
        var flat = Flatten(Assignor.Assign(Group(("a", new Member([1])), ("b", new Member([1])), ("c", new Member([1]))), Topics((1, 2))));
        var holders = flat.SelectMany(m => m.Value.SelectMany(kv => kv.Value)).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(2, holders[0]);
        Assert.Equal(2, holders[1]);
        Assert.Equal(4, flat.Keys.Sum(m => Load(flat, m)));
        Assert.All(flat.Keys, m => Assert.InRange(Load(flat, m), 1, 2));
    }

    [Fact]
    public void A_member_keeps_what_it_had()
    {
        var spec = Group(("a", new Member([1], new() { [1] = [2, 3] })), ("b", new Member([1], new() { [1] = [0, 1] })));
        Assert.Equal("a: 1[2,3] | b: 1[0,1]", Show(Assignor.Assign(spec, Topics((1, 4)))));
    }

    [Fact]
    public void Heterogeneous_subscriptions_balance_topic_by_topic()
    {
        var spec = Group(("a", new Member([1])), ("b", new Member([2])), ("c", new Member([1, 2])));
        var flat = Flatten(Assignor.Assign(spec, Topics((1, 2), (2, 2))));
        Assert.Equal([1], flat["a"].Keys.Select(k => BitConverter.ToInt32(k.ToByteArray())).ToArray());
        Assert.Single(flat["a"][T(1)]);
        Assert.Single(flat["c"][T(1)]);
        Assert.Single(flat["c"][T(2)]);
        Assert.Single(flat["b"][T(2)]);
    }

    [Fact]
    public void Missing_topics_and_members_without_subscriptions_get_nothing()
    {
        var a = Assignor.Assign(Group(("a", new Member([7])), ("b", new Member([]))), Topics((1, 3)));
        Assert.Equal("a:  | b: ", Show(a));
    }

    private sealed record Scenario(int[] Partitions, int[] Masks);

    [Fact]
    public void Random_groups_are_covered_shared_and_balanced() =>
        Gen.Select(Gen.Int[-1, 8].Array[1, 4], Gen.Int[0, 15].Array[1, 12], Gen.Bool, (p, m, same) => new Scenario(p, same ? [.. m.Select(_ => m[0])] : m))
            .Sample(s =>
            {
                var metadata = new Metadata(s.Partitions.Select((n, i) => (n, i)).Where(x => x.n >= 0).ToDictionary(x => T(x.i + 1), x => x.n));
                var members = s.Masks.Select((mask, i) => ($"m{i:D2}", new Member(Enumerable.Range(0, 4).Where(t => (mask & (1 << t)) != 0).Select(t => t + 1).ToArray()))).ToArray();
                var spec = Group(members);
                var first = Assignor.Assign(spec, metadata);
                Check(spec, metadata, first);
                // Assigning again from the result changes nothing.
                var again = Assignor.Assign(new GroupSpec(spec.Members.ToDictionary(kv => kv.Key,
                    kv => new MemberSpec(null, kv.Value.SubscribedTopicIds, first.Members[kv.Key]))), metadata);
                Assert.Equal(Show(first), Show(again));
            }, iter: 500);

    private static void Check(GroupSpec spec, Metadata metadata, GroupAssignment assignment)
    {
        var flat = Flatten(assignment);
        Assert.Equal(spec.Members.Keys.Order(StringComparer.Ordinal), flat.Keys.Order(StringComparer.Ordinal));
        var topics = spec.Members.Values.SelectMany(m => m.SubscribedTopicIds).Distinct().Where(t => metadata.PartitionCount(t) > 0);
        foreach (var topic in topics)
        {
            var subscribers = spec.Members.Where(m => m.Value.SubscribedTopicIds.Contains(topic)).Select(m => m.Key).ToList();
            int p = metadata.PartitionCount(topic);
            int sharing = (subscribers.Count + p - 1) / p;
            for (int partition = 0; partition < p; partition++)
            {
                int holders = flat.Count(m => m.Value.TryGetValue(topic, out var ps) && ps.Contains(partition));
                // Every partition is consumed; at most `sharing` members share it.
                Assert.InRange(holders, 1, sharing);
            }
        }
        foreach (var (member, assigned) in flat)
        {
            foreach (var topic in assigned.Keys)
                Assert.Contains(topic, spec.Members[member].SubscribedTopicIds);
        }
        if (spec.IsHomogeneous)
        {
            var loads = flat.Keys.Select(m => Load(flat, m)).ToList();
            if (loads.Count > 0)
                Assert.InRange(loads.Max() - loads.Min(), 0, 1);
        }
    }
}
