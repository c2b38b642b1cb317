using Samsa.Client;
using Samsa.Client.Assignors;

namespace Samsa.Assignors.Tests.Classic;

public class AssignorTests
{
    private static MemberSubscription M(string id, IReadOnlyList<string> topics, IReadOnlyList<TopicPartition>? owned = null, int generation = 1, string? instance = null) =>
        new(id, instance, topics, owned ?? [], generation);

    [Fact]
    public void Range_gives_contiguous_ranges_with_the_extra_partitions_first()
    {
        var result = new RangeAssignor().Assign(new Dictionary<string, int> { ["t"] = 5 }, [M("b", ["t"]), M("a", ["t"])]);
        Assert.Equal([0, 1, 2], result["a"].Select(p => p.Partition));
        Assert.Equal([3, 4], result["b"].Select(p => p.Partition));
    }

    [Fact]
    public void Static_members_are_ordered_by_instance_id_before_dynamic_ones()
    {
        var result = new RangeAssignor().Assign(new Dictionary<string, int> { ["t"] = 2 }, [M("a", ["t"]), M("z", ["t"], instance: "host-1")]);
        Assert.Equal([0], result["z"].Select(p => p.Partition));
    }

    [Fact]
    public void Round_robin_deals_partitions_across_topics_and_skips_unsubscribed_members()
    {
        var result = new RoundRobinAssignor().Assign(new Dictionary<string, int> { ["x"] = 2, ["y"] = 3 }, [M("a", ["x", "y"]), M("b", ["y"])]);
        Assert.Equal(["x-0", "x-1", "y-1"], result["a"].Select(p => p.ToString()));
        Assert.Equal(["y-0", "y-2"], result["b"].Select(p => p.ToString()));
    }

    [Theory]
    [InlineData("range")]
    [InlineData("roundrobin")]
    [InlineData("sticky")]
    [InlineData("cooperative-sticky")]
    public void Every_partition_goes_to_exactly_one_member_and_extra_members_stay_idle(string name)
    {
        var assignor = PartitionAssignors.Create(name);
        var random = new Random(name.Length);
        for (int round = 0; round < 200; round++)
        {
            int members = 1 + random.Next(8), partitions = 1 + random.Next(12);
            var subs = Enumerable.Range(0, members).Select(i => M($"m{i:D2}", ["t"])).ToList();
            var result = assignor.Assign(new Dictionary<string, int> { ["t"] = partitions }, subs);
            var all = result.Values.SelectMany(v => v).ToList();
            Assert.Equal(partitions, all.Count);
            Assert.Equal(partitions, all.Distinct().Count());
            var sizes = result.Values.Select(v => v.Count).ToList();
            Assert.True(sizes.Max() - sizes.Min() <= 1, $"{name}: unbalanced {string.Join(",", sizes)}");
            if (members > partitions)
                Assert.Equal(members - partitions, sizes.Count(s => s == 0)); // the notes' idle consumers
        }
    }

    [Fact]
    public void Cooperative_sticky_never_moves_a_partition_in_one_round_and_converges_balanced_and_sticky()
    {
        var assignor = new CooperativeStickyAssignor();
        var random = new Random(7);
        var topics = new Dictionary<string, int> { ["a"] = 7, ["b"] = 5 };
        var owned = new Dictionary<string, List<TopicPartition>>();
        int generation = 0, revocationRounds = 0;
        for (int change = 0; change < 60; change++)
        {
            // A member joins or leaves (never below one member).
            if (owned.Count == 0 || (owned.Count < 9 && random.Next(2) == 0))
                owned[$"m{random.Next(100):D2}"] = owned.GetValueOrDefault($"m{random.Next(100):D2}") ?? [];
            else
                owned.Remove(owned.Keys.ElementAt(random.Next(owned.Count)));
            if (owned.Count == 0)
                owned["solo"] = [];

            // Rebalance rounds until nothing is revoked (KIP-429's second round), at most three.
            for (int round = 0; round < 3; round++)
            {
                generation++;
                var before = owned.ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
                var subs = before.Select(kv => M(kv.Key, ["a", "b"], kv.Value, generation - 1)).ToList();
                var result = assignor.Assign(topics, subs);
                var ownerBefore = before.SelectMany(kv => kv.Value.Select(tp => (tp, kv.Key))).ToDictionary(x => x.tp, x => x.Key);
                foreach (var (member, partitions) in result)
                {
                    foreach (var tp in partitions)
                    {
                        // Safety: a partition owned by someone else is never handed over in the same round.
                        if (ownerBefore.TryGetValue(tp, out var previous))
                            Assert.Equal(previous, member);
                    }
                }
                bool revoked = before.Any(kv => kv.Value.Except(result[kv.Key]).Any());
                foreach (var (member, partitions) in result)
                    owned[member] = partitions;
                if (!revoked)
                    break;
                revocationRounds++;
            }

            var sizes = owned.Values.Select(v => v.Count).ToList();
            Assert.Equal(12, sizes.Sum());
            Assert.True(sizes.Max() - sizes.Min() <= 1, $"unbalanced after change {change}: {string.Join(",", sizes)}");
        }
        Assert.True(revocationRounds > 10, $"only {revocationRounds} rounds revoked anything");
    }

    [Fact]
    public void Cooperative_sticky_keeps_partitions_that_need_not_move()
    {
        var assignor = new CooperativeStickyAssignor();
        var topics = new Dictionary<string, int> { ["t"] = 6 };
        var first = assignor.Assign(topics, [M("a", ["t"]), M("b", ["t"])]);
        var second = assignor.Assign(topics, [M("a", ["t"], first["a"]), M("b", ["t"], first["b"]), M("c", ["t"])]);
        // a and b each give up one partition (revoked this round) and keep the other two.
        Assert.Equal(2, second["a"].Count);
        Assert.Equal(2, second["b"].Count);
        Assert.True(second["a"].All(first["a"].Contains) && second["b"].All(first["b"].Contains));
        Assert.Empty(second["c"]); // gets them in the next round, after the revocation
        var third = assignor.Assign(topics, [M("a", ["t"], second["a"]), M("b", ["t"], second["b"]), M("c", ["t"], second["c"])]);
        Assert.Equal(2, third["c"].Count);
        Assert.Equal(second["a"], third["a"]);
    }

    [Fact]
    public void Sticky_moves_only_what_balance_requires_in_one_round_and_reads_its_previous_assignment_from_user_data()
    {
        var assignor = new StickyAssignor();
        var topics = new Dictionary<string, int> { ["t"] = 6 };
        var random = new Random(3);
        var previous = new Dictionary<string, List<TopicPartition>>();
        for (int change = 0; change < 40; change++)
        {
            if (previous.Count < 2 || (previous.Count < 8 && random.Next(2) == 0))
                previous[$"m{change:D2}"] = [];
            else
                previous.Remove(previous.Keys.ElementAt(random.Next(previous.Count)));
            // Eager members own nothing when they join; the previous assignment travels in user data.
            var subs = previous.Select(kv => new MemberSubscription(kv.Key, null, ["t"], [], -1, assignor.SubscriptionUserData(kv.Value, change))).ToList();
            var result = assignor.Assign(topics, subs);
            var sizes = result.Values.Select(v => v.Count).ToList();
            Assert.Equal(6, result.Values.SelectMany(v => v).Distinct().Count());
            Assert.True(sizes.Max() - sizes.Min() <= 1, $"unbalanced: {string.Join(",", sizes)}");
            // Stickiness: a member keeps min(previous, its share) of what it had.
            foreach (var (member, before) in previous)
            {
                int kept = before.Count(result[member].Contains);
                Assert.True(kept >= Math.Min(before.Count, 6 / previous.Count), $"{member} kept {kept} of {before.Count}");
            }
            foreach (var (member, partitions) in result)
                previous[member] = partitions;
        }
    }

    [Fact]
    public void Sticky_user_data_uses_kafkas_layout()
    {
        // StickyAssignorUserData v1: [topic, [partition]], generation; int16 strings and int32 counts.
        var bytes = new StickyAssignor().SubscriptionUserData([new TopicPartition("t", 2), new TopicPartition("t", 0)], 5)!;
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0, 1, (byte)'t', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5 }, bytes);
        Assert.True(StickyAssignor.TryDecode(bytes, out var decoded, out int generation));
        Assert.Equal(5, generation);
        Assert.Equal([new TopicPartition("t", 0), new TopicPartition("t", 2)], decoded);
    }
}
