using Samsa.Broker.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

public class GroupCoordinatorTests
{
    private const string G = "orders-app";

    [Theory]
    [InlineData("group", 47)]
    [InlineData("my-group", 36)]
    [InlineData("console-consumer-12345", 6)]
    [InlineData("Ω-ü", 4)]
    public void Groups_map_to_partitions_the_way_kafka_does(string group, int partition) =>
        Assert.Equal(partition, OffsetsTopic.PartitionFor(group, 50));

    [Fact]
    public async Task Members_joining_together_form_one_generation_with_a_leader_who_assigns()
    {
        var h = new GroupHarness();
        var a = h.Join(G);
        var b = h.Join(G);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        // group.initial.rebalance.delay.ms: a member joined during the delay, so it runs once more.
        Assert.False(a.IsCompleted);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        var (ja, jb) = (await a.Done(), await b.Done());
        Assert.Equal((ErrorCode.None, 1), (ja.ErrorCode, ja.GenerationId));
        Assert.Equal(ja.Leader, jb.Leader);
        var leader = ja.Leader == ja.MemberId ? ja : jb;
        var follower = leader == ja ? jb : ja;
        Assert.Equal(2, leader.Members.Count);
        Assert.Empty(follower.Members);
        Assert.Equal("range", leader.ProtocolName);

        var followerSync = h.Sync(G, follower);
        Assert.False(followerSync.IsCompleted);
        Assert.Equal(GroupState.CompletingRebalance, h.State(G));
        var leaderSync = await h.Sync(G, leader, new() { [leader.MemberId] = [1], [follower.MemberId] = [2] });
        Assert.Equal(new byte[] { 1 }, leaderSync.Assignment);
        Assert.Equal(new byte[] { 2 }, (await followerSync.Done()).Assignment);
        Assert.Equal(GroupState.Stable, h.State(G));
        Assert.Equal(ErrorCode.None, h.Heartbeat(G, follower));
    }

    [Fact]
    public async Task A_new_member_triggers_a_rebalance_the_others_learn_of_by_heartbeat()
    {
        var h = new GroupHarness();
        var (leader, _) = await StableGroupOfOne(h);
        var joining = h.Join(G);
        Assert.Equal(GroupState.PreparingRebalance, h.State(G));
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(G, leader));
        var rejoin = h.Rejoin(G, leader.MemberId);
        var (r1, r2) = (await rejoin.Done(), await joining.Done());
        Assert.Equal(2, r1.GenerationId);
        Assert.Equal(leader.MemberId, r1.Leader); // the leader keeps leading
        Assert.Equal(2, r1.Members.Count);
        Assert.Equal(2, r2.GenerationId);
    }

    [Fact]
    public async Task A_member_that_stops_heartbeating_is_removed_after_the_session_timeout()
    {
        var h = new GroupHarness();
        var a = h.Join(G);
        var b = h.Join(G);
        PassInitialDelay(h);
        var (ja, jb) = (await a.Done(), await b.Done());
        var leader = ja.Leader == ja.MemberId ? ja : jb;
        var other = leader == ja ? jb : ja;
        var s = h.Sync(G, other);
        await h.Sync(G, leader, new() { [leader.MemberId] = [1], [other.MemberId] = [2] });
        await s.Done();

        for (int i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(3));
            Assert.Equal(ErrorCode.None, h.Heartbeat(G, leader));
        }
        Assert.Equal(GroupState.Stable, h.State(G));
        // `other` has now been silent for 11 s, past its 10 s session timeout.
        h.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(GroupState.PreparingRebalance, h.State(G));
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(G, leader));
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(G, other));
        var again = await h.Rejoin(G, leader.MemberId);
        Assert.Single(again.Members);
    }

    [Fact]
    public async Task Members_that_do_not_rejoin_within_the_rebalance_timeout_are_dropped()
    {
        var h = new GroupHarness();
        var a = h.Join(G);
        var b = h.Join(G);
        PassInitialDelay(h);
        var (ja, jb) = (await a.Done(), await b.Done());
        var c = h.Join(G); // a third member: rebalance; only `a` and `c` come back
        var ra = h.Rejoin(G, ja.MemberId);
        h.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(ErrorCode.RebalanceInProgress, h.Heartbeat(G, jb)); // still a member, still alive
        h.Time.Advance(TimeSpan.FromSeconds(22)); // past the 30 s rebalance timeout
        var (r1, r3) = (await ra.Done(), await c.Done());
        Assert.Equal(2, r1.GenerationId);
        Assert.Equal(2, (r1.Leader == r1.MemberId ? r1 : r3).Members.Count);
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(G, jb));
    }

    [Fact]
    public async Task A_static_member_restarting_within_the_session_timeout_keeps_its_assignment_without_a_rebalance()
    {
        var h = new GroupHarness();
        var a = h.Join(G, instanceId: "host-a");
        var b = h.Join(G, instanceId: "host-b");
        PassInitialDelay(h);
        var (ja, jb) = (await a.Done(), await b.Done());
        var leader = ja.Leader == ja.MemberId ? ja : jb;
        var follower = leader == ja ? jb : ja;
        string followerInstance = follower == ja ? "host-a" : "host-b";
        var fs = h.Sync(G, follower, instanceId: followerInstance);
        await h.Sync(G, leader, new() { [leader.MemberId] = [1], [follower.MemberId] = [2] }, leader == ja ? "host-a" : "host-b");
        await fs.Done();

        // The follower's process restarts: it joins with no member id, same instance id.
        var restarted = await h.Shard(G).JoinGroup(GroupHarness.JoinRequest(G, "", followerInstance), 7, "client", "/127.0.0.1");
        Assert.Equal(ErrorCode.None, restarted.ErrorCode);
        Assert.Equal(1, restarted.GenerationId); // no new generation
        Assert.NotEqual(follower.MemberId, restarted.MemberId);
        Assert.Equal(GroupState.Stable, h.State(G));
        Assert.Equal(new byte[] { 2 }, (await h.Sync(G, restarted, instanceId: followerInstance)).Assignment);
        // The old incarnation is fenced.
        Assert.Equal(ErrorCode.FencedInstanceId, h.Heartbeat(G, follower, followerInstance));
        Assert.Equal(ErrorCode.None, h.Heartbeat(G, leader));
    }

    [Fact]
    public async Task LeaveGroup_by_instance_id_removes_a_static_member_and_rebalances()
    {
        var h = new GroupHarness();
        var a = h.Join(G, instanceId: "host-a");
        h.Time.Advance(TimeSpan.FromSeconds(3));
        var ja = await a.Done();
        await h.Sync(G, ja, new() { [ja.MemberId] = [1] }, "host-a");
        var response = h.Shard(G).LeaveGroup(new LeaveGroupRequest
        {
            GroupId = G,
            Members = [new() { MemberId = "", GroupInstanceId = "host-a" }, new() { MemberId = "", GroupInstanceId = "nobody" }],
        }, 4);
        Assert.Equal([ErrorCode.None, ErrorCode.UnknownMemberId], response.Members.Select(m => m.ErrorCode));
        Assert.Equal(GroupState.Empty, h.State(G));
    }

    [Fact]
    public async Task Commits_are_checked_against_the_generation_and_standalone_commits_need_an_empty_group()
    {
        var h = new GroupHarness();
        var (leader, _) = await StableGroupOfOne(h);
        Assert.Equal(ErrorCode.None, Commit(h, leader.GenerationId, leader.MemberId, 42));
        Assert.Equal(ErrorCode.IllegalGeneration, Commit(h, leader.GenerationId - 1, leader.MemberId, 43));
        Assert.Equal(ErrorCode.UnknownMemberId, Commit(h, -1, "", 44));
        Assert.Equal(ErrorCode.UnknownMemberId, Commit(h, leader.GenerationId, "stranger", 45));
        Assert.Equal(42, h.Shard(G).FetchOffsets(G, [("t", [0])]).Offsets.Single().Offset!.Value.Offset);

        Assert.Equal(ErrorCode.None, Commit(h, -1, "", 7, group: "standalone"));
        Assert.Equal(7, h.Shard("standalone").FetchOffsets("standalone", null).Offsets.Single().Offset!.Value.Offset);
    }

    [Fact]
    public async Task Replaying_the_offsets_log_restores_groups_members_assignments_and_offsets()
    {
        var h = new GroupHarness();
        var (leader, _) = await StableGroupOfOne(h, instanceId: "host-a");
        Commit(h, leader.GenerationId, leader.MemberId, 99, instanceId: "host-a");
        Commit(h, -1, "", 5, group: "standalone");

        var restarted = new GroupCoordinator(h.Coordinator.Options, h.Time, h.Log, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        restarted.Load(h.Log.Read);
        var shard = restarted.ShardFor(G);
        var group = restarted.View(G)!;
        Assert.Equal("Stable", group.State);
        Assert.Equal(1, group.Epoch);
        Assert.Equal(leader.MemberId, group.LeaderId);
        var member = Assert.Single(group.Members);
        Assert.Equal(new byte[] { 1 }, member.Assignment);
        Assert.Equal(("host-a", leader.MemberId), (member.InstanceId, member.MemberId));
        Assert.Equal(99, shard.FetchOffsets(G, null).Offsets.Single().Offset!.Value.Offset);
        Assert.Equal(5, restarted.ShardFor("standalone").FetchOffsets("standalone", null).Offsets.Single().Offset!.Value.Offset);
        // The restored member is still the member: it can heartbeat with its old id and generation.
        Assert.Equal(ErrorCode.None, shard.Heartbeat(new HeartbeatRequest { GroupId = G, MemberId = leader.MemberId, GenerationId = 1, GroupInstanceId = "host-a" }).ErrorCode);
    }

    [Fact]
    public async Task Offsets_of_an_empty_group_expire_after_the_retention_time()
    {
        var h = new GroupHarness(new GroupCoordinatorOptions { OffsetsTopicPartitions = 3, OffsetsRetention = TimeSpan.FromMinutes(10) });
        Commit(h, -1, "", 1, group: "old");
        h.Time.Advance(TimeSpan.FromMinutes(9));
        h.Coordinator.ExpireOffsets();
        Assert.Single(h.Shard("old").FetchOffsets("old", null).Offsets);
        h.Time.Advance(TimeSpan.FromMinutes(2));
        h.Coordinator.ExpireOffsets();
        Assert.Empty(h.Shard("old").FetchOffsets("old", null).Offsets);
        Assert.False(h.Shard("old").GroupExists("old"));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Join_errors_follow_kafka()
    {
        var h = new GroupHarness();
        var shard = h.Shard(G);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await shard.JoinGroup(GroupHarness.JoinRequest(G, sessionMs: 1000), 7, "c", "h")).ErrorCode);
        Assert.Equal(ErrorCode.UnknownMemberId, (await shard.JoinGroup(GroupHarness.JoinRequest("nope", "ghost"), 7, "c", "h")).ErrorCode);
        Assert.Equal(ErrorCode.InvalidGroupId, (await shard.JoinGroup(GroupHarness.JoinRequest(""), 7, "c", "h")).ErrorCode);
        await StableGroupOfOne(h);
        // Protocols are checked before a member id is handed out.
        var inconsistent = await shard.JoinGroup(GroupHarness.JoinRequest(G, protocol: "roundrobin"), 7, "c", "h");
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, inconsistent.ErrorCode);
    }

    [Fact]
    public async Task A_group_moves_to_the_protocol_every_member_supports_during_a_rolling_upgrade()
    {
        var h = new GroupHarness();
        var shard = h.Shard(G);
        static JoinGroupRequest Both(string memberId) => new()
        {
            GroupId = G,
            MemberId = memberId,
            SessionTimeoutMs = 10_000,
            RebalanceTimeoutMs = 30_000,
            ProtocolType = "consumer",
            Protocols = [new() { Name = "cooperative-sticky", Metadata = [] }, new() { Name = "range", Metadata = [] }],
        };
        var a = h.Join(G); // range only
        var id = (await shard.JoinGroup(Both(""), 7, "c", "h")).MemberId;
        var b = shard.JoinGroup(Both(id), 7, "c", "h");
        PassInitialDelay(h);
        Assert.Equal("range", (await a.Done()).ProtocolName);
        Assert.Equal("range", (await b.Done()).ProtocolName);
    }

    /// <summary>
    /// Two members joining an empty group: the initial delay runs once, sees a member arrived during
    /// it, and runs once more. Timers re-armed inside a callback start from the advanced time, so
    /// the two periods are advanced separately.
    /// </summary>
    private static void PassInitialDelay(GroupHarness h)
    {
        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Time.Advance(TimeSpan.FromSeconds(3));
    }

    private static async Task<(JoinGroupResponse Leader, SyncGroupResponse Sync)> StableGroupOfOne(GroupHarness h, string? instanceId = null)
    {
        var join = h.Join(G, instanceId);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        var joined = await join.Done();
        var sync = await h.Sync(G, joined, new() { [joined.MemberId] = [1] }, instanceId);
        return (joined, sync);
    }

    private static ErrorCode Commit(GroupHarness h, int generation, string memberId, long offset, string group = G, string? instanceId = null) =>
        h.Shard(group).OffsetCommit(new OffsetCommitRequest
        {
            GroupId = group,
            GenerationIdOrMemberEpoch = generation,
            MemberId = memberId,
            GroupInstanceId = instanceId,
            Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = offset }] }],
        }, 8).Topics[0].Partitions[0].ErrorCode;
}

public class GroupShutdownTests
{
    [Fact]
    public async Task Closing_the_coordinator_stops_timers_and_answers_parked_joins()
    {
        var h = new GroupHarness();
        var parked = h.Join("g");
        var log = h.Log.Partitions.Values.Sum(p => p.Count);
        h.Coordinator.Dispose();
        Assert.Equal(Samsa.Protocol.ErrorCode.CoordinatorNotAvailable, (await parked.Done()).ErrorCode);
        // The initial-delay and session timers would have fired here; nothing is written after close.
        h.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(log, h.Log.Partitions.Values.Sum(p => p.Count));
    }

    [Fact]
    public void Commits_to_a_group_that_does_not_exist_follow_kafkas_rules()
    {
        var h = new GroupHarness();
        ErrorCode Commit(string group, string member, int generation, short version) =>
            h.Shard(group).OffsetCommit(new OffsetCommitRequest
            {
                GroupId = group, MemberId = member, GenerationIdOrMemberEpoch = generation,
                Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 1 }] }],
            }, version).Topics[0].Partitions[0].ErrorCode;
        // A negative generation comes from an assign-mode consumer or a tool, even one that names a member (librdkafka's KIP-848 consumer does).
        Assert.Equal(ErrorCode.None, Commit("simple", "client-generated-id", -1, 9));
        Assert.Equal(ErrorCode.GroupIdNotFound, Commit("missing", "m", 3, 9));
        Assert.Equal(ErrorCode.IllegalGeneration, Commit("missing", "m", 3, 8));
    }
}
