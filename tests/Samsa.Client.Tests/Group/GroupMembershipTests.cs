using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Internal.Group;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Tests.Group;

public class GroupMembershipTests
{
    private readonly FakeTimeProvider _time = new();

    private GroupMembership Create(string? instanceId = null) => new(
        new MembershipOptions("orders", instanceId, TimeSpan.FromSeconds(45), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(3)),
        _time);

    private static List<JoinGroupRequest.JoinGroupRequestProtocol> Protocols() =>
        [new() { Name = "range", Metadata = ConsumerProtocol.EncodeSubscription(["t"], [], -1, null, null) }];

    private static GroupStep JoinAsLeader(GroupMembership m, int generation = 1)
    {
        m.BeginJoin(Protocols());
        return m.OnJoinResponse(new JoinGroupResponse
        {
            GenerationId = generation,
            MemberId = "m-1",
            Leader = "m-1",
            ProtocolName = "range",
            Members = [new() { MemberId = "m-1", Metadata = [0, 3] }],
        });
    }

    private static void Sync(GroupMembership m)
    {
        m.BeginSync([]);
        Assert.Equal(GroupStep.Assigned, m.OnSyncResponse(new SyncGroupResponse
        {
            Assignment = ConsumerProtocol.EncodeAssignment([("t", 0), ("t", 1)], null),
        }));
    }

    [Fact]
    public void First_join_takes_the_member_id_from_MEMBER_ID_REQUIRED_then_leads_and_syncs()
    {
        var m = Create();
        var first = m.BeginJoin(Protocols());
        Assert.Equal("", first.MemberId);
        Assert.Equal(GroupStep.Rejoin, m.OnJoinResponse(new JoinGroupResponse { ErrorCode = ErrorCode.MemberIdRequired, MemberId = "m-1" }));
        Assert.Equal(MemberState.Unjoined, m.State);

        var second = m.BeginJoin(Protocols());
        Assert.Equal("m-1", second.MemberId);
        Assert.Equal(GroupStep.SyncAsLeader, m.OnJoinResponse(new JoinGroupResponse
        {
            GenerationId = 1,
            MemberId = "m-1",
            Leader = "m-1",
            ProtocolName = "range",
            Members = [new() { MemberId = "m-1" }, new() { MemberId = "m-2" }],
        }));
        Assert.True(m.IsLeader);
        Assert.Equal(2, m.LeaderMembers.Count);

        var sync = m.BeginSync([new() { MemberId = "m-1", Assignment = [1] }]);
        Assert.Equal(1, sync.GenerationId);
        Assert.Single(sync.Assignments);
        Assert.Equal(GroupStep.Assigned, m.OnSyncResponse(new SyncGroupResponse { Assignment = ConsumerProtocol.EncodeAssignment([("t", 0)], null) }));
        Assert.Equal(MemberState.Stable, m.State);
        Assert.Equal([("t", 0)], ConsumerProtocol.DecodeAssignment(m.AssignmentBytes).Partitions);
    }

    [Fact]
    public void Followers_sync_with_no_assignments_even_if_given_some()
    {
        var m = Create();
        m.BeginJoin(Protocols());
        Assert.Equal(GroupStep.SyncAsFollower, m.OnJoinResponse(new JoinGroupResponse { GenerationId = 4, MemberId = "m-2", Leader = "m-1", ProtocolName = "range" }));
        Assert.Empty(m.BeginSync([new() { MemberId = "x", Assignment = [1] }]).Assignments);
    }

    [Fact]
    public void Heartbeats_are_due_every_interval_and_one_at_a_time()
    {
        var m = Create();
        JoinAsLeader(m);
        Sync(m);
        Assert.False(m.HeartbeatDue());
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.True(m.HeartbeatDue());
        var hb = m.CreateHeartbeat();
        Assert.Equal((1, "m-1"), (hb.GenerationId, hb.MemberId));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(m.HeartbeatDue()); // one in flight
        Assert.Equal(GroupStep.Continue, m.OnHeartbeatResponse(new HeartbeatResponse()));
        Assert.True(m.HeartbeatDue());
    }

    [Fact]
    public void Rebalance_in_progress_rejoins_keeping_the_generation_for_cooperative_members()
    {
        var m = Create();
        JoinAsLeader(m, generation: 7);
        Sync(m);
        m.CreateHeartbeat();
        Assert.Equal(GroupStep.Rejoin, m.OnHeartbeatResponse(new HeartbeatResponse { ErrorCode = ErrorCode.RebalanceInProgress }));
        Assert.Equal(MemberState.Unjoined, m.State);
        Assert.Equal(7, m.GenerationId);
        Assert.False(m.PartitionsLost);
        Assert.Equal("group is rebalancing", m.BeginJoin(Protocols()).Reason);
    }

    [Theory]
    [InlineData(ErrorCode.IllegalGeneration, "m-1")]
    [InlineData(ErrorCode.UnknownMemberId, "")]
    public void Losing_the_generation_marks_partitions_lost(ErrorCode error, string memberIdAfter)
    {
        var m = Create();
        JoinAsLeader(m);
        Sync(m);
        m.CreateHeartbeat();
        Assert.Equal(GroupStep.Rejoin, m.OnHeartbeatResponse(new HeartbeatResponse { ErrorCode = error }));
        Assert.True(m.PartitionsLost);
        Assert.Equal(-1, m.GenerationId);
        Assert.Equal(memberIdAfter, m.MemberId);
    }

    [Fact]
    public void A_fenced_static_member_stops_for_good()
    {
        var m = Create("instance-a");
        m.BeginJoin(Protocols());
        Assert.Equal(GroupStep.Fatal, m.OnJoinResponse(new JoinGroupResponse { ErrorCode = ErrorCode.FencedInstanceId }));
        Assert.Equal(ErrorCode.FencedInstanceId, m.FatalError);
        Assert.Throws<InvalidOperationException>(() => m.BeginJoin(Protocols()));
    }

    [Fact]
    public void Stalled_poll_loop_leaves_the_group_and_dynamic_members_send_LeaveGroup()
    {
        var m = Create();
        JoinAsLeader(m);
        Sync(m);
        _time.Advance(TimeSpan.FromMinutes(4));
        m.OnPoll();
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.False(m.PollIntervalExceeded);
        _time.Advance(TimeSpan.FromMinutes(1.5));
        Assert.True(m.PollIntervalExceeded);

        var leave = m.Leave("poll timeout");
        Assert.NotNull(leave);
        Assert.Equal("m-1", leave.Members.Single().MemberId);
        Assert.Equal(("", -1, MemberState.Unjoined), (m.MemberId, m.GenerationId, m.State));
    }

    [Fact]
    public void Static_members_do_not_send_LeaveGroup_and_keep_their_member_id()
    {
        var m = Create("instance-a");
        JoinAsLeader(m);
        Sync(m);
        Assert.Null(m.Leave("closing"));
        Assert.Equal("m-1", m.MemberId);
        Assert.Equal("instance-a", m.BeginJoin(Protocols()).GroupInstanceId);
    }

    [Fact]
    public void Heartbeats_failing_past_the_session_timeout_lose_the_partitions()
    {
        var m = Create();
        JoinAsLeader(m);
        Sync(m);
        _time.Advance(TimeSpan.FromSeconds(3));
        m.CreateHeartbeat();
        Assert.Equal(GroupStep.FindCoordinator, m.OnHeartbeatFailed());
        Assert.Equal(MemberState.Stable, m.State);
        _time.Advance(TimeSpan.FromSeconds(46));
        m.CreateHeartbeat();
        Assert.Equal(GroupStep.FindCoordinator, m.OnHeartbeatFailed());
        Assert.Equal(MemberState.Unjoined, m.State);
        Assert.True(m.PartitionsLost);
    }

    [Fact]
    public void Coordinator_errors_send_the_member_to_find_the_coordinator()
    {
        var m = Create();
        m.BeginJoin(Protocols());
        Assert.Equal(GroupStep.FindCoordinator, m.OnJoinResponse(new JoinGroupResponse { ErrorCode = ErrorCode.NotCoordinator }));
        m.BeginJoin(Protocols());
        Assert.Equal(GroupStep.RejoinAfterBackoff, m.OnJoinResponse(new JoinGroupResponse { ErrorCode = ErrorCode.CoordinatorLoadInProgress }));
    }

    [Fact]
    public void Responses_out_of_turn_are_bugs()
    {
        var m = Create();
        Assert.Throws<InvalidOperationException>(() => m.OnSyncResponse(new SyncGroupResponse()));
        Assert.Throws<InvalidOperationException>(() => m.OnJoinResponse(new JoinGroupResponse()));
    }

    [Theory]
    [InlineData(ErrorCode.InvalidRequest, false)]
    [InlineData(ErrorCode.UnknownServerError, false)]
    [InlineData(ErrorCode.FencedInstanceId, true)]
    [InlineData(ErrorCode.GroupAuthorizationFailed, true)]
    public void An_unexpected_sync_error_ends_the_round_and_only_fencing_or_authorization_end_the_member(ErrorCode error, bool fatal)
    {
        var m = Create();
        JoinAsLeader(m);
        m.BeginSync([]);
        Assert.Equal(fatal ? GroupStep.Fatal : GroupStep.RejoinAfterBackoff, m.OnSyncResponse(new SyncGroupResponse { ErrorCode = error }));
        Assert.Equal(fatal ? MemberState.Fatal : MemberState.Unjoined, m.State);
        if (!fatal)
            Assert.Equal("m-1", m.BeginJoin(Protocols()).MemberId); // rejoins with its member id
    }

    [Fact]
    public void The_membership_tracks_what_the_application_owns_across_rebalances()
    {
        var m = Create();
        JoinAsLeader(m);
        Sync(m);
        var first = m.PlanAfterSync(RebalanceMode.Cooperative, [("t", 0), ("t", 1)]);
        Assert.Equal([("t", 0), ("t", 1)], first.Assigned);
        Assert.Equal([("t", 0), ("t", 1)], m.Owned.Order());
        Assert.Equal((1, 2), (m.PreviousGeneration, m.PreviousAssignment.Count));

        // Cooperative: nothing is given up before the join, and the sync revokes only what moved.
        var before = m.PlanBeforeJoin(RebalanceMode.Cooperative);
        Assert.Empty(before.Revoked);
        m.GaveUp(before);
        m.RequestRejoin("test");
        JoinAsLeader(m, generation: 2);
        Sync(m);
        var second = m.PlanAfterSync(RebalanceMode.Cooperative, [("t", 0)]);
        Assert.Equal([("t", 1)], second.Revoked);
        Assert.True(second.RejoinAfterRevoke);
        Assert.Equal([("t", 0)], m.Owned);
        Assert.Equal(2, m.PreviousGeneration);

        // Eager: everything is revoked before the next join, and the membership forgets it once given up.
        var eager = m.PlanBeforeJoin(RebalanceMode.Eager);
        Assert.Equal([("t", 0)], eager.Revoked);
        m.GaveUp(eager);
        Assert.Empty(m.Owned);
    }

    [Fact]
    public void Partitions_held_through_a_poll_timeout_are_lost_on_the_next_join_and_a_close_forgets_them()
    {
        var m = Create();
        JoinAsLeader(m);
        Sync(m);
        m.PlanAfterSync(RebalanceMode.Cooperative, [("t", 0), ("t", 1)]);
        Assert.NotNull(m.Leave("poll timeout", pollTimeout: true));
        var plan = m.PlanBeforeJoin(RebalanceMode.Cooperative);
        Assert.Equal([("t", 0), ("t", 1)], plan.Lost);
        Assert.Empty(plan.Revoked);
        m.GaveUp(plan);
        Assert.Empty(m.PlanBeforeJoin(RebalanceMode.Cooperative).Lost);

        JoinAsLeader(m, generation: 2);
        Sync(m);
        m.PlanAfterSync(RebalanceMode.Cooperative, [("t", 0)]);
        m.Leave("closing");
        Assert.Empty(m.Owned);
    }
}
