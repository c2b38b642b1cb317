using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Internal.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Assigned = Samsa.Protocol.Messages.ShareGroupHeartbeatResponse.TopicPartitions;

namespace Samsa.Client.Tests.Share;

public class ShareGroupMembershipTests
{
    private static readonly Guid A = new("0000000a-0000-0000-0000-000000000000");
    private static readonly Guid B = new("0000000b-0000-0000-0000-000000000000");
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMinutes(5);
    private const int Interval = 3000;

    private readonly FakeTimeProvider _time = new();

    private ShareGroupMembership Create() => new(new ShareMembershipOptions("jobs", "rack-1", MaxPoll), _time);

    private static Assigned Topic(Guid id, params int[] partitions) => new() { TopicId = id, Partitions = [.. partitions] };

    private static ShareGroupHeartbeatResponse Answer(int epoch, Assigned[]? assignment = null) => new()
    {
        MemberEpoch = epoch,
        HeartbeatIntervalMs = Interval,
        Assignment = assignment is null ? null : new() { TopicPartitions = [.. assignment] },
    };

    private static ShareGroupHeartbeatResponse Error(ErrorCode code) => new() { ErrorCode = code, ErrorMessage = "why", MemberEpoch = -1 };

    private ShareGroupMembership Joined(int epoch = 1, Assigned[]? assignment = null)
    {
        var m = Create();
        m.Subscribe(["a", "b"]);
        m.CreateHeartbeat();
        Assert.Equal(ShareStep.Continue, m.OnHeartbeatResponse(Answer(epoch, assignment)));
        return m;
    }

    [Fact]
    public void Joins_with_epoch_zero_carrying_the_rack_and_subscription_then_heartbeats_at_the_brokers_interval()
    {
        var m = Create();
        Assert.Equal(ShareMemberState.Unsubscribed, m.State);
        Assert.False(m.HeartbeatDue());
        m.Subscribe(["a", "b"]);
        Assert.True(m.HeartbeatDue());
        var join = m.CreateHeartbeat();
        Assert.Equal(0, join.MemberEpoch);
        Assert.Equal("jobs", join.GroupId);
        Assert.Equal(m.MemberId, join.MemberId);
        Assert.Equal(22, m.MemberId.Length); // a client-made Kafka Uuid string
        Assert.Equal("rack-1", join.RackId);
        Assert.Equal(["a", "b"], join.SubscribedTopicNames!);
        Assert.False(m.HeartbeatDue()); // one in flight
        m.OnHeartbeatResponse(Answer(5, [Topic(A, 0, 1)]));
        Assert.Equal(ShareMemberState.Stable, m.State);
        Assert.Equal(5, m.MemberEpoch);
        Assert.Equal([0, 1], m.Assignment[A]);

        Assert.False(m.HeartbeatDue());
        _time.Advance(TimeSpan.FromMilliseconds(Interval));
        Assert.True(m.HeartbeatDue());
        var beat = m.CreateHeartbeat();
        Assert.Equal(5, beat.MemberEpoch);
        Assert.Null(beat.RackId); // sent once
        Assert.Null(beat.SubscribedTopicNames); // unchanged
        Assert.Equal(m.MemberId, beat.MemberId);
    }

    [Fact]
    public void A_null_assignment_keeps_the_last_and_an_empty_one_clears_it()
    {
        var m = Joined(assignment: [Topic(A, 0), Topic(B, 2)]);
        int version = m.AssignmentVersion;
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(1));
        Assert.Equal(version, m.AssignmentVersion);
        Assert.Equal(2, m.Assignment.Count);
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(2, [Topic(A, 0), Topic(B, 2)]));
        Assert.Equal(version, m.AssignmentVersion); // the same partitions: nothing to republish
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(3, []));
        Assert.Empty(m.Assignment);
        Assert.Equal(version + 1, m.AssignmentVersion);
    }

    [Fact]
    public void A_changed_subscription_goes_out_at_once_in_the_next_heartbeat()
    {
        var m = Joined();
        m.Subscribe(["c"]);
        Assert.True(m.HeartbeatDue());
        var beat = m.CreateHeartbeat();
        Assert.Equal(["c"], beat.SubscribedTopicNames!);
        m.OnHeartbeatResponse(Answer(2));
        Assert.False(m.HeartbeatDue());
    }

    [Theory]
    [InlineData(ErrorCode.FencedMemberEpoch)]
    [InlineData(ErrorCode.UnknownMemberId)]
    public void Fencing_drops_the_assignment_and_rejoins_with_epoch_zero_and_the_same_member_id(ErrorCode error)
    {
        var m = Joined(epoch: 4, assignment: [Topic(A, 0)]);
        string id = m.MemberId;
        m.CreateHeartbeat();
        Assert.Equal(ShareStep.Fenced, m.OnHeartbeatResponse(Error(error)));
        Assert.Empty(m.Assignment);
        Assert.Equal(ShareMemberState.Joining, m.State);
        var rejoin = m.CreateHeartbeat();
        Assert.Equal(0, rejoin.MemberEpoch);
        Assert.Equal(id, rejoin.MemberId);
        Assert.NotNull(rejoin.SubscribedTopicNames);
        Assert.Equal("rack-1", rejoin.RackId);
    }

    [Fact]
    public void Coordinator_errors_ask_for_the_coordinator_again_and_resend_every_field()
    {
        var m = Joined();
        m.CreateHeartbeat();
        Assert.Equal(ShareStep.FindCoordinator, m.OnHeartbeatResponse(Error(ErrorCode.NotCoordinator)));
        Assert.Equal(ShareMemberState.Stable, m.State);
        var next = m.CreateHeartbeat();
        Assert.Equal(1, next.MemberEpoch);
        Assert.NotNull(next.SubscribedTopicNames);
        m.OnHeartbeatResponse(Error(ErrorCode.CoordinatorLoadInProgress));
        m.OnHeartbeatFailed();
        Assert.NotNull(m.CreateHeartbeat().SubscribedTopicNames);
    }

    [Theory]
    [InlineData(ErrorCode.GroupAuthorizationFailed)]
    [InlineData(ErrorCode.GroupMaxSizeReached)]
    [InlineData(ErrorCode.InvalidRequest)]
    public void Refusals_for_good_are_fatal_and_stop_the_heartbeats(ErrorCode error)
    {
        var m = Joined(assignment: [Topic(A, 0)]);
        m.CreateHeartbeat();
        Assert.Equal(ShareStep.Fatal, m.OnHeartbeatResponse(Error(error)));
        Assert.Equal(ShareMemberState.Fatal, m.State);
        Assert.Equal(error, m.FatalError);
        Assert.Empty(m.Assignment);
        Assert.False(m.HeartbeatDue());
    }

    [Fact]
    public void Topic_authorization_failure_is_reported_while_the_member_stays()
    {
        var m = Joined();
        m.CreateHeartbeat();
        Assert.Equal(ShareStep.ReportAndRetry, m.OnHeartbeatResponse(Error(ErrorCode.TopicAuthorizationFailed)));
        Assert.Equal(ShareMemberState.Stable, m.State);
    }

    [Fact]
    public void Leaving_sends_epoch_minus_one_and_ends_unsubscribed_whatever_the_answer()
    {
        var m = Joined(epoch: 7, assignment: [Topic(A, 0)]);
        Assert.True(m.Leave(pollTimeout: false));
        Assert.Empty(m.Assignment);
        var leave = m.CreateHeartbeat();
        Assert.Equal(ShareGroupMembership.LeaveEpoch, leave.MemberEpoch);
        Assert.Equal(m.MemberId, leave.MemberId);
        m.OnHeartbeatResponse(Error(ErrorCode.UnknownMemberId));
        Assert.Equal(ShareMemberState.Unsubscribed, m.State);
        Assert.Equal(0, m.MemberEpoch);
        Assert.False(m.Leave(pollTimeout: false));

        var silent = Joined();
        silent.Leave(pollTimeout: false);
        silent.CreateHeartbeat();
        silent.OnHeartbeatFailed();
        Assert.Equal(ShareMemberState.Unsubscribed, silent.State);
    }

    [Fact]
    public void A_member_that_never_joined_leaves_without_a_heartbeat()
    {
        var m = Create();
        m.Subscribe(["a"]);
        Assert.False(m.Leave(pollTimeout: false));
        Assert.Equal(ShareMemberState.Unsubscribed, m.State);
    }

    [Fact]
    public void Without_a_poll_for_max_poll_interval_the_member_leaves_and_the_next_poll_rejoins()
    {
        var m = Joined(epoch: 3, assignment: [Topic(A, 0)]);
        _time.Advance(MaxPoll);
        Assert.False(m.PollIntervalExceeded);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(m.PollIntervalExceeded);
        Assert.True(m.Leave(pollTimeout: true));
        Assert.Equal(-1, m.CreateHeartbeat().MemberEpoch);
        m.OnHeartbeatResponse(Answer(-1));
        Assert.Equal(ShareMemberState.Stale, m.State);
        Assert.False(m.HeartbeatDue());
        m.OnPoll();
        m.Rejoin();
        var join = m.CreateHeartbeat();
        Assert.Equal(0, join.MemberEpoch);
        Assert.NotNull(join.SubscribedTopicNames);
    }

    [Fact]
    public void Answers_after_leaving_are_ignored()
    {
        var m = Joined();
        m.CreateHeartbeat();
        m.Leave(pollTimeout: false);
        m.CreateHeartbeat();
        m.OnHeartbeatResponse(Answer(-1));
        Assert.Equal(ShareStep.Continue, m.OnHeartbeatResponse(Answer(9, [Topic(A, 0)])));
        Assert.Empty(m.Assignment);
        Assert.Equal(ShareMemberState.Unsubscribed, m.State);
    }
}
