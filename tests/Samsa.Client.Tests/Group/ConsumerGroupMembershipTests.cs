using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Internal.Group;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Assigned = Samsa.Protocol.Messages.ConsumerGroupHeartbeatResponse.TopicPartitions;

namespace Samsa.Client.Tests.Group;

public class ConsumerGroupMembershipTests
{
    private static readonly Guid A = new("0000000a-0000-0000-0000-000000000000");
    private static readonly Guid B = new("0000000b-0000-0000-0000-000000000000");
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMinutes(5);
    private const int Interval = 3000;

    private readonly FakeTimeProvider _time = new();

    private ConsumerGroupMembership Create(string? instanceId = null) =>
        new(new ConsumerMembershipOptions("orders", instanceId, "rack-1", MaxPoll, "uniform"), _time);

    private static string? NameOf(Guid id) => id == A ? "a" : id == B ? "b" : null;

    private static Assigned Topic(Guid id, params int[] partitions) => new() { TopicId = id, Partitions = [.. partitions] };

    // Assignment null: the broker's "unchanged"; an empty array: "nothing for you".
    private static ConsumerGroupHeartbeatResponse Answer(int epoch, Assigned[]? assignment = null) => new()
    {
        MemberEpoch = epoch,
        HeartbeatIntervalMs = Interval,
        Assignment = assignment is null ? null : new() { TopicPartitions = [.. assignment] },
    };

    private static ConsumerGroupHeartbeatResponse Error(ErrorCode code) => new() { ErrorCode = code, ErrorMessage = "why", MemberEpoch = -1 };

    private static List<(Guid, string)> Owned(ConsumerGroupHeartbeatRequest r) =>
        r.TopicPartitions!.OrderBy(t => t.TopicId).Select(t => (t.TopicId, string.Join(",", t.Partitions))).ToList();

    private static ConsumerGroupMembership Join(ConsumerGroupMembership m, int epoch = 1, Assigned[]? assignment = null)
    {
        m.Subscribe(["a", "b"], null);
        m.CreateHeartbeat();
        Assert.Equal(ConsumerStep.Continue, m.OnHeartbeatResponse(Answer(epoch, assignment)));
        return m;
    }

    private static RebalancePlan Reconcile(ConsumerGroupMembership m)
    {
        Assert.True(m.TryStartReconciliation(NameOf, out var plan, out _));
        m.CompleteReconciliation();
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(m.MemberEpoch));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        return plan;
    }

    private ConsumerGroupMembership StableOwningA0(string? instanceId = null)
    {
        var m = Join(Create(instanceId), epoch: 1, [Topic(A, 0)]);
        Reconcile(m);
        return m;
    }

    private void NextInterval() => _time.Advance(TimeSpan.FromMilliseconds(Interval));

    private ConsumerStep Beat(ConsumerGroupMembership m, ConsumerGroupHeartbeatResponse answer)
    {
        NextInterval();
        m.CreateHeartbeat();
        return m.OnHeartbeatResponse(answer);
    }

    private static void AssertFull(ConsumerGroupHeartbeatRequest r, int epoch)
    {
        Assert.Equal(epoch, r.MemberEpoch);
        Assert.Equal((int)MaxPoll.TotalMilliseconds, r.RebalanceTimeoutMs);
        Assert.Equal(["a", "b"], r.SubscribedTopicNames);
        Assert.Equal("", r.SubscribedTopicRegex);
        Assert.Equal(("rack-1", "uniform"), (r.RackId, r.ServerAssignor));
        Assert.NotNull(r.TopicPartitions);
    }

    [Fact]
    public void Subscribing_joins_with_epoch_0_and_every_field()
    {
        var m = Create("i-1");
        Assert.Equal(ConsumerMemberState.Unsubscribed, m.State);
        Assert.False(m.HeartbeatDue());
        m.Subscribe(["a", "b"], null);
        Assert.Equal(ConsumerMemberState.Joining, m.State);
        Assert.True(m.HeartbeatDue());

        var join = m.CreateHeartbeat();
        Assert.Equal("orders", join.GroupId);
        // Kafka's Uuid.toString(): 16 bytes in unpadded base64url.
        Assert.Equal(22, m.MemberId.Length);
        Assert.Equal(16, Convert.FromBase64String(m.MemberId.Replace('-', '+').Replace('_', '/') + "==").Length);
        Assert.Equal(m.MemberId, join.MemberId);
        Assert.Equal("i-1", join.InstanceId);
        AssertFull(join, epoch: 0);
        Assert.Empty(join.TopicPartitions!);
        Assert.False(m.HeartbeatDue()); // in flight

        var byRegex = Create();
        byRegex.Subscribe([], "orders-.*");
        join = byRegex.CreateHeartbeat();
        Assert.Equal(("orders-.*", 0), (join.SubscribedTopicRegex, join.SubscribedTopicNames!.Count));
    }

    [Fact]
    public void The_join_answer_makes_it_stable_and_it_heartbeats_every_interval_with_only_what_changed()
    {
        var m = Join(Create(), epoch: 4);
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.Equal(4, m.MemberEpoch);
        Assert.False(m.NeedsReconciliation);
        Assert.False(m.HeartbeatDue());
        _time.Advance(TimeSpan.FromMilliseconds(Interval - 1));
        Assert.False(m.HeartbeatDue());
        Assert.Equal(TimeSpan.FromMilliseconds(1), m.UntilHeartbeat());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(m.HeartbeatDue());

        var steady = m.CreateHeartbeat();
        Assert.Equal(4, steady.MemberEpoch);
        Assert.Equal(m.MemberId, steady.MemberId);
        Assert.Equal(-1, steady.RebalanceTimeoutMs);
        Assert.Null(steady.SubscribedTopicNames);
        Assert.Null(steady.SubscribedTopicRegex);
        Assert.Null(steady.TopicPartitions);
        Assert.Null(steady.RackId);
        Assert.Null(steady.ServerAssignor);
        Assert.False(m.HeartbeatDue());
        m.OnHeartbeatResponse(Answer(4));
        Assert.False(m.HeartbeatDue()); // the interval starts at the send
    }

    [Fact]
    public void An_assignment_naming_an_unknown_topic_id_waits_for_metadata()
    {
        var m = Join(Create(), assignment: [Topic(A, 0), Topic(B, 1)]);
        Assert.True(m.NeedsReconciliation);
        Assert.False(m.TryStartReconciliation(id => id == A ? "a" : null, out _, out var unknown));
        Assert.Equal([B], unknown);
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.True(m.NeedsReconciliation);
        Assert.True(m.TryStartReconciliation(NameOf, out _, out unknown));
        Assert.Empty(unknown);
    }

    [Fact]
    public void An_assignment_is_reconciled_as_the_difference_and_acknowledged_at_once()
    {
        var m = StableOwningA0();
        Beat(m, Answer(2, [Topic(A, 1, 2), Topic(B, 0)]));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.True(m.NeedsReconciliation);

        Assert.True(m.TryStartReconciliation(NameOf, out var plan, out _));
        Assert.Equal(ConsumerMemberState.Reconciling, m.State);
        Assert.Equal([("a", 0)], plan.Revoked);
        Assert.Equal([("a", 1), ("a", 2), ("b", 0)], plan.Assigned);
        Assert.Equal([("a", 1), ("a", 2), ("b", 0)], plan.Owned);
        Assert.Empty(plan.Lost);
        Assert.False(plan.RejoinAfterRevoke);
        Assert.False(m.NeedsReconciliation);
        Assert.Equal([new OwnedPartition(A, "a", 0)], m.Owned); // until the application is done

        m.CompleteReconciliation();
        Assert.Equal(ConsumerMemberState.Acknowledging, m.State);
        Assert.True(m.HeartbeatDue()); // without waiting for the interval
        var ack = m.CreateHeartbeat();
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.Equal(2, ack.MemberEpoch);
        Assert.Equal([(A, "1,2"), (B, "0")], Owned(ack));
        Assert.Null(ack.SubscribedTopicNames);
        m.OnHeartbeatResponse(Answer(2));
        Assert.False(m.NeedsReconciliation);

        NextInterval();
        Assert.Null(m.CreateHeartbeat().TopicPartitions); // acknowledged once
    }

    [Fact]
    public void An_answer_without_an_assignment_keeps_the_last_one()
    {
        var m = StableOwningA0();
        Beat(m, Answer(1));
        Assert.False(m.NeedsReconciliation);
        Assert.Equal([new OwnedPartition(A, "a", 0)], m.Owned);

        Beat(m, Answer(2, []));
        Assert.True(m.TryStartReconciliation(NameOf, out var plan, out _));
        Assert.Equal([("a", 0)], plan.Revoked);
        Assert.Empty(plan.Owned);
    }

    [Fact]
    public void An_assignment_arriving_while_reconciling_is_reconciled_after_the_first()
    {
        var m = Join(Create(), assignment: [Topic(A, 0)]);
        Assert.True(m.TryStartReconciliation(NameOf, out _, out _));

        // Heartbeats go on while the application works, claiming nothing it does not own yet.
        NextInterval();
        Assert.True(m.HeartbeatDue());
        Assert.Null(m.CreateHeartbeat().TopicPartitions);
        m.OnHeartbeatResponse(Answer(2, [Topic(A, 0, 1)]));
        Assert.Equal(ConsumerMemberState.Reconciling, m.State);
        Assert.False(m.NeedsReconciliation);
        Assert.Equal(new GenerationInfo(2, m.MemberId), m.Generation);

        m.CompleteReconciliation();
        Assert.Equal([new OwnedPartition(A, "a", 0)], m.Owned);
        Assert.Equal([(A, "0")], Owned(m.CreateHeartbeat()));
        m.OnHeartbeatResponse(Answer(2));
        Assert.True(m.NeedsReconciliation);
        Assert.True(m.TryStartReconciliation(NameOf, out var second, out _));
        Assert.Empty(second.Revoked);
        Assert.Equal([("a", 1)], second.Assigned);
        m.CompleteReconciliation();
        Assert.Equal([(A, "0,1")], Owned(m.CreateHeartbeat()));
    }

    [Theory]
    [InlineData(ErrorCode.FencedMemberEpoch)]
    [InlineData(ErrorCode.UnknownMemberId)]
    public void Fencing_in_the_group_or_on_the_join_reports_the_owned_partitions_lost_and_rejoins_with_epoch_0(ErrorCode error)
    {
        var m = StableOwningA0();
        string id = m.MemberId;
        Assert.Equal(ConsumerStep.Fenced, Beat(m, Error(error)));
        Assert.Equal(ConsumerMemberState.Fenced, m.State);
        Assert.Equal(GenerationInfo.None, m.Generation);
        Assert.Equal([new OwnedPartition(A, "a", 0)], m.Owned); // what the loop reports lost
        Assert.False(m.HeartbeatDue());
        Assert.False(m.NeedsReconciliation);

        m.CompleteLost();
        Assert.Equal(ConsumerMemberState.Joining, m.State);
        Assert.Equal(0, m.MemberEpoch);
        Assert.Empty(m.Owned);
        Assert.True(m.HeartbeatDue());
        var rejoin = m.CreateHeartbeat();
        AssertFull(rejoin, epoch: 0);
        Assert.Empty(rejoin.TopicPartitions!);
        Assert.Equal(id, rejoin.MemberId);
        m.OnHeartbeatResponse(Answer(3, [Topic(A, 0)]));
        Assert.Equal(id, m.MemberId);
        Assert.Equal([("a", 0)], Reconcile(m).Assigned); // assigned afresh: nothing is owned any more

        var joining = Create();
        joining.Subscribe(["a", "b"], null);
        joining.CreateHeartbeat();
        Assert.Equal(ConsumerStep.Fenced, joining.OnHeartbeatResponse(Error(error)));
        joining.CompleteLost();
        Assert.Equal(0, joining.CreateHeartbeat().MemberEpoch);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Partitions_assigned_by_a_reconciliation_interrupted_by_fencing_or_a_poll_timeout_are_lost_too(bool fenced)
    {
        // The application applies a handed step whole, so once it is done it holds the new set
        // whatever happened meanwhile; reporting only the old set lost would leave it holding a-1.
        var m = StableOwningA0();
        Beat(m, Answer(2, [Topic(A, 1)]));
        Assert.True(m.TryStartReconciliation(NameOf, out _, out _));
        if (fenced)
        {
            Beat(m, Error(ErrorCode.FencedMemberEpoch));
        }
        else
        {
            Assert.True(m.Leave(pollTimeout: true));
            m.CreateHeartbeat();
            m.OnHeartbeatResponse(new ConsumerGroupHeartbeatResponse { MemberEpoch = -1 });
        }
        var interrupted = m.State;

        m.CompleteReconciliation();
        Assert.Equal(interrupted, m.State); // not acknowledged
        Assert.Equal([new OwnedPartition(A, "a", 1)], m.Owned);
        m.CompleteLost();
        Assert.Empty(m.Owned);
    }

    [Theory]
    [InlineData(ErrorCode.NotCoordinator)]
    [InlineData(ErrorCode.CoordinatorNotAvailable)]
    public void A_moved_coordinator_is_found_again_and_sent_every_field(ErrorCode error)
    {
        var m = StableOwningA0();
        Assert.Equal(ConsumerStep.FindCoordinator, Beat(m, Error(error)));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.Equal(new GenerationInfo(1, m.MemberId), m.Generation);
        Assert.True(m.HeartbeatDue());
        var next = m.CreateHeartbeat();
        AssertFull(next, epoch: 1);
        Assert.Equal([(A, "0")], Owned(next));
    }

    [Fact]
    public void A_loading_coordinator_is_retried_after_the_backoff()
    {
        var m = StableOwningA0();
        Assert.Equal(ConsumerStep.RetryAfterBackoff, Beat(m, Error(ErrorCode.CoordinatorLoadInProgress)));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.Equal(1, m.MemberEpoch);
        Assert.True(m.HeartbeatDue());
        Assert.Equal(1, m.CreateHeartbeat().MemberEpoch);
    }

    [Fact]
    public void A_topic_authorization_failure_is_reported_and_the_member_stays_to_recover_when_the_acls_are_fixed()
    {
        var m = StableOwningA0();
        Assert.Equal(ConsumerStep.ReportAndRetry, Beat(m, Error(ErrorCode.TopicAuthorizationFailed)));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.Equal(new GenerationInfo(1, m.MemberId), m.Generation);
        Assert.Equal(ErrorCode.None, m.FatalError);
        Assert.True(m.HeartbeatDue());
        var next = m.CreateHeartbeat();
        AssertFull(next, epoch: 1);
        Assert.Equal([(A, "0")], Owned(next));
        Assert.Equal(ConsumerStep.Continue, m.OnHeartbeatResponse(Answer(1)));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
    }

    [Theory]
    [InlineData(ErrorCode.GroupAuthorizationFailed, true)]
    [InlineData(ErrorCode.FencedInstanceId, false)]
    [InlineData(ErrorCode.UnreleasedInstanceId, true)]
    [InlineData(ErrorCode.UnsupportedAssignor, true)]
    [InlineData(ErrorCode.InvalidRegularExpression, false)]
    [InlineData(ErrorCode.GroupMaxSizeReached, true)]
    public void Refusals_for_good_are_fatal(ErrorCode error, bool onJoin)
    {
        var m = Create("i-1");
        if (onJoin)
            m.Subscribe(["a"], null);
        else
            Join(m);
        Assert.Equal(ConsumerStep.Fatal, Beat(m, Error(error)));
        Assert.Equal(ConsumerMemberState.Fatal, m.State);
        Assert.Equal(error, m.FatalError);
        Assert.Equal("why", m.FatalMessage);
        Assert.Equal(GenerationInfo.None, m.Generation);
        Assert.False(m.HeartbeatDue());
        Assert.False(m.Leave(pollTimeout: false));
        Assert.Throws<InvalidOperationException>(() => m.CreateHeartbeat());
    }

    [Fact]
    public void A_lost_answer_makes_the_next_heartbeat_full_and_in_flight_blocks_the_next()
    {
        var m = StableOwningA0("i-1");
        NextInterval();
        m.CreateHeartbeat();
        _time.Advance(TimeSpan.FromMilliseconds(Interval * 2));
        Assert.False(m.HeartbeatDue());

        m.OnHeartbeatFailed();
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.True(m.HeartbeatDue());
        var next = m.CreateHeartbeat();
        AssertFull(next, epoch: 1);
        Assert.Equal("i-1", next.InstanceId);
        Assert.Equal([(A, "0")], Owned(next));
    }

    [Fact]
    public void A_new_subscription_is_sent_at_once_and_then_no_more()
    {
        var m = StableOwningA0();
        m.Subscribe(["c"], null);
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.True(m.HeartbeatDue());
        var names = m.CreateHeartbeat();
        Assert.Equal(["c"], names.SubscribedTopicNames);
        Assert.Equal("", names.SubscribedTopicRegex); // clears a regex the broker may hold
        Assert.Equal(-1, names.RebalanceTimeoutMs);
        Assert.Null(names.TopicPartitions);
        m.OnHeartbeatResponse(Answer(1));
        Assert.False(m.HeartbeatDue());

        m.Subscribe([], "orders-.*");
        Assert.True(m.HeartbeatDue());
        var regex = m.CreateHeartbeat();
        Assert.Empty(regex.SubscribedTopicNames!);
        Assert.Equal("orders-.*", regex.SubscribedTopicRegex);
        m.OnHeartbeatResponse(Answer(1));

        NextInterval();
        var steady = m.CreateHeartbeat();
        Assert.Null(steady.SubscribedTopicNames);
        Assert.Null(steady.SubscribedTopicRegex);
    }

    [Theory]
    [InlineData(null, ConsumerGroupMembership.LeaveEpoch)]
    [InlineData("i-1", ConsumerGroupMembership.StaticLeaveEpoch)]
    public void Not_polling_for_max_poll_interval_leaves_and_waits_stale_for_the_next_poll(string? instanceId, int leaveEpoch)
    {
        var m = StableOwningA0(instanceId);
        m.OnPoll();
        _time.Advance(MaxPoll - TimeSpan.FromSeconds(1));
        Assert.False(m.PollIntervalExceeded);
        m.OnPoll();
        _time.Advance(MaxPoll - TimeSpan.FromSeconds(1));
        Assert.False(m.PollIntervalExceeded);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(m.PollIntervalExceeded);

        Assert.True(m.Leave(pollTimeout: true));
        Assert.Equal(ConsumerMemberState.Leaving, m.State);
        Assert.False(m.PollIntervalExceeded);
        Assert.Equal(GenerationInfo.None, m.Generation);
        Assert.True(m.HeartbeatDue());
        var leave = m.CreateHeartbeat();
        Assert.Equal(leaveEpoch, leave.MemberEpoch);
        Assert.Equal(instanceId, leave.InstanceId);
        Assert.Equal(m.MemberId, leave.MemberId);
        Assert.Null(leave.SubscribedTopicNames);
        Assert.Null(leave.TopicPartitions);

        Assert.Equal(ConsumerStep.Continue, m.OnHeartbeatResponse(new ConsumerGroupHeartbeatResponse { MemberEpoch = leaveEpoch }));
        Assert.Equal(ConsumerMemberState.Stale, m.State);
        Assert.Equal([new OwnedPartition(A, "a", 0)], m.Owned); // reported lost at the next poll
        Assert.False(m.HeartbeatDue());
        Assert.False(m.Leave(pollTimeout: false));

        m.CompleteLost();
        Assert.Equal(ConsumerMemberState.Joining, m.State);
        Assert.Empty(m.Owned);
        AssertFull(m.CreateHeartbeat(), epoch: 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Leaving_from_stable_gives_everything_up_and_ends_unsubscribed_answered_or_not(bool answered)
    {
        var m = StableOwningA0();
        string id = m.MemberId;
        Assert.True(m.Leave(pollTimeout: false));
        Assert.Equal(ConsumerMemberState.Leaving, m.State);
        Assert.Empty(m.Owned);
        var leave = m.CreateHeartbeat();
        Assert.Equal(ConsumerGroupMembership.LeaveEpoch, leave.MemberEpoch);
        Assert.Null(leave.InstanceId);
        Assert.False(m.Leave(pollTimeout: false));

        if (answered)
            m.OnHeartbeatResponse(new ConsumerGroupHeartbeatResponse { MemberEpoch = -1 });
        else
            m.OnHeartbeatFailed();
        Assert.Equal((ConsumerMemberState.Unsubscribed, 0), (m.State, m.MemberEpoch));
        Assert.False(m.HeartbeatDue());
        Assert.Throws<InvalidOperationException>(() => m.CreateHeartbeat());

        m.Subscribe(["a"], null);
        Assert.False(m.Leave(pollTimeout: false)); // out of the group: nothing to tell the broker
        m.Subscribe(["a"], null);
        var rejoin = m.CreateHeartbeat();
        Assert.Equal((0, id), (rejoin.MemberEpoch, rejoin.MemberId));
    }

    [Fact]
    public void Leaving_before_the_broker_heard_of_the_member_sends_nothing()
    {
        var m = Create();
        Assert.False(m.Leave(pollTimeout: false));
        Assert.Equal(ConsumerMemberState.Unsubscribed, m.State);

        m.Subscribe(["a"], null);
        Assert.False(m.Leave(pollTimeout: false));
        Assert.Equal(ConsumerMemberState.Unsubscribed, m.State);

        // Once a join is in flight the broker may have made us a member: leave.
        m.Subscribe(["a"], null);
        m.CreateHeartbeat();
        Assert.True(m.Leave(pollTimeout: false));
        Assert.Equal(ConsumerMemberState.Leaving, m.State);
    }

    [Fact]
    public void The_generation_is_the_epoch_only_while_in_the_group()
    {
        var m = Create();
        Assert.Equal(GenerationInfo.None, m.Generation);
        m.Subscribe(["a"], null);
        m.CreateHeartbeat();
        Assert.Equal(GenerationInfo.None, m.Generation);
        m.OnHeartbeatResponse(Answer(5, [Topic(A, 0)]));
        Assert.Equal(new GenerationInfo(5, m.MemberId), m.Generation);
        Assert.True(m.TryStartReconciliation(NameOf, out _, out _));
        Assert.Equal(new GenerationInfo(5, m.MemberId), m.Generation);
        m.CompleteReconciliation();
        Assert.Equal(ConsumerMemberState.Acknowledging, m.State);
        Assert.Equal(new GenerationInfo(5, m.MemberId), m.Generation);
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(6));
        Assert.Equal(new GenerationInfo(6, m.MemberId), m.Generation);
    }

    [Fact]
    public void A_member_left_at_epoch_0_by_the_join_answer_keeps_sending_full_requests()
    {
        // librdkafka's mock answers a join with epoch 0 until partitions are free for the member.
        var m = Create();
        m.Subscribe(["a", "b"], null);
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(0));
        Assert.Equal(ConsumerMemberState.Stable, m.State);
        Assert.Equal(GenerationInfo.None, m.Generation);
        Assert.False(m.HeartbeatDue());

        NextInterval();
        var again = m.CreateHeartbeat();
        AssertFull(again, epoch: 0);
        m.OnHeartbeatResponse(Answer(1));

        NextInterval();
        var steady = m.CreateHeartbeat();
        Assert.Equal(1, steady.MemberEpoch);
        Assert.Null(steady.SubscribedTopicNames);
    }

    [Fact]
    public void Illegal_transitions_throw()
    {
        var m = Create();
        Assert.Throws<InvalidOperationException>(() => m.CreateHeartbeat());
        Assert.Throws<InvalidOperationException>(() => m.CompleteLost());
        Assert.Throws<InvalidOperationException>(() => m.TryStartReconciliation(NameOf, out _, out _));

        m.Subscribe(["a"], null);
        Assert.Throws<InvalidOperationException>(() => m.CompleteLost());

        m = Join(Create());
        Assert.Throws<InvalidOperationException>(() => m.CompleteLost());
        Assert.Throws<InvalidOperationException>(() => m.TryStartReconciliation(NameOf, out _, out _));

        Beat(m, Error(ErrorCode.FencedMemberEpoch));
        Assert.Throws<InvalidOperationException>(() => m.CreateHeartbeat());
        Assert.Equal(ConsumerMemberState.Fenced, m.State);
    }
}
