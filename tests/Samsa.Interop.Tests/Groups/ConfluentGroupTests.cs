using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Broker;

namespace Samsa.Interop.Tests.Groups;

/// <summary>Consumer groups of real librdkafka consumers against the Samsa coordinator.</summary>
public class ConfluentGroupTests
{
    private static Task<TempBroker> Start() =>
        TempBroker.StartAsync(o => o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(200) });

    private static async Task CreateTopic(string bootstrap, string name, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    private static bool Partitioned(IEnumerable<ConfluentMember> members, int partitions) => Eventually.Partitioned(members.Select(m => m.Assigned), partitions);

    [Theory]
    [InlineData("range")]
    [InlineData("roundrobin")]
    [InlineData("cooperative-sticky")]
    public async Task Four_partitions_are_split_among_two_then_four_then_five_consumers_with_one_idle(string strategy)
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "t4", 4);
        var members = new List<ConfluentMember>();
        try
        {
            for (int i = 0; i < 2; i++)
                members.Add(new ConfluentMember(broker.Bootstrap, "g", "t4", strategy));
            await Eventually.True(() => Partitioned(members, 4) && members.All(m => m.Assigned.Count == 2), "two consumers own two partitions each");

            for (int i = 0; i < 2; i++)
                members.Add(new ConfluentMember(broker.Bootstrap, "g", "t4", strategy));
            await Eventually.True(() => Partitioned(members, 4) && members.All(m => m.Assigned.Count == 1), "four consumers own one partition each");

            members.Add(new ConfluentMember(broker.Bootstrap, "g", "t4", strategy));
            await Eventually.True(() => Partitioned(members, 4) && members.Count(m => m.Assigned.Count == 0) == 1,
                "the fifth consumer is idle and the partitions stay split");

            // A member leaves: its partition moves to the idle one and every partition is still owned once.
            var leaving = members.First(m => m.Assigned.Count == 1);
            members.Remove(leaving);
            leaving.Dispose();
            await Eventually.True(() => Partitioned(members, 4) && members.All(m => m.Assigned.Count == 1), "the idle consumer took over");
        }
        finally
        {
            foreach (var m in members)
                m.Dispose();
        }
    }

    [Fact]
    public async Task Cooperative_members_revoke_only_the_partitions_that_move()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "coop", 6);
        using var a = new ConfluentMember(broker.Bootstrap, "cg", "coop", "cooperative-sticky");
        using var b = new ConfluentMember(broker.Bootstrap, "cg", "coop", "cooperative-sticky");
        await Eventually.True(() => Partitioned([a, b], 6) && a.Assigned.Count == 3, "two members own three partitions each");
        var (beforeA, beforeB) = (a.Assigned, b.Assigned);
        var (ra, rb) = (a.RevokeCount, b.RevokeCount);

        using var c = new ConfluentMember(broker.Bootstrap, "cg", "coop", "cooperative-sticky");
        await Eventually.True(() => Partitioned([a, b, c], 6) && c.Assigned.Count == 2, "the third member got two partitions");
        var revoked = a.RevokeEvents.Skip(ra).Concat(b.RevokeEvents.Skip(rb)).SelectMany(s => s).ToHashSet();
        Assert.True(revoked.SetEquals(c.Assigned), $"revoked {string.Join(",", revoked)} but moved {string.Join(",", c.Assigned)}");
        // Partitions that stayed were never revoked: the members kept consuming them.
        Assert.True(a.Assigned.IsSubsetOf(beforeA) && b.Assigned.IsSubsetOf(beforeB));
    }

    [Fact]
    public async Task Committed_offsets_survive_consumers_and_a_broker_restart()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "c", 1);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            for (int i = 0; i < 10; i++)
                await producer.ProduceAsync("c", new Message<string, string> { Key = "k", Value = $"m{i}" });
        }
        using (var first = new ConfluentMember(broker.Bootstrap, "resume", "c"))
        {
            await Eventually.True(() => first.Received.Count >= 4, "the first consumer read four records");
            first.Commit(new TopicPartitionOffset("c", 0, 4));
        }
        await broker.RestartAsync();
        using var second = new ConfluentMember(broker.Bootstrap, "resume", "c");
        await Eventually.True(() => second.Received.Count >= 6, "the second consumer read the rest");
        Assert.Equal("m4", second.Received.First().Message.Value);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        var offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("resume", [new TopicPartition("c", 0)])]);
        Assert.Equal(4, offsets.Single().Partitions.Single().Offset.Value);
    }

    [Fact]
    public async Task A_static_member_restarting_within_the_session_timeout_causes_no_rebalance()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "s", 2);
        using var steady = new ConfluentMember(broker.Bootstrap, "sg", "s", instanceId: "steady");
        var restarting = new ConfluentMember(broker.Bootstrap, "sg", "s", instanceId: "restarting");
        await Eventually.True(() => Partitioned([steady, restarting], 2) && steady.Assigned.Count == 1, "both static members own a partition");
        var owned = restarting.Assigned;
        int steadyRevokes = steady.RevokeCount;
        int steadyAssigns = steady.AssignEvents.Count;

        restarting.Dispose(); // static: no LeaveGroup
        using var back = new ConfluentMember(broker.Bootstrap, "sg", "s", instanceId: "restarting");
        await Eventually.True(() => back.Assigned.SetEquals(owned), "the restarted member got its partition back");
        Assert.Equal(steadyRevokes, steady.RevokeCount);
        Assert.Equal(steadyAssigns, steady.AssignEvents.Count);
    }

    [Fact]
    public async Task A_consumer_killed_without_leaving_is_removed_after_the_session_timeout()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "k", 2);
        using var survivor = new ConfluentMember(broker.Bootstrap, "kg", "k");
        // A "killed" member: a raw client that joins the group through the protocol and then goes silent.
        var ghost = new ConfluentMember(broker.Bootstrap, "kg", "k", instanceId: "ghost");
        await Eventually.True(() => Partitioned([survivor, ghost], 2) && survivor.Assigned.Count == 1, "two members share the partitions");
        ghost.Dispose(); // static member: closes without LeaveGroup, so only the session timeout removes it
        await Eventually.True(() => survivor.Assigned.Count == 2, "the survivor owns both partitions after the session timeout", seconds: 40);
    }

    [Fact]
    public async Task Partitions_added_to_a_subscribed_topic_are_assigned_after_a_metadata_refresh()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "grow", 2);
        using var a = new ConfluentMember(broker.Bootstrap, "grow-g", "grow");
        using var b = new ConfluentMember(broker.Bootstrap, "grow-g", "grow");
        await Eventually.True(() => Partitioned([a, b], 2), "two partitions are split");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "grow", IncreaseTo = 4 }]);
        await Eventually.True(() => Partitioned([a, b], 4) && a.Assigned.Count == 2, "four partitions are split after the refresh");
    }

    [Fact]
    public async Task A_consumer_that_stops_polling_past_max_poll_interval_loses_its_partitions()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "stall", 2);
        using var healthy = new ConfluentMember(broker.Bootstrap, "stall-g", "stall", maxPollIntervalMs: 7000);
        using var stuck = new ConfluentMember(broker.Bootstrap, "stall-g", "stall", maxPollIntervalMs: 7000);
        await Eventually.True(() => Partitioned([healthy, stuck], 2) && healthy.Assigned.Count == 1, "both members own a partition");
        stuck.StopPolling();
        await Eventually.True(() => healthy.Assigned.Count == 2, "the healthy member took over after max.poll.interval.ms", seconds: 40);
    }

    [Fact]
    public async Task A_broker_restart_keeps_the_group_its_static_members_and_their_assignments()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "kept", 2);
        using var a = new ConfluentMember(broker.Bootstrap, "kept-g", "kept", instanceId: "host-a");
        using var b = new ConfluentMember(broker.Bootstrap, "kept-g", "kept", instanceId: "host-b");
        await Eventually.True(() => Partitioned([a, b], 2) && a.Assigned.Count == 1, "both static members own a partition");
        var (ownedA, ownedB) = (a.Assigned, b.Assigned);
        var (revokesA, revokesB) = (a.RevokeCount, b.RevokeCount);

        await broker.RestartAsync();

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        var group = (await admin.DescribeConsumerGroupsAsync(["kept-g"])).ConsumerGroupDescriptions.Single();
        Assert.Equal(ConsumerGroupState.Stable, group.State);
        Assert.Equal(["host-a", "host-b"], group.Members.Select(m => m.GroupInstanceId).Order());
        // The members reconnect and carry on in the same generation: nothing is revoked or moved.
        var until = DateTime.UtcNow.AddSeconds(8);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal((revokesA, revokesB), (a.RevokeCount, b.RevokeCount));
            await Task.Delay(250);
        }
        Assert.True(a.Assigned.SetEquals(ownedA) && b.Assigned.SetEquals(ownedB));
    }
}
