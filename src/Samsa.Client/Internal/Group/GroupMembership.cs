using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

internal sealed record MembershipOptions(
    string GroupId,
    string? GroupInstanceId,
    TimeSpan SessionTimeout,
    TimeSpan RebalanceTimeout,
    TimeSpan HeartbeatInterval,
    string ProtocolType = "consumer");

/// <summary>What the caller should do after feeding a response to <see cref="GroupMembership"/>.</summary>
internal enum GroupStep
{
    /// <summary>Nothing to change.</summary>
    Continue,

    /// <summary>Send JoinGroup again at once (MEMBER_ID_REQUIRED, new member id, rebalance started).</summary>
    Rejoin,

    /// <summary>Send JoinGroup again after retry.backoff.ms (coordinator loading, transient errors).</summary>
    RejoinAfterBackoff,

    /// <summary>The coordinator moved or is unreachable: find it again, then rejoin.</summary>
    FindCoordinator,

    /// <summary>Joined as leader: compute the assignment from <see cref="GroupMembership.LeaderMembers"/> and sync.</summary>
    SyncAsLeader,

    /// <summary>Joined as follower: sync with no assignments.</summary>
    SyncAsFollower,

    /// <summary>Sync succeeded: <see cref="GroupMembership.AssignmentBytes"/> holds our assignment.</summary>
    Assigned,

    /// <summary>Unrecoverable; <see cref="GroupMembership.FatalError"/> says why.</summary>
    Fatal,
}

/// <summary>
/// The client side of Kafka's classic group protocol as a state machine with no I/O: the consumer
/// asks it for the next request, sends it on the coordinator connection, and feeds the response
/// back. Heartbeat and poll deadlines come from a <see cref="TimeProvider"/>, so tests advance
/// fake time. Not thread-safe: the consumer's group loop owns it (the poll loop only reports
/// polls through <see cref="OnPoll"/>, which touches a single long).
/// </summary>
internal sealed class GroupMembership(MembershipOptions options, TimeProvider time)
{
    private long _lastPollTimestamp = time.GetTimestamp();
    private long _lastHeartbeatSent;
    private long _lastHeartbeatOk = time.GetTimestamp();
    private bool _heartbeatInFlight;

    public MembershipOptions Options => options;

    public MemberState State { get; private set; } = MemberState.Unjoined;

    public string MemberId { get; private set; } = "";

    public int GenerationId { get; private set; } = -1;

    public string? ProtocolName { get; private set; }

    public string LeaderId { get; private set; } = "";

    public bool IsLeader => LeaderId.Length > 0 && LeaderId == MemberId;

    /// <summary>The members and their subscriptions, when we were chosen leader.</summary>
    public IReadOnlyList<JoinGroupResponse.JoinGroupResponseMember> LeaderMembers { get; private set; } = [];

    /// <summary>Set by the coordinator when a static leader rejoins a stable group (JoinGroup v9):
    /// it must not compute a new assignment.</summary>
    public bool SkipAssignment { get; private set; }

    public byte[] AssignmentBytes { get; private set; } = [];

    public ErrorCode FatalError { get; private set; }

    /// <summary>Why a rejoin was asked for, for logs and the JoinGroup reason field.</summary>
    public string? RejoinReason { get; private set; }

    /// <summary>True after we were dropped from the generation (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
    /// session expiry): the partitions we held must be treated as lost, not revoked.</summary>
    public bool PartitionsLost { get; private set; }

    public bool IsStatic => options.GroupInstanceId is not null;

    private HashSet<(string Topic, int Partition)> _owned = [];
    private bool _lostOnRejoin;

    /// <summary>What the application owns now (as far as the group is concerned).</summary>
    public IReadOnlyCollection<(string Topic, int Partition)> Owned => _owned;

    /// <summary>The assignment of the last generation we synced, for the sticky assignors' user data.</summary>
    public IReadOnlyList<(string Topic, int Partition)> PreviousAssignment { get; private set; } = [];

    public int PreviousGeneration { get; private set; } = -1;

    /// <summary>
    /// Before a JoinGroup: what the application must give up first. Eager members revoke what they
    /// own; a member dropped from its generation, or one that left because it stopped polling, has
    /// lost it instead. <see cref="GaveUp"/> records that the application did so.
    /// </summary>
    public RebalancePlan PlanBeforeJoin(RebalanceMode mode) => RebalancePlan.BeforeJoin(mode, _owned, PartitionsLost || _lostOnRejoin);

    public void GaveUp(RebalancePlan plan)
    {
        _owned.ExceptWith(plan.Revoked);
        _owned.ExceptWith(plan.Lost);
        _lostOnRejoin = false;
    }

    /// <summary>After a SyncGroup gave us <paramref name="assignment"/>: the step for the application; it owns the plan's Owned from now.</summary>
    public RebalancePlan PlanAfterSync(RebalanceMode mode, IReadOnlyCollection<(string Topic, int Partition)> assignment)
    {
        var after = RebalancePlan.AfterSync(mode, _owned, assignment);
        _owned = after.Owned.ToHashSet();
        PreviousAssignment = [.. after.Owned];
        PreviousGeneration = GenerationId;
        return after;
    }

    public JoinGroupRequest BeginJoin(List<JoinGroupRequest.JoinGroupRequestProtocol> protocols)
    {
        EnsureNotFatal();
        State = MemberState.Joining;
        _heartbeatInFlight = false;
        return new JoinGroupRequest
        {
            GroupId = options.GroupId,
            SessionTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds,
            RebalanceTimeoutMs = (int)options.RebalanceTimeout.TotalMilliseconds,
            MemberId = MemberId,
            GroupInstanceId = options.GroupInstanceId,
            ProtocolType = options.ProtocolType,
            Protocols = protocols,
            Reason = RejoinReason,
        };
    }

    public GroupStep OnJoinResponse(JoinGroupResponse response)
    {
        Expect(MemberState.Joining);
        switch (response.ErrorCode)
        {
            case ErrorCode.None:
                MemberId = response.MemberId;
                GenerationId = response.GenerationId;
                ProtocolName = response.ProtocolName;
                LeaderId = response.Leader;
                SkipAssignment = response.SkipAssignment;
                LeaderMembers = IsLeader ? response.Members : [];
                State = MemberState.Syncing;
                RejoinReason = null;
                ResetHeartbeatTimers();
                return IsLeader && !SkipAssignment ? GroupStep.SyncAsLeader : GroupStep.SyncAsFollower;
            case ErrorCode.MemberIdRequired:
                // KIP-394: the coordinator handed us an id; join again with it.
                MemberId = response.MemberId;
                return Unjoined(GroupStep.Rejoin);
            case ErrorCode.UnknownMemberId:
            case ErrorCode.IllegalGeneration:
                return Dropped(response.ErrorCode);
            case ErrorCode.RebalanceInProgress:
            case ErrorCode.CoordinatorLoadInProgress:
                return Unjoined(GroupStep.RejoinAfterBackoff);
            case ErrorCode.CoordinatorNotAvailable:
            case ErrorCode.NotCoordinator:
                return Unjoined(GroupStep.FindCoordinator);
            default:
                // FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT,
                // GROUP_MAX_SIZE_REACHED, INVALID_GROUP_ID, GROUP_AUTHORIZATION_FAILED, UNSUPPORTED_VERSION...
                return Fail(response.ErrorCode);
        }
    }

    public SyncGroupRequest BeginSync(List<SyncGroupRequest.SyncGroupRequestAssignment> assignments)
    {
        Expect(MemberState.Syncing);
        return new SyncGroupRequest
        {
            GroupId = options.GroupId,
            GenerationId = GenerationId,
            MemberId = MemberId,
            GroupInstanceId = options.GroupInstanceId,
            ProtocolType = options.ProtocolType,
            ProtocolName = ProtocolName,
            Assignments = IsLeader && !SkipAssignment ? assignments : [],
        };
    }

    public GroupStep OnSyncResponse(SyncGroupResponse response)
    {
        Expect(MemberState.Syncing);
        switch (response.ErrorCode)
        {
            case ErrorCode.None:
                AssignmentBytes = response.Assignment;
                State = MemberState.Stable;
                PartitionsLost = false;
                ResetHeartbeatTimers();
                return GroupStep.Assigned;
            case ErrorCode.RebalanceInProgress:
                RejoinReason = "rebalance in progress at sync";
                return Unjoined(GroupStep.Rejoin);
            case ErrorCode.UnknownMemberId:
            case ErrorCode.IllegalGeneration:
                return Dropped(response.ErrorCode);
            case ErrorCode.CoordinatorNotAvailable:
            case ErrorCode.NotCoordinator:
                return Unjoined(GroupStep.FindCoordinator);
            case ErrorCode.FencedInstanceId:
            case ErrorCode.GroupAuthorizationFailed:
            case ErrorCode.InconsistentGroupProtocol:
            case ErrorCode.UnsupportedVersion:
                return Fail(response.ErrorCode);
            default:
                // Anything else ends this round, not the member: join again, as librdkafka does
                // (librdkafka's mock answers a SyncGroup that arrives after the group settled with
                // INVALID_REQUEST, where Kafka would return the assignment).
                RejoinReason = $"SyncGroup answered {response.ErrorCode}";
                return Unjoined(GroupStep.RejoinAfterBackoff);
        }
    }

    /// <summary>True when a heartbeat should go out now: in Syncing or Stable, none in flight, and
    /// heartbeat.interval.ms since the last one.</summary>
    public bool HeartbeatDue()
    {
        if (State is not (MemberState.Syncing or MemberState.Stable) || _heartbeatInFlight)
            return false;
        return time.GetElapsedTime(_lastHeartbeatSent) >= options.HeartbeatInterval;
    }

    /// <summary>Time until the next heartbeat is due (zero when due now), for the heartbeat loop's wait.</summary>
    public TimeSpan UntilHeartbeat()
    {
        var left = options.HeartbeatInterval - time.GetElapsedTime(_lastHeartbeatSent);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }

    public HeartbeatRequest CreateHeartbeat()
    {
        _heartbeatInFlight = true;
        _lastHeartbeatSent = time.GetTimestamp();
        return new HeartbeatRequest
        {
            GroupId = options.GroupId,
            GenerationId = GenerationId,
            MemberId = MemberId,
            GroupInstanceId = options.GroupInstanceId,
        };
    }

    public GroupStep OnHeartbeatResponse(HeartbeatResponse response)
    {
        _heartbeatInFlight = false;
        if (State is not (MemberState.Syncing or MemberState.Stable))
            return GroupStep.Continue; // a late answer from a generation we already left
        switch (response.ErrorCode)
        {
            case ErrorCode.None:
                _lastHeartbeatOk = time.GetTimestamp();
                return GroupStep.Continue;
            case ErrorCode.RebalanceInProgress:
                // Keep the generation: a cooperative member rejoins still owning its partitions.
                _lastHeartbeatOk = time.GetTimestamp();
                RejoinReason = "group is rebalancing";
                return Unjoined(GroupStep.Rejoin);
            case ErrorCode.UnknownMemberId:
            case ErrorCode.IllegalGeneration:
                return Dropped(response.ErrorCode);
            case ErrorCode.CoordinatorNotAvailable:
            case ErrorCode.NotCoordinator:
                return GroupStep.FindCoordinator;
            case ErrorCode.CoordinatorLoadInProgress:
                return GroupStep.Continue;
            default:
                return Fail(response.ErrorCode);
        }
    }

    /// <summary>A heartbeat that got no answer (connection lost, timeout). Past the session timeout
    /// without a good heartbeat, the coordinator has surely dropped us: partitions are lost.</summary>
    public GroupStep OnHeartbeatFailed()
    {
        _heartbeatInFlight = false;
        if (State is (MemberState.Syncing or MemberState.Stable) && time.GetElapsedTime(_lastHeartbeatOk) > options.SessionTimeout)
        {
            ResetGeneration();
            return Unjoined(GroupStep.FindCoordinator);
        }
        return GroupStep.FindCoordinator;
    }

    /// <summary>Called by the poll loop on every poll: proves the application is alive.</summary>
    public void OnPoll() => Volatile.Write(ref _lastPollTimestamp, time.GetTimestamp());

    /// <summary>max.poll.interval.ms passed without a poll: the member must leave the group (Kafka's
    /// heartbeat thread does this) and rejoins on the next poll.</summary>
    public bool PollIntervalExceeded =>
        State is (MemberState.Syncing or MemberState.Stable)
        && time.GetElapsedTime(Volatile.Read(ref _lastPollTimestamp)) > options.RebalanceTimeout;

    /// <summary>
    /// Leaves the group: returns the LeaveGroup to send, or null for a static member (it keeps its
    /// place until the session times out, so a restart does not rebalance) or when not in a
    /// generation. Either way the member forgets its generation.
    /// </summary>
    /// <param name="reason">Why, as LeaveGroup v5+ tells the coordinator.</param>
    /// <param name="pollTimeout">The application stopped polling: it keeps what it owns until it polls again, then is told it lost it.
    /// Otherwise (close, unsubscribe) the application has revoked everything already.</param>
    public LeaveGroupRequest? Leave(string reason, bool pollTimeout = false)
    {
        if (pollTimeout)
            _lostOnRejoin = true;
        else
            _owned = [];
        bool inGroup = MemberId.Length > 0 && State != MemberState.Fatal;
        var request = inGroup && !IsStatic
            ? new LeaveGroupRequest
            {
                GroupId = options.GroupId,
                MemberId = MemberId,
                Members = [new LeaveGroupRequest.MemberIdentity { MemberId = MemberId, Reason = reason }],
            }
            : null;
        if (!IsStatic)
            MemberId = "";
        ResetGeneration();
        PartitionsLost = false;
        if (State != MemberState.Fatal)
            State = MemberState.Unjoined;
        return request;
    }

    /// <summary>A JoinGroup or SyncGroup got no answer (connection lost, cancelled): back to
    /// Unjoined, keeping the member id and generation, so the next join resumes where we were.</summary>
    public void Abandon()
    {
        if (State is MemberState.Joining or MemberState.Syncing)
            State = MemberState.Unjoined;
    }

    /// <summary>Ask for a rebalance (subscription changed, cooperative revocation finished).</summary>
    public void RequestRejoin(string reason)
    {
        if (State == MemberState.Fatal)
            return;
        RejoinReason = reason;
        if (State is MemberState.Stable or MemberState.Syncing)
            State = MemberState.Unjoined;
    }

    /// <summary>The coordinator no longer counts us in this generation: rejoin, with a fresh member
    /// id after UNKNOWN_MEMBER_ID (an old one would only be refused again).</summary>
    private GroupStep Dropped(ErrorCode error)
    {
        if (error == ErrorCode.UnknownMemberId)
            MemberId = "";
        ResetGeneration();
        return Unjoined(GroupStep.Rejoin);
    }

    private void ResetGeneration()
    {
        if (GenerationId >= 0)
            PartitionsLost = true;
        GenerationId = -1;
        ProtocolName = null;
        LeaderId = "";
        LeaderMembers = [];
    }

    private void ResetHeartbeatTimers()
    {
        _lastHeartbeatSent = time.GetTimestamp();
        _lastHeartbeatOk = _lastHeartbeatSent;
        _heartbeatInFlight = false;
    }

    private GroupStep Unjoined(GroupStep step)
    {
        State = MemberState.Unjoined;
        return step;
    }

    private GroupStep Fail(ErrorCode error)
    {
        FatalError = error;
        State = MemberState.Fatal;
        return GroupStep.Fatal;
    }

    private void Expect(MemberState state)
    {
        if (State != state)
            throw new InvalidOperationException($"Group membership is {State}, expected {state}.");
    }

    private void EnsureNotFatal()
    {
        if (State == MemberState.Fatal)
            throw new InvalidOperationException($"Group membership failed with {FatalError}.");
    }
}
