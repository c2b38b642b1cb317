using Samsa.Client.Consumer;
using Samsa.Interop.Tests.Groups;
using Samsa.Protocol;
using Samsa.TestKit;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// Our consumer against librdkafka's mock cluster: three brokers of a Kafka implementation we did
/// not write, with coordinators and leaders we move and errors we inject.
/// </summary>
public sealed class MockClusterConsumerTests : IDisposable
{
    private readonly MockCluster _mock = new(brokers: 3);

    public void Dispose() => _mock.Dispose();

    /// <summary>
    /// The mock lists JoinGroup v6, SyncGroup v4 and LeaveGroup v3+ but parses only their older,
    /// non-flexible layouts (its handlers read plain int32 array counts and no member list);
    /// librdkafka itself never sends more than JoinGroup 5, SyncGroup 3, LeaveGroup 1.
    /// </summary>
    internal static readonly Dictionary<ApiKey, short> MockVersionCaps = new()
    {
        [ApiKey.JoinGroup] = 5,
        [ApiKey.SyncGroup] = 3,
        [ApiKey.Heartbeat] = 3,
        [ApiKey.LeaveGroup] = 2,
    };

    private KafkaConsumer<string, string> Consumer(string group, Func<ConsumerOptions, ConsumerOptions>? configure = null)
    {
        var options = Options(_mock.BootstrapServers, group) with { EnableAutoCommit = false, RetryBackoff = TimeSpan.FromMilliseconds(50), MaxApiVersions = MockVersionCaps };
        return new KafkaConsumer<string, string>(configure?.Invoke(options) ?? options, loggerFactory: TestLogging.Factory);
    }

    [Fact]
    public async Task A_group_whose_coordinator_is_not_the_bootstrap_broker_consumes_and_commits()
    {
        _mock.CreateTopic("mt", 3);
        _mock.SetCoordinator("group", "far", 3);
        await Produce(_mock.BootstrapServers, "mt", 90);
        await using var consumer = Consumer("far");
        consumer.Subscribe("mt");
        var received = await PollUntil(consumer, 90);
        Assert.Equal(90, received.Select(r => r.Value).Distinct().Count());
        await consumer.CommitSyncAsync();
        var committed = await consumer.CommittedAsync(consumer.Assignment);
        Assert.Equal(90, committed.Values.Sum(o => o!.Value.Offset));
    }

    [Fact]
    public async Task Consumption_follows_a_leader_that_moves_and_survives_a_broker_going_down_and_up()
    {
        _mock.CreateTopic("lm", 1);
        _mock.SetPartitionLeader("lm", 0, 1);
        await Produce(_mock.BootstrapServers, "lm", 10, prefix: "a");
        await using var consumer = Consumer("lm-g", o => o with { MetadataMaxAge = TimeSpan.FromSeconds(1) });
        consumer.Subscribe("lm");
        var first = await PollUntil(consumer, 10);

        _mock.SetPartitionLeader("lm", 0, 2);
        await Produce(_mock.BootstrapServers, "lm", 10, prefix: "b");
        var second = await PollUntil(consumer, 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"b{i}"), second.Select(r => r.Value));

        _mock.SetBrokerDown(2);
        _mock.SetPartitionLeader("lm", 0, 3);
        await Produce(_mock.BootstrapServers, "lm", 10, prefix: "c");
        var third = await PollUntil(consumer, 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"c{i}"), third.Select(r => r.Value));
        _mock.SetBrokerUp(2);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), first.Concat(second).Concat(third).Select(r => r.Offset));
    }

    [Fact]
    public async Task Retriable_errors_injected_into_group_and_fetch_requests_are_ridden_out()
    {
        _mock.CreateTopic("inj", 2);
        await Produce(_mock.BootstrapServers, "inj", 40);
        _mock.PushRequestErrors((short)ApiKey.JoinGroup, (short)ErrorCode.CoordinatorNotAvailable, (short)ErrorCode.CoordinatorLoadInProgress);
        _mock.PushRequestErrors((short)ApiKey.SyncGroup, (short)ErrorCode.RebalanceInProgress);
        _mock.PushRequestErrors((short)ApiKey.Fetch, (short)ErrorCode.NotLeaderOrFollower, (short)ErrorCode.UnknownTopicOrPartition);
        await using var consumer = Consumer("inj-g");
        consumer.Subscribe("inj");
        var received = await PollUntil(consumer, 40);
        Assert.Equal(40, received.Select(r => r.Value).Distinct().Count());

        _mock.PushRequestErrors((short)ApiKey.OffsetCommit, (short)ErrorCode.CoordinatorLoadInProgress, (short)ErrorCode.NotCoordinator);
        await consumer.CommitSyncAsync();
        var committed = await consumer.CommittedAsync(consumer.Assignment);
        Assert.Equal(40, committed.Values.Sum(o => o!.Value.Offset));

        // A heartbeat told the group is rebalancing rejoins, and consumption carries on.
        _mock.PushRequestErrors((short)ApiKey.Heartbeat, (short)ErrorCode.RebalanceInProgress, (short)ErrorCode.NotCoordinator);
        await Produce(_mock.BootstrapServers, "inj", 10, prefix: "after");
        var after = await PollUntil(consumer, 10);
        Assert.All(after, r => Assert.StartsWith("after", r.Value));
    }

    [Fact]
    public async Task A_commit_from_a_stale_generation_fails_with_commit_failed()
    {
        _mock.CreateTopic("stale", 1);
        await Produce(_mock.BootstrapServers, "stale", 5);
        await using var consumer = Consumer("stale-g");
        consumer.Subscribe("stale");
        await PollUntil(consumer, 5);
        _mock.PushRequestErrors((short)ApiKey.OffsetCommit, (short)ErrorCode.IllegalGeneration);
        await Assert.ThrowsAsync<CommitFailedException>(async () => await consumer.CommitSyncAsync());
    }

    [Fact]
    public async Task Members_of_our_client_and_librdkafka_split_partitions_on_the_mock_coordinator()
    {
        _mock.CreateTopic("mix", 4);
        using var ours = new SamsaMember(_mock.BootstrapServers, "mix-g", "mix", configure: o => o with { MaxApiVersions = MockVersionCaps });
        using var theirs = new ConfluentMember(_mock.BootstrapServers, "mix-g", "mix");
        await Eventually.True(() => ours.Assigned.Count == 2 && theirs.Assigned.Count == 2 && !ours.Assigned.Overlaps(theirs.Assigned),
            "each client's member owns two partitions");
    }

    [Fact]
    public async Task Standalone_assign_reads_from_every_leader()
    {
        _mock.CreateTopic("sa", 3);
        _mock.SetPartitionLeader("sa", 0, 1);
        _mock.SetPartitionLeader("sa", 1, 2);
        _mock.SetPartitionLeader("sa", 2, 3);
        for (int p = 0; p < 3; p++)
            await Produce(_mock.BootstrapServers, "sa", 5, partition: p, prefix: $"p{p}-");
        await using var consumer = new KafkaConsumer<string, string>(Options(_mock.BootstrapServers, null));
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new SamsaTopicPartition("sa", p)));
        var received = await PollUntil(consumer, 15);
        Assert.Equal(3, received.Select(r => r.Partition).Distinct().Count());
        Assert.All(received, r => Assert.StartsWith($"p{r.Partition}-", r.Value));
    }
}
