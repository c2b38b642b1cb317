using System.Text.RegularExpressions;
using Samsa.Client.Consumer;
using Samsa.Interop.Tests.Groups;
using Samsa.Protocol;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// Our consumer on KIP-848's consumer protocol (group.protocol=consumer), written once and run
/// against librdkafka's mock cluster (three brokers, an independent KIP-848 implementation) and
/// against our broker. Members are told exactly what moves: a join revokes nothing but the
/// partitions that go to the newcomer, and nothing is reported lost unless a member was fenced.
/// </summary>
public abstract class OurConsumerKip848Tests : IAsyncLifetime
{
    private readonly List<SamsaMember> _members = [];
    private IKip848Target? _target;

    protected IKip848Target Target => _target ?? throw new InvalidOperationException("The target has not started.");

    protected abstract Task<IKip848Target> StartTargetAsync();

    public async Task InitializeAsync() => _target = await StartTargetAsync();

    public async Task DisposeAsync()
    {
        List<SamsaMember> members;
        lock (_members)
            members = [.. _members];
        await Task.WhenAll(members.Select(m => Task.Run(m.Dispose)));
        if (_target is not null)
            await _target.DisposeAsync();
    }

    private protected SamsaMember Member(string group, string topic, string? instanceId = null, bool autoCommit = false, int maxPollIntervalMs = 300_000)
    {
        var member = new SamsaMember(Target.Bootstrap, group, topic, "consumer", instanceId, autoCommit, maxPollIntervalMs,
            o => o with { RetryBackoff = TimeSpan.FromMilliseconds(50), MetadataMaxAge = TimeSpan.FromSeconds(1) });
        lock (_members)
            _members.Add(member);
        return member;
    }

    private protected void Forget(SamsaMember member)
    {
        lock (_members)
            _members.Remove(member);
        member.Dispose();
    }

    private protected static bool Split(IReadOnlyCollection<SamsaMember> members, int partitions) =>
        Eventually.Partitioned(members.Select(m => m.Assigned), partitions) && members.All(m => m.Assigned.Count >= partitions / members.Count);

    private protected static void NoneLost(params SamsaMember[] members) =>
        Assert.All(members, m => Assert.True(m.LostEvents.Count == 0, $"lost: {string.Join(";", m.LostEvents.Select(e => string.Join(",", e)))}"));

    [Fact]
    public async Task Members_split_grow_and_shrink_and_only_moved_partitions_are_revoked()
    {
        await Target.CreateTopicAsync("k4", 4);
        var a = Member("split", "k4");
        var b = Member("split", "k4");
        await Eventually.True(() => Split([a, b], 4), "two members own two partitions each");
        var beforeA = a.Assigned;
        var beforeB = b.Assigned;
        int revokesA = a.RevokeCount, revokesB = b.RevokeCount;

        var c = Member("split", "k4");
        await Eventually.True(() => Eventually.Partitioned([a.Assigned, b.Assigned, c.Assigned], 4) && c.Assigned.Count == 1 && a.Assigned.Count + b.Assigned.Count == 3,
            "the newcomer owns one partition");
        // What the old members gave up is exactly what moved to the newcomer.
        var revoked = a.RevokeEvents.Skip(revokesA).Concat(b.RevokeEvents.Skip(revokesB)).SelectMany(e => e).ToHashSet();
        Assert.Equal(c.Assigned, revoked);
        Assert.Subset(beforeA, a.Assigned);
        Assert.Subset(beforeB, b.Assigned);

        Forget(c);
        await Eventually.True(() => Split([a, b], 4), "the closed member's partition moved back");
        NoneLost(a, b);
        Assert.All(new[] { a, b }, m => Assert.Null(m.Failure));
    }

    [Fact]
    public async Task Our_members_and_librdkafka_members_split_one_consumer_protocol_group()
    {
        await Target.CreateTopicAsync("mixed", 4);
        var ours = Member("mixed-g", "mixed");
        using var theirs = new ConfluentMember(Target.Bootstrap, "mixed-g", "mixed", "consumer");
        await Eventually.True(() => ours.Assigned.Count == 2 && theirs.Assigned.Count == 2 && !ours.Assigned.Overlaps(theirs.Assigned),
            "each client's member owns two partitions");
        NoneLost(ours);
    }

    [Fact]
    public async Task A_static_member_that_restarts_within_the_session_timeout_gets_its_partitions_back()
    {
        await Target.CreateTopicAsync("st", 4);
        var a = Member("static-g", "st", instanceId: "host-a");
        var b = Member("static-g", "st", instanceId: "host-b");
        await Eventually.True(() => Split([a, b], 4), "two static members own two partitions each");
        var mine = a.Assigned;
        int revokesB = b.RevokeCount;
        Forget(a); // leaves with epoch -2: the broker keeps its assignment for the session timeout
        var back = Member("static-g", "st", instanceId: "host-a");
        await Eventually.True(() => back.Assigned.SetEquals(mine), "the restarted member owns what it had");
        Assert.Equal(revokesB, b.RevokeCount);
        Assert.Equal(2, b.Assigned.Count);
    }

    [Fact]
    public async Task A_member_that_stops_polling_leaves_and_reports_its_partitions_lost_when_it_polls_again()
    {
        await Target.CreateTopicAsync("slow", 2);
        var a = Member("slow-g", "slow", maxPollIntervalMs: 3000);
        var b = Member("slow-g", "slow");
        await Eventually.True(() => Split([a, b], 2), "each member owns one partition");
        a.StopPolling();
        await Eventually.True(() => b.Assigned.Count == 2, "the other member took over the stuck member's partition");
        a.ResumePolling();
        await Eventually.True(() => a.LostEvents.Count == 1 && Split([a, b], 2), "the member rejoined after reporting its partition lost");
        Assert.Null(a.Failure);
    }

    [Fact]
    public async Task A_regex_subscription_is_resolved_by_the_broker_and_picks_up_a_topic_created_later()
    {
        await Target.CreateTopicAsync("rx-a", 1);
        await Target.CreateTopicAsync("other", 1);
        await using var consumer = new KafkaConsumer<string, string>(ConsumerProtocolOptions(Target.Bootstrap, "rx-g"), loggerFactory: TestLogging.Factory);
        consumer.Subscribe(new Regex("rx-.*"));
        await PollUntilAssigned(consumer, [new SamsaTopicPartition("rx-a", 0)]);
        await Target.CreateTopicAsync("rx-b", 2);
        await PollUntilAssigned(consumer, [new SamsaTopicPartition("rx-a", 0), new SamsaTopicPartition("rx-b", 0), new SamsaTopicPartition("rx-b", 1)]);
    }

    [Fact]
    public async Task Commits_carry_the_member_epoch_and_survive_a_hand_over()
    {
        await Target.CreateTopicAsync("cm", 1);
        await Produce(Target.Bootstrap, "cm", 10);
        await using (var first = new KafkaConsumer<string, string>(ConsumerProtocolOptions(Target.Bootstrap, "cm-g") with { EnableAutoCommit = false }, loggerFactory: TestLogging.Factory))
        {
            first.Subscribe("cm");
            await PollUntil(first, 10);
            await first.CommitSyncAsync();
            Assert.True(first.GroupMetadata!.GenerationId > 0, "a member commits with its epoch");
        }
        await Produce(Target.Bootstrap, "cm", 5, prefix: "after");
        await using var second = new KafkaConsumer<string, string>(ConsumerProtocolOptions(Target.Bootstrap, "cm-g"), loggerFactory: TestLogging.Factory);
        second.Subscribe("cm");
        var rest = await PollUntil(second, 5);
        Assert.All(rest, r => Assert.StartsWith("after", r.Value));
    }

    [Fact]
    public async Task A_member_cut_off_past_the_session_timeout_is_fenced_reports_its_partitions_lost_and_rejoins()
    {
        await Target.CreateTopicAsync("fence", 4);
        var steady = Member("fence-g", "fence");
        await using var route = new ProxiedCluster(Target.Bootstrap);
        var cut = new SamsaMember(route.Bootstrap, "fence-g", "fence", "consumer",
            configure: o => o with { RetryBackoff = TimeSpan.FromMilliseconds(50), MetadataMaxAge = TimeSpan.FromSeconds(1) });
        try
        {
            await Eventually.True(() => Split([steady, cut], 4), "both members own two partitions");
            var owned = cut.Assigned;

            route.Sever();
            await Eventually.True(() => steady.Assigned.Count == 4, "the session timeout gave the cut-off member's partitions away",
                (int)Target.SessionTimeout.TotalSeconds + 30);
            route.Heal();
            // Back on the network, its next heartbeat is refused (UNKNOWN_MEMBER_ID or FENCED_MEMBER_EPOCH):
            // it reports what it owned as lost, without committing, and joins again as a new member.
            await Eventually.True(() => cut.LostEvents.Count == 1 && Split([steady, cut], 4), "the fenced member rejoined and the group split again");
            Assert.Equal(owned, cut.LostEvents[0]);
            NoneLost(steady);
            Assert.Null(cut.Failure);
            Assert.Null(steady.Failure);
        }
        finally
        {
            cut.Dispose();
        }
    }

    [Fact]
    public async Task The_documented_commit_in_on_partitions_revoked_works_during_dispose() =>
        await SamsaGroupTests.CommitInRevokedDuringDispose(Target.Bootstrap, "cr-k", ConsumerProtocolOptions(Target.Bootstrap, "cr-k-g") with { EnableAutoCommit = false },
            Target.CreateTopicAsync);

    internal static ConsumerOptions ConsumerProtocolOptions(string bootstrap, string group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        GroupProtocol = GroupProtocol.Consumer,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        RetryBackoff = TimeSpan.FromMilliseconds(50),
    };

    internal static async Task PollUntilAssigned(KafkaConsumer<string, string> consumer, IReadOnlyCollection<SamsaTopicPartition> expected, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!consumer.Assignment.ToHashSet().SetEquals(expected))
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Assigned [{string.Join(", ", consumer.Assignment)}], expected [{string.Join(", ", expected)}].");
            await consumer.PollAsync(TimeSpan.FromMilliseconds(100));
        }
    }
}

public sealed class OurConsumerKip848OnMockClusterTests : OurConsumerKip848Tests
{
    private MockClusterKip848Target Mock => (MockClusterKip848Target)Target;

    protected override Task<IKip848Target> StartTargetAsync() => Task.FromResult<IKip848Target>(new MockClusterKip848Target());

    [Fact]
    public async Task Injected_heartbeat_errors_are_ridden_out_and_a_fenced_member_loses_and_rejoins()
    {
        await Target.CreateTopicAsync("inj", 2);
        // The coordinator is not the bootstrap broker.
        Mock.Mock.SetCoordinator("group", "inj-g", 3);
        var a = Member("inj-g", "inj");
        await Eventually.True(() => a.Assigned.Count == 2, "the member owns both partitions");
        Mock.Mock.PushRequestErrors((short)ApiKey.ConsumerGroupHeartbeat,
            (short)ErrorCode.CoordinatorNotAvailable, (short)ErrorCode.NotCoordinator, (short)ErrorCode.CoordinatorLoadInProgress);
        var b = Member("inj-g", "inj");
        await Eventually.True(() => Split([a, b], 2), "a second member joins through the injected errors");
        NoneLost(a, b);

        Mock.Mock.PushRequestErrors((short)ApiKey.ConsumerGroupHeartbeat, (short)ErrorCode.FencedMemberEpoch);
        await Eventually.True(() => a.LostEvents.Count + b.LostEvents.Count == 1 && Split([a, b], 2),
            "the fenced member reported its partition lost and rejoined");

        // The coordinator moves: the old one answers NOT_COORDINATOR and the members find the new one.
        Mock.Mock.SetCoordinator("group", "inj-g", 1);
        Forget(b);
        await Eventually.True(() => a.Assigned.Count == 2, "the member left at the new coordinator owns both partitions");
        Assert.Equal(1, a.LostEvents.Count + b.LostEvents.Count);
        Assert.Null(a.Failure);
        Assert.Null(b.Failure);
    }

    [Fact]
    public async Task A_topic_authorization_failure_is_thrown_by_one_poll_and_the_member_keeps_its_partitions()
    {
        await Target.CreateTopicAsync("acl", 2);
        await using var consumer = new KafkaConsumer<string, string>(ConsumerProtocolOptions(Target.Bootstrap, "acl-g"), loggerFactory: TestLogging.Factory);
        var lost = 0;
        consumer.Subscribe(["acl"], new RebalanceListener(onLost: _ => lost++));
        var both = new[] { new SamsaTopicPartition("acl", 0), new SamsaTopicPartition("acl", 1) };
        await PollUntilAssigned(consumer, both);
        var epoch = consumer.GroupMetadata!.GenerationId;

        Mock.Mock.PushRequestErrors((short)ApiKey.ConsumerGroupHeartbeat, (short)ErrorCode.TopicAuthorizationFailed);
        var error = await Assert.ThrowsAsync<Samsa.Client.Errors.TopicAuthorizationException>(async () =>
        {
            for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until;)
                await consumer.PollAsync(TimeSpan.FromMilliseconds(100));
        });
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error.Error);

        // The member is still in the group, with its epoch: a newcomer takes one partition from it
        // through an ordinary revocation, and nothing is reported lost.
        Assert.Equal(both.ToHashSet(), consumer.Assignment.ToHashSet());
        Assert.Equal(epoch, consumer.GroupMetadata!.GenerationId);
        var b = Member("acl-g", "acl");
        for (var until = DateTime.UtcNow.AddSeconds(30); !(consumer.Assignment.Count == 1 && b.Assigned.Count == 1);)
        {
            Assert.True(DateTime.UtcNow < until, $"the group split: ours [{string.Join(",", consumer.Assignment)}], theirs [{string.Join(",", b.Assigned)}]");
            await consumer.PollAsync(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(0, lost);
        NoneLost(b);
    }
}

public sealed class OurConsumerKip848OnSamsaTests : OurConsumerKip848Tests
{
    protected override async Task<IKip848Target> StartTargetAsync() => await SamsaKip848Target.StartAsync();

    [Fact]
    public async Task Partitions_added_to_a_subscribed_topic_are_assigned_without_a_rejoin()
    {
        await Target.CreateTopicAsync("grow", 2);
        var a = Member("grow-g", "grow");
        await Eventually.True(() => a.Assigned.Count == 2, "the member owns both partitions");
        await Target.AddPartitionsAsync("grow", 4);
        await Eventually.True(() => a.Assigned.Count == 4, "the new partitions are assigned");
        NoneLost(a);
    }

    [Fact]
    public async Task A_broker_without_the_consumer_protocol_fails_the_poll_with_an_error_that_says_what_to_do()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { GroupRebalanceProtocols = ["classic"] });
        await CreateTopic(broker.Bootstrap, "old", 1);
        await using var consumer = new KafkaConsumer<string, string>(ConsumerProtocolOptions(broker.Bootstrap, "old-g"), loggerFactory: TestLogging.Factory);
        consumer.Subscribe("old");
        var error = await Assert.ThrowsAsync<Samsa.Client.KafkaException>(async () =>
        {
            for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until;)
                await consumer.PollAsync(TimeSpan.FromMilliseconds(100));
        });
        Assert.Equal(ErrorCode.UnsupportedVersion, error.Error);
        Assert.Contains("group.protocol=classic", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rolling_upgrade_from_the_classic_protocol_to_the_consumer_protocol_loses_nothing()
    {
        await Target.CreateTopicAsync("roll", 6);
        var all = new List<SamsaMember>();
        var live = new List<SamsaMember>();
        for (int i = 0; i < 3; i++)
        {
            var classic = new SamsaMember(Target.Bootstrap, "roll-g", "roll", "cooperative-sticky", autoCommit: true);
            all.Add(classic);
            live.Add(classic);
        }
        try
        {
            await Eventually.True(() => Split(live, 6), "three classic members own two partitions each");
            int produced = 0;
            for (int step = 0; step < 3; step++)
            {
                await Produce(Target.Bootstrap, "roll", 60, prefix: $"s{step}-");
                produced += 60;
                // One member at a time rolls to the consumer protocol; the group keeps consuming.
                var old = live[0];
                live.RemoveAt(0);
                old.Dispose();
                var upgraded = Member("roll-g", "roll", autoCommit: true);
                all.Add(upgraded);
                live.Add(upgraded);
                await Eventually.True(() => Split(live, 6), $"after rolling member {step + 1}, the partitions are split again");
            }
            await Produce(Target.Bootstrap, "roll", 60, prefix: "last-");
            produced += 60;
            await Eventually.True(() => all.SelectMany(m => m.Received).Select(r => r.Value).Distinct().Count() == produced,
                "every record produced during the upgrade was consumed");
            Assert.All(all, m => Assert.Null(m.Failure));
            await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = Target.Bootstrap });
            Assert.Equal(Samsa.Client.Admin.GroupType.Consumer, (await admin.DescribeGroupAsync("roll-g")).Type);
        }
        finally
        {
            foreach (var m in live.Where(m => !all.Skip(3).Contains(m)))
                m.Dispose();
        }
    }
}
