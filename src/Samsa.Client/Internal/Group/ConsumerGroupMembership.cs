using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

internal sealed record ConsumerMembershipOptions(
    string GroupId,
    string? GroupInstanceId,
    string? RackId,
    TimeSpan RebalanceTimeout,
    string? RemoteAssignor);

/// <summary>What the group loop does after feeding a ConsumerGroupHeartbeat answer to <see cref="ConsumerGroupMembership"/>.</summary>
internal enum ConsumerStep
{
    Continue,

    /// <summary>The coordinator moved or is unavailable: find it again.</summary>
    FindCoordinator,

    /// <summary>Try again after retry.backoff.ms (coordinator loading).</summary>
    RetryAfterBackoff,

    /// <summary>
    /// Tell the application (the next poll throws) and try again after retry.backoff.ms, staying
    /// in the group: TOPIC_AUTHORIZATION_FAILED, which fixed ACLs cure.
    /// </summary>
    ReportAndRetry,

    /// <summary>Fenced: hand the owned partitions to the application as lost, then <see cref="ConsumerGroupMembership.CompleteLost"/>.</summary>
    Fenced,

    /// <summary>Unrecoverable; <see cref="ConsumerGroupMembership.FatalError"/> says why.</summary>
    Fatal,
}

/// <summary>A partition the application owns: by id for the broker, by name for the application.</summary>
internal readonly record struct OwnedPartition(Guid TopicId, string Topic, int Partition);

/// <summary>
/// The client side of KIP-848's consumer protocol as a state machine with no I/O (the Java
/// consumer's ConsumerMembershipManager and heartbeat state): it builds each
/// ConsumerGroupHeartbeat — every field on a join or after a failure, afterwards only what
/// changed since it was last sent — takes the answers, and turns a new assignment into one
/// reconciliation for the poll thread (revoke what goes, assign what comes), acknowledged by the
/// next heartbeat. Heartbeat and poll deadlines come from a <see cref="TimeProvider"/>. Owned by
/// the group loop; the poll loop only reports polls through <see cref="OnPoll"/>.
/// </summary>
internal sealed class ConsumerGroupMembership(ConsumerMembershipOptions options, TimeProvider time)
{
    public const int LeaveEpoch = -1;
    public const int StaticLeaveEpoch = -2;

    private HashSet<OwnedPartition> _owned = [];
    private Dictionary<Guid, int[]>? _target;
    private HashSet<OwnedPartition>? _reconciling;
    private IReadOnlyList<string> _names = [];
    private string? _regex;
    private bool _staleAfterLeave;

    // What the last heartbeats carried; null: not sent since the last join or failure (send it).
    private IReadOnlyList<string>? _sentNames;
    private string? _sentRegex;
    private bool _sentRegexKnown;
    private HashSet<OwnedPartition>? _sentOwned;
    private bool _sentStatic;

    private long _lastPoll = time.GetTimestamp();
    private long _lastSent;
    private bool _inFlight;
    private TimeSpan _interval = TimeSpan.Zero;

    public ConsumerMembershipOptions Options => options;

    public ConsumerMemberState State { get; private set; } = ConsumerMemberState.Unsubscribed;

    /// <summary>Client-generated (ConsumerGroupHeartbeat v1, as the Java 4.x client): one id for the consumer's life.</summary>
    public string MemberId { get; private set; } = NewMemberId();

    public int MemberEpoch { get; private set; }

    public ErrorCode FatalError { get; private set; }

    public string? FatalMessage { get; private set; }

    public IReadOnlyCollection<OwnedPartition> Owned => _owned;

    /// <summary>The epoch and id commits are made with: a member that holds an epoch.</summary>
    public GenerationInfo Generation => MemberEpoch > 0 && State is ConsumerMemberState.Reconciling or ConsumerMemberState.Acknowledging or ConsumerMemberState.Stable
        ? new GenerationInfo(MemberEpoch, MemberId)
        : GenerationInfo.None;

    public bool IsStatic => options.GroupInstanceId is not null;

    /// <summary>A new subscription (topic names, or a regex in the broker's RE2 syntax): joins, or is sent in the next heartbeat.</summary>
    public void Subscribe(IReadOnlyList<string> names, string? regex)
    {
        _names = names;
        _regex = regex;
        if (State == ConsumerMemberState.Unsubscribed)
            Transition(ConsumerMemberState.Joining);
    }

    public void OnPoll() => Volatile.Write(ref _lastPoll, time.GetTimestamp());

    /// <summary>max.poll.interval.ms passed without a poll while in the group.</summary>
    public bool PollIntervalExceeded =>
        State is ConsumerMemberState.Reconciling or ConsumerMemberState.Acknowledging or ConsumerMemberState.Stable
        && time.GetElapsedTime(Volatile.Read(ref _lastPoll)) > options.RebalanceTimeout;

    /// <summary>A heartbeat should go out now: at once when joining, acknowledging, leaving or with a changed subscription; else every interval.</summary>
    public bool HeartbeatDue()
    {
        if (_inFlight)
            return false;
        return State switch
        {
            ConsumerMemberState.Joining or ConsumerMemberState.Acknowledging or ConsumerMemberState.Leaving => true,
            ConsumerMemberState.Stable or ConsumerMemberState.Reconciling => SubscriptionUnsent || time.GetElapsedTime(_lastSent) >= _interval,
            _ => false,
        };
    }

    public TimeSpan UntilHeartbeat()
    {
        var left = _interval - time.GetElapsedTime(_lastSent);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }

    private bool SubscriptionUnsent => !ReferenceEquals(_sentNames, _names) || !_sentRegexKnown || _sentRegex != _regex;

    public ConsumerGroupHeartbeatRequest CreateHeartbeat()
    {
        if (State is not (ConsumerMemberState.Joining or ConsumerMemberState.Reconciling or ConsumerMemberState.Acknowledging or ConsumerMemberState.Stable or ConsumerMemberState.Leaving))
            throw new InvalidOperationException($"No heartbeat is sent in state {State}.");
        _inFlight = true;
        _lastSent = time.GetTimestamp();
        if (State == ConsumerMemberState.Leaving)
        {
            return new ConsumerGroupHeartbeatRequest
            {
                GroupId = options.GroupId,
                MemberId = MemberId,
                MemberEpoch = IsStatic ? StaticLeaveEpoch : LeaveEpoch,
                InstanceId = options.GroupInstanceId,
            };
        }
        bool joining = State == ConsumerMemberState.Joining;
        // Epoch 0 is a join, which carries every field; librdkafka's mock leaves a new member at
        // epoch 0 until partitions are free for it, where Kafka gives it an epoch at once.
        if (joining || MemberEpoch == 0)
            ResetSentFields();
        bool full = _sentNames is null;
        var request = new ConsumerGroupHeartbeatRequest
        {
            GroupId = options.GroupId,
            MemberId = MemberId,
            MemberEpoch = joining ? 0 : MemberEpoch,
            InstanceId = full || !_sentStatic ? options.GroupInstanceId : null,
            RackId = full ? options.RackId : null,
            RebalanceTimeoutMs = full ? (int)options.RebalanceTimeout.TotalMilliseconds : -1,
            ServerAssignor = full ? options.RemoteAssignor : null,
        };
        if (full || SubscriptionUnsent)
        {
            request.SubscribedTopicNames = [.. _names];
            // Names and regex go together, as librdkafka sends them (its mock insists): an empty
            // regex means none, and clears one the broker holds.
            request.SubscribedTopicRegex = _regex ?? "";
            _sentNames = _names;
            _sentRegex = _regex;
            _sentRegexKnown = true;
        }
        if (full || _sentOwned is null || !_sentOwned.SetEquals(_owned))
        {
            request.TopicPartitions = _owned.GroupBy(p => p.TopicId)
                .Select(g => new ConsumerGroupHeartbeatRequest.OwnedTopicPartitions { TopicId = g.Key, Partitions = g.Select(p => p.Partition).Order().ToList() })
                .ToList();
            _sentOwned = [.. _owned];
        }
        _sentStatic = true;
        if (State == ConsumerMemberState.Acknowledging)
            Transition(ConsumerMemberState.Stable);
        return request;
    }

    public ConsumerStep OnHeartbeatResponse(ConsumerGroupHeartbeatResponse response)
    {
        _inFlight = false;
        if (State == ConsumerMemberState.Leaving)
        {
            Transition(_staleAfterLeave ? ConsumerMemberState.Stale : ConsumerMemberState.Unsubscribed);
            MemberEpoch = 0;
            return ConsumerStep.Continue;
        }
        if (State is not (ConsumerMemberState.Joining or ConsumerMemberState.Reconciling or ConsumerMemberState.Acknowledging or ConsumerMemberState.Stable))
            return ConsumerStep.Continue; // an answer from before we left or were fenced
        switch (response.ErrorCode)
        {
            case ErrorCode.None:
                break;
            case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable:
                ResetSentFields();
                return ConsumerStep.FindCoordinator;
            case ErrorCode.CoordinatorLoadInProgress:
                ResetSentFields();
                return ConsumerStep.RetryAfterBackoff;
            case ErrorCode.FencedMemberEpoch or ErrorCode.UnknownMemberId:
                Transition(ConsumerMemberState.Fenced);
                return ConsumerStep.Fenced;
            case ErrorCode.TopicAuthorizationFailed:
                ResetSentFields();
                return ConsumerStep.ReportAndRetry;
            default:
                // FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION,
                // GROUP_MAX_SIZE_REACHED, INVALID_REQUEST, GROUP_AUTHORIZATION_FAILED, UNSUPPORTED_VERSION...
                FatalError = response.ErrorCode;
                FatalMessage = response.ErrorMessage;
                Transition(ConsumerMemberState.Fatal);
                return ConsumerStep.Fatal;
        }
        if (!string.IsNullOrEmpty(response.MemberId))
            MemberId = response.MemberId;
        MemberEpoch = response.MemberEpoch;
        if (response.HeartbeatIntervalMs > 0)
            _interval = TimeSpan.FromMilliseconds(response.HeartbeatIntervalMs);
        if (response.Assignment is { } assignment)
            _target = assignment.TopicPartitions.ToDictionary(t => t.TopicId, t => t.Partitions.ToArray());
        if (State == ConsumerMemberState.Joining)
            Transition(ConsumerMemberState.Stable);
        return ConsumerStep.Continue;
    }

    /// <summary>The heartbeat got no answer: the next one carries every field again.</summary>
    public void OnHeartbeatFailed()
    {
        _inFlight = false;
        ResetSentFields();
        if (State == ConsumerMemberState.Leaving)
        {
            // As if answered: the broker drops us, by the leave or by the session timeout.
            Transition(_staleAfterLeave ? ConsumerMemberState.Stale : ConsumerMemberState.Unsubscribed);
            MemberEpoch = 0;
        }
    }

    /// <summary>True when the broker's last assignment differs from what the application owns and no reconciliation runs.</summary>
    public bool NeedsReconciliation =>
        State is ConsumerMemberState.Stable or ConsumerMemberState.Acknowledging && _target is { } target && !SameAs(target, _owned);

    /// <summary>
    /// Starts reconciling the last assignment: the step for the poll thread (what to revoke, what
    /// to assign, what is owned after). False when a topic id is not in <paramref name="nameOf"/>
    /// yet: refresh metadata and try again.
    /// </summary>
    public bool TryStartReconciliation(Func<Guid, string?> nameOf, out RebalancePlan plan, out IReadOnlyList<Guid> unknownTopics)
    {
        plan = null!;
        if (!NeedsReconciliation)
            throw new InvalidOperationException($"Nothing to reconcile in state {State}.");
        var unknown = new List<Guid>();
        var next = new HashSet<OwnedPartition>();
        foreach (var (id, partitions) in _target!)
        {
            if (nameOf(id) is not { } name)
            {
                unknown.Add(id);
                continue;
            }
            foreach (int p in partitions)
                next.Add(new OwnedPartition(id, name, p));
        }
        unknownTopics = unknown;
        if (unknown.Count > 0)
            return false;
        var revoked = _owned.Where(p => !next.Contains(p)).Select(p => (p.Topic, p.Partition));
        var added = next.Where(p => !_owned.Contains(p)).Select(p => (p.Topic, p.Partition));
        plan = new RebalancePlan(Sorted(revoked), [], Sorted(added), Sorted(next.Select(p => (p.Topic, p.Partition))), RejoinAfterRevoke: false);
        _reconciling = next;
        Transition(ConsumerMemberState.Reconciling);
        return true;
    }

    /// <summary>The application revoked and assigned: it owns the new assignment, and the next heartbeat says so.</summary>
    public void CompleteReconciliation()
    {
        if (_reconciling is null)
            return; // left meanwhile: the application gave everything up
        // Fenced or timed out meanwhile, the step is not acknowledged; but the application applied
        // it whole, so it holds the new set, and that is what it must be told it lost.
        _owned = _reconciling;
        _reconciling = null;
        if (State == ConsumerMemberState.Reconciling)
            Transition(ConsumerMemberState.Acknowledging);
    }

    /// <summary>After fencing or a poll timeout: the application was told its partitions are lost; join again with epoch 0.</summary>
    public void CompleteLost()
    {
        if (State is not (ConsumerMemberState.Fenced or ConsumerMemberState.Stale))
            throw new InvalidOperationException($"Nothing was lost in state {State}.");
        _owned = [];
        _target = null;
        _reconciling = null;
        MemberEpoch = 0;
        _staleAfterLeave = false;
        Transition(ConsumerMemberState.Joining);
    }

    /// <summary>
    /// Leaves the group: the next heartbeat carries epoch -1 (-2 for a static member, which keeps
    /// its assignment for the session timeout). After a poll timeout the member then waits for the
    /// application (Stale); otherwise it is out (Unsubscribed). False when not in the group.
    /// </summary>
    public bool Leave(bool pollTimeout)
    {
        if (State is ConsumerMemberState.Unsubscribed or ConsumerMemberState.Fatal or ConsumerMemberState.Leaving or ConsumerMemberState.Stale)
            return false;
        bool member = MemberEpoch > 0 || State != ConsumerMemberState.Joining || _inFlight;
        _staleAfterLeave = pollTimeout;
        _inFlight = false;
        if (!pollTimeout)
        {
            _owned = [];
            _target = null;
            _reconciling = null;
        }
        if (!member || State == ConsumerMemberState.Fenced)
        {
            MemberEpoch = 0;
            Transition(pollTimeout ? ConsumerMemberState.Stale : ConsumerMemberState.Unsubscribed);
            return false;
        }
        Transition(ConsumerMemberState.Leaving);
        return true;
    }

    private void ResetSentFields()
    {
        _sentNames = null;
        _sentRegex = null;
        _sentRegexKnown = false;
        _sentOwned = null;
        _sentStatic = false;
    }

    private void Transition(ConsumerMemberState to)
    {
        if (!Allowed(State, to))
            throw new InvalidOperationException($"Consumer group member cannot go from {State} to {to}.");
        State = to;
    }

    private static bool Allowed(ConsumerMemberState from, ConsumerMemberState to) => (from, to) switch
    {
        (_, ConsumerMemberState.Fatal) => from != ConsumerMemberState.Unsubscribed,
        (ConsumerMemberState.Unsubscribed, ConsumerMemberState.Joining) => true,
        (ConsumerMemberState.Joining, ConsumerMemberState.Stable or ConsumerMemberState.Fenced) => true,
        (ConsumerMemberState.Stable or ConsumerMemberState.Acknowledging, ConsumerMemberState.Reconciling) => true,
        (ConsumerMemberState.Reconciling, ConsumerMemberState.Acknowledging) => true,
        (ConsumerMemberState.Acknowledging, ConsumerMemberState.Stable) => true,
        (ConsumerMemberState.Reconciling or ConsumerMemberState.Acknowledging or ConsumerMemberState.Stable, ConsumerMemberState.Fenced) => true,
        (ConsumerMemberState.Fenced or ConsumerMemberState.Stale, ConsumerMemberState.Joining) => true,
        (ConsumerMemberState.Joining or ConsumerMemberState.Reconciling or ConsumerMemberState.Acknowledging or ConsumerMemberState.Stable, ConsumerMemberState.Leaving) => true,
        (ConsumerMemberState.Joining or ConsumerMemberState.Fenced, ConsumerMemberState.Unsubscribed or ConsumerMemberState.Stale) => true,
        (ConsumerMemberState.Leaving, ConsumerMemberState.Unsubscribed or ConsumerMemberState.Stale) => true,
        _ => false,
    };

    private static bool SameAs(Dictionary<Guid, int[]> target, HashSet<OwnedPartition> owned)
    {
        var have = owned.Select(o => (o.TopicId, o.Partition)).ToHashSet();
        int count = 0;
        foreach (var (id, partitions) in target)
        {
            count += partitions.Length;
            foreach (int p in partitions)
            {
                if (!have.Contains((id, p)))
                    return false;
            }
        }
        return count == have.Count;
    }

    private static List<(string Topic, int Partition)> Sorted(IEnumerable<(string Topic, int Partition)> partitions) =>
        partitions.OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition).ToList();

    /// <summary>Kafka's Uuid.randomUuid().toString(): 16 random bytes in unpadded base64url.</summary>
    private static string NewMemberId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
