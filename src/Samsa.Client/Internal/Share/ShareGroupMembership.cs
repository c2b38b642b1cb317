using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Share;

internal sealed record ShareMembershipOptions(string GroupId, string? RackId, TimeSpan MaxPollInterval);

/// <summary>
/// Where a share group member stands (the Java client's MemberState as ShareMembershipManager
/// uses it). Share groups have no revocation: an assignment is taken as it comes, so there is no
/// reconciling state; only the listed transitions are allowed.
/// </summary>
internal enum ShareMemberState
{
    /// <summary>Not in the group: before the first subscription, after a leave. → Joining.</summary>
    Unsubscribed,

    /// <summary>A heartbeat with epoch 0 and every field is due or in flight. → Stable, Fatal, Leaving.</summary>
    Joining,

    /// <summary>In the group: heartbeats every interval the broker sent. Fencing goes back to Joining; → Leaving, Fatal.</summary>
    Stable,

    /// <summary>A leave heartbeat (epoch -1) is due or in flight. → Unsubscribed, or Stale after a poll timeout.</summary>
    Leaving,

    /// <summary>Left after max.poll.interval.ms without a poll; the next poll rejoins. → Joining.</summary>
    Stale,

    /// <summary>Refused for good (GROUP_AUTHORIZATION_FAILED, GROUP_MAX_SIZE_REACHED, INVALID_REQUEST...). Nothing more is sent.</summary>
    Fatal,
}

/// <summary>What the heartbeat loop does after feeding an answer to <see cref="ShareGroupMembership"/>.</summary>
internal enum ShareStep
{
    Continue,
    FindCoordinator,
    RetryAfterBackoff,

    /// <summary>Tell the application once (TOPIC_AUTHORIZATION_FAILED) and keep heartbeating.</summary>
    ReportAndRetry,

    /// <summary>FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID: the member dropped its assignment and joins again with epoch 0.</summary>
    Fenced,

    Fatal,
}

/// <summary>
/// The client side of KIP-932's ShareGroupHeartbeat as a state machine with no I/O (the Java
/// client's ShareMembershipManager and ShareHeartbeatRequestManager.HeartbeatState): it joins
/// with epoch 0, heartbeats at the interval the broker sends, sends the rack once and the
/// subscription when joining or when it changed, takes each assignment as the set of partitions
/// to fetch from, rejoins with epoch 0 after fencing, and leaves with epoch -1. The member id is
/// made here, once for the consumer's life (ShareGroupHeartbeat v1 wants a client-generated id).
/// Owned by the heartbeat loop; time comes from a <see cref="TimeProvider"/>.
/// </summary>
internal sealed class ShareGroupMembership(ShareMembershipOptions options, TimeProvider time)
{
    public const int LeaveEpoch = -1;

    private IReadOnlyList<string> _names = [];
    private IReadOnlyList<string>? _sentNames;
    private bool _rackSent;
    private bool _staleAfterLeave;
    private long _lastPoll = time.GetTimestamp();
    private long _lastSent;
    private bool _inFlight;
    private TimeSpan _interval = TimeSpan.Zero;

    public ShareMembershipOptions Options => options;

    public ShareMemberState State { get; private set; } = ShareMemberState.Unsubscribed;

    public string MemberId { get; } = NewMemberId();

    public int MemberEpoch { get; private set; }

    public ErrorCode FatalError { get; private set; }

    public string? FatalMessage { get; private set; }

    /// <summary>The partitions the broker assigned, by topic id (empty outside the group).</summary>
    public IReadOnlyDictionary<Guid, int[]> Assignment { get; private set; } = new Dictionary<Guid, int[]>();

    /// <summary>Counts assignment changes, so the loop republishes only when it moved.</summary>
    public int AssignmentVersion { get; private set; }

    public TimeSpan HeartbeatInterval => _interval;

    public void Subscribe(IReadOnlyList<string> names)
    {
        _names = names;
        if (State == ShareMemberState.Unsubscribed)
            Transition(ShareMemberState.Joining);
    }

    public void OnPoll() => Volatile.Write(ref _lastPoll, time.GetTimestamp());

    public bool PollIntervalExceeded =>
        State == ShareMemberState.Stable && time.GetElapsedTime(Volatile.Read(ref _lastPoll)) > options.MaxPollInterval;

    public bool HeartbeatDue()
    {
        if (_inFlight)
            return false;
        return State switch
        {
            ShareMemberState.Joining or ShareMemberState.Leaving => true,
            ShareMemberState.Stable => SubscriptionUnsent || time.GetElapsedTime(_lastSent) >= _interval,
            _ => false,
        };
    }

    public TimeSpan UntilHeartbeat()
    {
        var left = _interval - time.GetElapsedTime(_lastSent);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }

    private bool SubscriptionUnsent => !ReferenceEquals(_sentNames, _names);

    public ShareGroupHeartbeatRequest CreateHeartbeat()
    {
        if (State is not (ShareMemberState.Joining or ShareMemberState.Stable or ShareMemberState.Leaving))
            throw new InvalidOperationException($"No heartbeat is sent in state {State}.");
        _inFlight = true;
        _lastSent = time.GetTimestamp();
        if (State == ShareMemberState.Leaving)
            return new ShareGroupHeartbeatRequest { GroupId = options.GroupId, MemberId = MemberId, MemberEpoch = LeaveEpoch };
        bool joining = State == ShareMemberState.Joining;
        if (joining)
            ResetSentFields();
        var request = new ShareGroupHeartbeatRequest
        {
            GroupId = options.GroupId,
            MemberId = MemberId,
            MemberEpoch = joining ? 0 : MemberEpoch,
        };
        if (!_rackSent)
        {
            request.RackId = options.RackId;
            _rackSent = true;
        }
        if (joining || SubscriptionUnsent)
        {
            request.SubscribedTopicNames = [.. _names];
            _sentNames = _names;
        }
        return request;
    }

    public ShareStep OnHeartbeatResponse(ShareGroupHeartbeatResponse response)
    {
        _inFlight = false;
        if (State == ShareMemberState.Leaving)
        {
            EndLeave();
            return ShareStep.Continue;
        }
        if (State is not (ShareMemberState.Joining or ShareMemberState.Stable))
            return ShareStep.Continue; // an answer from before we left
        switch (response.ErrorCode)
        {
            case ErrorCode.None:
                break;
            case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable:
                ResetSentFields();
                return ShareStep.FindCoordinator;
            case ErrorCode.CoordinatorLoadInProgress:
                ResetSentFields();
                return ShareStep.RetryAfterBackoff;
            case ErrorCode.FencedMemberEpoch or ErrorCode.UnknownMemberId:
                // No revocation step in share groups: drop the assignment and join again at once.
                SetAssignment(new Dictionary<Guid, int[]>());
                MemberEpoch = 0;
                ResetSentFields();
                State = ShareMemberState.Joining;
                return ShareStep.Fenced;
            case ErrorCode.TopicAuthorizationFailed:
                ResetSentFields();
                return ShareStep.ReportAndRetry;
            default:
                FatalError = response.ErrorCode;
                FatalMessage = response.ErrorMessage;
                SetAssignment(new Dictionary<Guid, int[]>());
                Transition(ShareMemberState.Fatal);
                return ShareStep.Fatal;
        }
        MemberEpoch = response.MemberEpoch;
        if (response.HeartbeatIntervalMs > 0)
            _interval = TimeSpan.FromMilliseconds(response.HeartbeatIntervalMs);
        if (response.Assignment is { } assignment)
            SetAssignment(assignment.TopicPartitions
                .GroupBy(t => t.TopicId)
                .ToDictionary(g => g.Key, g => g.SelectMany(t => t.Partitions).Distinct().Order().ToArray()));
        if (State == ShareMemberState.Joining)
            Transition(ShareMemberState.Stable);
        return ShareStep.Continue;
    }

    public void OnHeartbeatFailed()
    {
        _inFlight = false;
        ResetSentFields();
        if (State == ShareMemberState.Leaving)
            EndLeave(); // the broker drops us by the leave or by the session timeout
    }

    /// <summary>
    /// Leaves the group: the next heartbeat carries epoch -1. After a poll timeout the member then
    /// waits for the next poll (Stale). False when there is nothing to send.
    /// </summary>
    public bool Leave(bool pollTimeout)
    {
        if (State is ShareMemberState.Unsubscribed or ShareMemberState.Fatal or ShareMemberState.Leaving or ShareMemberState.Stale)
            return false;
        bool member = MemberEpoch > 0 || State == ShareMemberState.Stable || _inFlight;
        _staleAfterLeave = pollTimeout;
        _inFlight = false;
        SetAssignment(new Dictionary<Guid, int[]>());
        if (!member)
        {
            MemberEpoch = 0;
            Transition(pollTimeout ? ShareMemberState.Stale : ShareMemberState.Unsubscribed);
            return false;
        }
        Transition(ShareMemberState.Leaving);
        return true;
    }

    /// <summary>After a poll timeout: the application polled again; join with epoch 0.</summary>
    public void Rejoin()
    {
        if (State != ShareMemberState.Stale)
            throw new InvalidOperationException($"Nothing to rejoin from in state {State}.");
        Transition(ShareMemberState.Joining);
    }

    private void EndLeave()
    {
        MemberEpoch = 0;
        Transition(_staleAfterLeave ? ShareMemberState.Stale : ShareMemberState.Unsubscribed);
    }

    private void SetAssignment(Dictionary<Guid, int[]> next)
    {
        if (Same(Assignment, next))
            return;
        Assignment = next;
        AssignmentVersion++;
    }

    private void ResetSentFields()
    {
        _sentNames = null;
        _rackSent = false;
    }

    private void Transition(ShareMemberState to)
    {
        if (!Allowed(State, to))
            throw new InvalidOperationException($"Share group member cannot go from {State} to {to}.");
        State = to;
    }

    private static bool Allowed(ShareMemberState from, ShareMemberState to) => (from, to) switch
    {
        (_, ShareMemberState.Fatal) => from is ShareMemberState.Joining or ShareMemberState.Stable,
        (ShareMemberState.Unsubscribed or ShareMemberState.Stale, ShareMemberState.Joining) => true,
        (ShareMemberState.Joining, ShareMemberState.Stable) => true,
        (ShareMemberState.Joining or ShareMemberState.Stable, ShareMemberState.Leaving) => true,
        (ShareMemberState.Joining, ShareMemberState.Unsubscribed or ShareMemberState.Stale) => true,
        (ShareMemberState.Leaving, ShareMemberState.Unsubscribed or ShareMemberState.Stale) => true,
        _ => false,
    };

    private static bool Same(IReadOnlyDictionary<Guid, int[]> a, Dictionary<Guid, int[]> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && other.AsSpan().SequenceEqual(kv.Value));

    /// <summary>Kafka's Uuid.randomUuid().toString(): 16 random bytes in unpadded base64url.</summary>
    private static string NewMemberId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
