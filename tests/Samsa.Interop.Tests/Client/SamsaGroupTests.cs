using System.Text.RegularExpressions;
using Samsa.Client.Consumer;
using Samsa.Interop.Tests.Groups;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;

namespace Samsa.Interop.Tests.Client;

/// <summary>The consumer notes' scenarios with our consumer, alone and in groups shared with librdkafka consumers.</summary>
public class SamsaGroupTests
{
    private static bool Partitioned(IEnumerable<HashSet<int>> sets, int partitions) => Eventually.Partitioned(sets, partitions);

    private static bool Partitioned(IEnumerable<SamsaMember> members, int partitions) => Eventually.Partitioned(members.Select(m => m.Assigned), partitions);

    [Theory]
    [InlineData("range")]
    [InlineData("roundrobin")]
    [InlineData("sticky")]
    [InlineData("cooperative-sticky")]
    public async Task Four_partitions_are_split_among_two_then_four_then_five_consumers_with_one_idle(string strategy)
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "t4", 4);
        var members = new List<SamsaMember>();
        try
        {
            for (int i = 0; i < 2; i++)
                members.Add(new SamsaMember(broker.Bootstrap, "g", "t4", strategy));
            await Eventually.True(() => Partitioned(members, 4) && members.All(m => m.Assigned.Count == 2), "two consumers own two partitions each");

            for (int i = 0; i < 2; i++)
                members.Add(new SamsaMember(broker.Bootstrap, "g", "t4", strategy));
            await Eventually.True(() => Partitioned(members, 4) && members.All(m => m.Assigned.Count == 1), "four consumers own one partition each");

            members.Add(new SamsaMember(broker.Bootstrap, "g", "t4", strategy));
            await Eventually.True(() => Partitioned(members, 4) && members.Count(m => m.Assigned.Count == 0) == 1,
                "the fifth consumer is idle and the partitions stay split");

            var leaving = members.First(m => m.Assigned.Count == 1);
            members.Remove(leaving);
            leaving.Dispose();
            await Eventually.True(() => Partitioned(members, 4) && members.All(m => m.Assigned.Count == 1), "the idle consumer took over");
            Assert.All(members, m => Assert.Null(m.Failure));
        }
        finally
        {
            foreach (var m in members)
                m.Dispose();
        }
    }

    [Theory]
    [InlineData("range")]
    [InlineData("cooperative-sticky")]
    public async Task Our_consumers_and_librdkafka_consumers_share_one_group(string strategy)
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "mixed", 6);
        await Produce(broker.Bootstrap, "mixed", 600);
        using var ours1 = new SamsaMember(broker.Bootstrap, "mg", "mixed", strategy);
        using var theirs1 = new ConfluentMember(broker.Bootstrap, "mg", "mixed", strategy);
        using var ours2 = new SamsaMember(broker.Bootstrap, "mg", "mixed", strategy);
        await Eventually.True(() => Partitioned([ours1.Assigned, theirs1.Assigned, ours2.Assigned], 6)
            && ours1.Assigned.Count == 2 && ours2.Assigned.Count == 2, "three members of two clients own two partitions each");
        await Eventually.True(() => ours1.Received.Concat(ours2.Received).Select(r => r.Value).Concat(theirs1.Received.Select(r => r.Message.Value)).Distinct().Count() == 600,
            "every record was read by some member");
    }

    [Fact]
    public async Task Cooperative_members_revoke_only_the_partitions_that_move()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "coop", 6);
        using var a = new SamsaMember(broker.Bootstrap, "cg", "coop", "cooperative-sticky");
        using var b = new SamsaMember(broker.Bootstrap, "cg", "coop", "cooperative-sticky");
        await Eventually.True(() => Partitioned([a, b], 6) && a.Assigned.Count == 3, "two members own three partitions each");
        var (beforeA, beforeB) = (a.Assigned, b.Assigned);
        var (ra, rb) = (a.RevokeCount, b.RevokeCount);

        using var c = new SamsaMember(broker.Bootstrap, "cg", "coop", "cooperative-sticky");
        await Eventually.True(() => Partitioned([a, b, c], 6) && c.Assigned.Count == 2 && a.Assigned.Count == 2, "the third member got two partitions");
        var revoked = a.RevokeEvents.Skip(ra).Concat(b.RevokeEvents.Skip(rb)).SelectMany(s => s).ToHashSet();
        Assert.True(revoked.SetEquals(c.Assigned), $"revoked {string.Join(",", revoked)} but moved {string.Join(",", c.Assigned)}");
        Assert.True(a.Assigned.IsSubsetOf(beforeA) && b.Assigned.IsSubsetOf(beforeB));
    }

    [Fact]
    public async Task Eager_members_revoke_everything_before_each_rebalance()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "eager", 4);
        using var a = new SamsaMember(broker.Bootstrap, "eg", "eager", "range");
        await Eventually.True(() => a.Assigned.Count == 4, "the first member owns everything");
        int revokes = a.RevokeCount;
        using var b = new SamsaMember(broker.Bootstrap, "eg", "eager", "range");
        await Eventually.True(() => Partitioned([a, b], 4) && b.Assigned.Count == 2, "two members own two each");
        Assert.Equal([0, 1, 2, 3], a.RevokeEvents[revokes].Order());
    }

    [Fact]
    public async Task A_static_member_restarting_within_the_session_timeout_causes_no_rebalance()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "s", 2);
        using var steady = new SamsaMember(broker.Bootstrap, "sg", "s", instanceId: "steady");
        var restarting = new SamsaMember(broker.Bootstrap, "sg", "s", instanceId: "restarting");
        await Eventually.True(() => Partitioned([steady, restarting], 2) && steady.Assigned.Count == 1, "both static members own a partition");
        var owned = restarting.Assigned;
        int steadyRevokes = steady.RevokeCount;
        int steadyAssigns = steady.AssignEvents.Count;

        restarting.Dispose(); // static: no LeaveGroup
        using var back = new SamsaMember(broker.Bootstrap, "sg", "s", instanceId: "restarting");
        await Eventually.True(() => back.Assigned.SetEquals(owned), "the restarted member got its partition back");
        Assert.Equal(steadyRevokes, steady.RevokeCount);
        Assert.Equal(steadyAssigns, steady.AssignEvents.Count);
    }

    [Fact]
    public async Task A_second_instance_with_the_same_static_id_fences_the_first()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "f", 1);
        using var first = new SamsaMember(broker.Bootstrap, "fg", "f", instanceId: "same");
        await Eventually.True(() => first.Assigned.Count == 1, "the first instance owns the partition");
        using var second = new SamsaMember(broker.Bootstrap, "fg", "f", instanceId: "same");
        await Eventually.True(() => second.Assigned.Count == 1, "the second instance took the id over");
        await Eventually.True(() => first.Failure is Samsa.Client.KafkaException { Error: Samsa.Protocol.ErrorCode.FencedInstanceId }, "the first instance's poll failed as fenced");
    }

    [Fact]
    public async Task A_consumer_that_stops_polling_past_max_poll_interval_loses_its_partitions_and_rejoins_when_it_polls_again()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "stall", 2);
        using var healthy = new SamsaMember(broker.Bootstrap, "stall-g", "stall", maxPollIntervalMs: 3000);
        using var stuck = new SamsaMember(broker.Bootstrap, "stall-g", "stall", maxPollIntervalMs: 3000);
        await Eventually.True(() => Partitioned([healthy, stuck], 2) && healthy.Assigned.Count == 1, "both members own a partition");
        stuck.StopPolling();
        await Eventually.True(() => healthy.Assigned.Count == 2, "the healthy member took over after max.poll.interval.ms");
        stuck.ResumePolling();
        await Eventually.True(() => stuck.LostEvents.Count == 1 && Partitioned([healthy, stuck], 2) && stuck.Assigned.Count == 1,
            "the stalled member reported its partition lost and rejoined");
    }

    [Fact]
    public async Task Closing_a_member_hands_its_partitions_over_at_once_and_auto_commit_stores_its_position()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "close", 2);
        await Produce(broker.Bootstrap, "close", 50, partition: 0);
        await Produce(broker.Bootstrap, "close", 50, partition: 1);
        // A session timeout of a minute: only the LeaveGroup sent by Close can move partitions within the test's 30 s.
        Func<ConsumerOptions, ConsumerOptions> longSession = o => o with { SessionTimeout = TimeSpan.FromSeconds(60) };
        using var stays = new SamsaMember(broker.Bootstrap, "cl", "close", configure: longSession);
        var leaves = new SamsaMember(broker.Bootstrap, "cl", "close", autoCommit: true, configure: longSession);
        await Eventually.True(() => Partitioned([stays, leaves], 2) && stays.Assigned.Count == 1, "both own a partition");
        var partition = leaves.Assigned.Single();
        await Eventually.True(() => leaves.Received.Count(r => r.Partition == partition) == 50, "the leaving member read its partition");
        leaves.Dispose();
        await Eventually.True(() => stays.Assigned.Count == 2, "the remaining member got both partitions");
        // It resumes where the closed member's auto-commit left off: of that partition it reads only what came after.
        await Produce(broker.Bootstrap, "close", 5, partition: partition, prefix: "after");
        await Eventually.True(() => stays.Received.Count(r => r.Partition == partition) >= 5, "the remaining member read the new records");
        Assert.All(stays.Received.Where(r => r.Partition == partition), r => Assert.StartsWith("after", r.Value));
    }

    [Fact]
    public async Task A_pattern_subscription_picks_up_topics_created_later()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "metrics.cpu", 1);
        await CreateTopic(broker.Bootstrap, "logs", 1);
        var assigned = new List<Samsa.Client.TopicPartition>();
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "pg") with { MetadataMaxAge = TimeSpan.FromMilliseconds(500) }, loggerFactory: TestLogging.Factory);
        consumer.Subscribe(new Regex(@"metrics\..*"), new RebalanceListener(onAssigned: p => assigned.AddRange(p)));
        await PollWhile(consumer, () => consumer.Assignment.Count == 0);
        Assert.Equal(["metrics.cpu"], consumer.Assignment.Select(p => p.Topic));

        await CreateTopic(broker.Bootstrap, "metrics.mem", 1);
        await Produce(broker.Bootstrap, "metrics.mem", 3);
        var received = new List<Samsa.Client.Consumer.ConsumeResult<string, string>>();
        await PollWhile(consumer, () => received.Count < 3, received);
        Assert.Equal(["metrics.cpu", "metrics.mem"], consumer.Assignment.Select(p => p.Topic).Order());
        Assert.Equal(["metrics.cpu", "metrics.mem"], consumer.Subscription.Order());
        Assert.All(received, r => Assert.Equal("metrics.mem", r.Topic));
    }

    [Fact]
    public async Task Partitions_added_to_a_subscribed_topic_are_assigned_after_a_metadata_refresh()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "grow", 2);
        using var a = new SamsaMember(broker.Bootstrap, "grow-g", "grow");
        using var b = new SamsaMember(broker.Bootstrap, "grow-g", "grow");
        await Eventually.True(() => Partitioned([a, b], 2), "two partitions are split");
        using (var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreatePartitionsAsync([new Confluent.Kafka.Admin.PartitionsSpecification { Topic = "grow", IncreaseTo = 4 }]);
        await Eventually.True(() => Partitioned([a, b], 4) && a.Assigned.Count == 2, "four partitions are split after the refresh");
    }

    [Fact]
    public async Task Commit_async_calls_complete_in_order_and_report_on_the_poll_thread()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "ca", 1);
        await Produce(broker.Bootstrap, "ca", 10);
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "cag") with { EnableAutoCommit = false });
        consumer.Subscribe("ca");
        await PollUntil(consumer, 10);
        var completed = new List<long>();
        var errors = new List<Exception>();
        var tasks = Enumerable.Range(1, 10).Select(i =>
            consumer.CommitAsync([new Samsa.Client.TopicPartitionOffset("ca", 0, i)], (offsets, error) =>
            {
                if (error is not null)
                    errors.Add(error);
                completed.Add(offsets.Single().Offset);
            })).ToList();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));
        // Callbacks run inside a later poll, on the poll thread.
        var until = DateTime.UtcNow.AddSeconds(10);
        while (completed.Count < 10 && DateTime.UtcNow < until)
            await consumer.PollAsync(TimeSpan.FromMilliseconds(10));
        Assert.Empty(errors);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), completed);
        var tp = new Samsa.Client.TopicPartition("ca", 0);
        Assert.Equal(10, (await consumer.CommittedAsync([tp]))[tp]!.Value.Offset);
    }

    private static async Task PollWhile(KafkaConsumer<string, string> consumer, Func<bool> condition, List<Samsa.Client.Consumer.ConsumeResult<string, string>>? into = null)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (condition())
        {
            if (DateTime.UtcNow > until)
                Assert.Fail("Timed out polling.");
            var records = await consumer.PollAsync(TimeSpan.FromMilliseconds(100));
            into?.AddRange(records);
        }
    }

    [Fact]
    public async Task A_rolling_upgrade_moves_the_group_from_eager_range_to_cooperative_sticky()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "up", 4);
        Func<ConsumerOptions, ConsumerOptions> Strategies(params string[] names) => o => o with { PartitionAssignmentStrategy = names };
        var a = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("range"));
        var b = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("range"));
        try
        {
            await Eventually.True(() => Partitioned([a, b], 4) && a.Assigned.Count == 2, "eager members split the partitions");
            // First bounce: both assignors, cooperative preferred; the group stays eager while range is listed.
            foreach (var i in new[] { 0, 1 })
            {
                if (i == 0) { a.Dispose(); a = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("cooperative-sticky", "range")); }
                else { b.Dispose(); b = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("cooperative-sticky", "range")); }
                await Eventually.True(() => Partitioned([a, b], 4) && a.Assigned.Count == 2, $"split after bounce {i}");
            }
            // Second bounce: cooperative-sticky only.
            a.Dispose();
            a = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("cooperative-sticky"));
            await Eventually.True(() => Partitioned([a, b], 4) && a.Assigned.Count == 2, "split after the second bounce of a");
            b.Dispose();
            b = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("cooperative-sticky"));
            await Eventually.True(() => Partitioned([a, b], 4) && a.Assigned.Count == 2, "split after the second bounce of b");

            // Now cooperative: a third member takes partitions and a and b revoke only those.
            var (ra, rb) = (a.RevokeCount, b.RevokeCount);
            var (beforeA, beforeB) = (a.Assigned, b.Assigned);
            using var c = new SamsaMember(broker.Bootstrap, "ug", "up", configure: Strategies("cooperative-sticky"));
            await Eventually.True(() => Partitioned([a, b, c], 4) && c.Assigned.Count >= 1 && a.Assigned.Count >= 1 && b.Assigned.Count >= 1, "three members share four partitions");
            var revoked = a.RevokeEvents.Skip(ra).Concat(b.RevokeEvents.Skip(rb)).SelectMany(x => x).ToHashSet();
            Assert.True(revoked.SetEquals(c.Assigned), $"revoked {string.Join(",", revoked)}, moved {string.Join(",", c.Assigned)}");
            Assert.True(a.Assigned.IsSubsetOf(beforeA) && b.Assigned.IsSubsetOf(beforeB));
            Assert.Null(a.Failure);
            Assert.Null(b.Failure);
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }

    [Fact]
    public async Task A_member_killed_without_leaving_is_replaced_after_the_session_timeout()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "kill", 2);
        using var survivor = new SamsaMember(broker.Bootstrap, "kill-g", "kill");
        var ghost = new ConfluentMember(broker.Bootstrap, "kill-g", "kill", instanceId: "ghost"); // static: closes without LeaveGroup
        await Eventually.True(() => survivor.Assigned.Count == 1 && ghost.Assigned.Count == 1, "two members share the partitions");
        ghost.Dispose();
        await Eventually.True(() => survivor.Assigned.Count == 2, "our member owns both partitions after session.timeout.ms", seconds: 40);
    }

    [Fact]
    public async Task Our_members_ride_out_a_broker_restart_keeping_group_offsets_and_assignments()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "rs", 2);
        await Produce(broker.Bootstrap, "rs", 20);
        using var a = new SamsaMember(broker.Bootstrap, "rs-g", "rs", instanceId: "a", autoCommit: true, configure: o => o with { AutoCommitInterval = TimeSpan.FromMilliseconds(200) });
        using var b = new SamsaMember(broker.Bootstrap, "rs-g", "rs", instanceId: "b", autoCommit: true, configure: o => o with { AutoCommitInterval = TimeSpan.FromMilliseconds(200) });
        await Eventually.True(() => Partitioned([a, b], 2) && a.Received.Count + b.Received.Count == 20, "both members consumed everything");
        var (ownedA, ownedB) = (a.Assigned, b.Assigned);
        var (revokesA, revokesB) = (a.RevokeCount, b.RevokeCount);
        using (var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap }))
            await Eventually.True(() => admin.ListGroupOffsetsAsync("rs-g").Result.Sum(p => p.Committed ?? 0) == 20, "auto-commit stored both positions");

        await broker.RestartAsync();
        await Produce(broker.Bootstrap, "rs", 10, prefix: "after");
        await Eventually.True(() => a.Received.Count + b.Received.Count == 30, "consumption continued after the restart");
        Assert.Equal(20, a.Received.Concat(b.Received).Count(r => r.Value.StartsWith('m')));
        Assert.True(a.Assigned.SetEquals(ownedA) && b.Assigned.SetEquals(ownedB));
        Assert.Equal((revokesA, revokesB), (a.RevokeCount, b.RevokeCount));
        Assert.Null(a.Failure);
        Assert.Null(b.Failure);
    }

    [Fact]
    public async Task The_documented_commit_in_on_partitions_revoked_works_during_dispose()
    {
        await using var broker = await Start();
        await CommitInRevokedDuringDispose(broker.Bootstrap, "cr", Options(broker.Bootstrap, "cr-g") with { EnableAutoCommit = false },
            (name, partitions) => CreateTopic(broker.Bootstrap, name, partitions));
    }

    /// <summary>
    /// docs/consumer.md's pattern, `onRevoked: parts => consumer.CommitSync()`: disposing the
    /// consumer revokes through the listener, whose commit must work (Java allows it) and be kept.
    /// </summary>
    internal static async Task CommitInRevokedDuringDispose(string bootstrap, string topic, ConsumerOptions options, Func<string, int, Task> createTopic)
    {
        await createTopic(topic, 1);
        await Produce(bootstrap, topic, 10);
        Exception? inListener = null;
        var consumer = new KafkaConsumer<string, string>(options, loggerFactory: TestLogging.Factory);
        consumer.Subscribe([topic], new RebalanceListener(onRevoked: _ =>
        {
            try
            {
                consumer.CommitSync();
            }
            catch (Exception e)
            {
                inListener = e;
                throw;
            }
        }));
        await PollUntil(consumer, 10);
        await consumer.DisposeAsync();
        Assert.Null(inListener);

        await using var reader = new KafkaConsumer<string, string>(options, loggerFactory: TestLogging.Factory);
        var committed = await reader.CommittedAsync([new Samsa.Client.TopicPartition(topic, 0)]);
        Assert.Equal(10, committed.Single().Value?.Offset);
    }
}
