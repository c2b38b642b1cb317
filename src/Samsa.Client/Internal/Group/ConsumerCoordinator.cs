using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Samsa.Client.Assignors;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

/// <summary>
/// The consumer's side of the classic group protocol, run by one background loop that alone owns
/// <see cref="GroupMembership"/>: it finds the coordinator, joins (as leader it runs the assignor),
/// syncs, heartbeats on its own schedule, leaves when the application stops polling for
/// max.poll.interval.ms, and rejoins when the subscription, the matched topics or the partition
/// counts change. It shares no lock with the poll loop: the application publishes its subscription
/// and its polls; the loop hands rebalance steps back through a queue the poll thread drains
/// (so listeners run there), and waits for those steps only before a JoinGroup (an eager member
/// must commit and revoke first) and before the second round of a cooperative rebalance.
/// </summary>
internal sealed partial class ConsumerCoordinator : GroupMemberLoop
{
    private readonly GroupMembership _membership;
    private readonly List<IPartitionAssignor> _assignors;
    private readonly RebalanceMode _mode;
    private Dictionary<string, int> _assignedCounts = [];
    private SortedSet<string> _joinedTopics = new(StringComparer.Ordinal);
    private PendingRebalance? _lastHanded;
    private long _lastMetadataRefresh;
    private volatile SubscriptionSnapshot? _subscription;
    private volatile bool _rejoinRequested;
    private volatile bool _polled;
    private volatile GenerationInfo _generation = GenerationInfo.None;

    public ConsumerCoordinator(ClusterClient cluster, ConsumerOptions options, ILogger log, Action signalApp)
        : base(cluster, options, log, signalApp)
    {
        _membership = new GroupMembership(
            new MembershipOptions(options.GroupId!, options.GroupInstanceId, options.SessionTimeout, options.MaxPollInterval, options.HeartbeatInterval),
            Time);
        _assignors = options.PartitionAssignmentStrategy.Select(PartitionAssignors.Create).ToList();
        // Kafka's rule: the protocol is the one every configured assignor supports, so listing
        // range and cooperative-sticky stays eager (the first step of the rolling upgrade).
        _mode = _assignors.All(a => a.IsCooperative) ? RebalanceMode.Cooperative : RebalanceMode.Eager;
        _lastMetadataRefresh = Time.GetTimestamp();
    }

    public override GenerationInfo Generation => _generation;

    protected override void OnSubscribe(SubscriptionSnapshot subscription)
    {
        _subscription = subscription;
        _rejoinRequested = true;
    }

    protected override void OnConnectionLost() => _membership.Abandon();

    /// <summary>Called by every poll: the application is alive; the first poll starts the join.</summary>
    public override void OnPoll()
    {
        _membership.OnPoll();
        if (!_polled)
        {
            _polled = true;
            Wake.Set();
        }
    }

    protected override async Task StepAsync(CancellationToken token)
    {
        var subscription = _subscription;
        if (subscription is null || !_polled || _membership.State == MemberState.Fatal)
        {
            await Wake.WaitAsync(Timeout.InfiniteTimeSpan, Time, token).ConfigureAwait(false);
            return;
        }
        var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
        if (_membership.State == MemberState.Unjoined)
        {
            await JoinAsync(subscription, coordinator, token).ConfigureAwait(false);
            return;
        }
        if (_membership.PollIntervalExceeded)
        {
            await LeaveForPollTimeoutAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        if (_lastHanded is { SetsAssignment: true, Plan.RejoinAfterRevoke: true } handed && handed.Done.Task.IsCompleted)
        {
            _lastHanded = null;
            _membership.RequestRejoin("revoked partitions that move to other members (cooperative rebalance)");
            return;
        }
        if (_rejoinRequested)
        {
            _rejoinRequested = false;
            _membership.RequestRejoin("subscription changed");
            return;
        }
        if (Time.GetElapsedTime(_lastMetadataRefresh) >= Options.MetadataMaxAge)
        {
            await CheckMetadataAsync(subscription, token).ConfigureAwait(false);
            return;
        }
        if (_membership.HeartbeatDue())
        {
            await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        // Wake at least every second to check max.poll.interval.ms, which the poll loop does not signal.
        var wait = Min(_membership.UntilHeartbeat(), Options.MetadataMaxAge - Time.GetElapsedTime(_lastMetadataRefresh));
        await Wake.WaitAsync(Min(wait, TimeSpan.FromSeconds(1)), Time, token).ConfigureAwait(false);
    }

    private async Task HeartbeatAsync(BrokerNode coordinator, CancellationToken token)
    {
        var request = _membership.CreateHeartbeat();
        GroupStep step;
        try
        {
            var response = await Cluster.SendAsync<HeartbeatResponse>(coordinator, ConnectionPurpose.Coordinator, request, token).ConfigureAwait(false);
            step = _membership.OnHeartbeatResponse(response);
            if (response.ErrorCode != ErrorCode.None)
                Log.LogDebug("Group {Group}: heartbeat answered {Error}", Options.GroupId, response.ErrorCode);
        }
        catch (KafkaConnectionException e)
        {
            Log.LogDebug("Group {Group}: heartbeat failed: {Message}", Options.GroupId, e.Message);
            step = _membership.OnHeartbeatFailed();
        }
        await FollowAsync(step, token).ConfigureAwait(false);
    }

    /// <summary>
    /// Kafka's heartbeat thread does this: the application has not polled within
    /// max.poll.interval.ms, so it is presumed stuck and the member leaves (a static member only
    /// stops heartbeating) so the others get its partitions. It rejoins on the next poll, and its
    /// old partitions are then reported lost.
    /// </summary>
    private async Task LeaveForPollTimeoutAsync(BrokerNode coordinator, CancellationToken token)
    {
        Log.LogWarning("Group {Group}: no poll within max.poll.interval.ms ({Ms} ms); leaving the group. Poll more often, lower max.poll.records or raise max.poll.interval.ms",
            Options.GroupId, Options.MaxPollInterval.TotalMilliseconds);
        var leave = _membership.Leave("consumer poll timeout has expired", pollTimeout: true);
        _polled = false;
        _generation = GenerationInfo.None;
        if (leave is not null)
            await SendLeaveAsync(coordinator, leave, token).ConfigureAwait(false);
    }

    private async Task SendLeaveAsync(BrokerNode coordinator, LeaveGroupRequest leave, CancellationToken token)
    {
        try
        {
            var response = await Cluster.SendAsync<LeaveGroupResponse>(coordinator, ConnectionPurpose.Coordinator, leave, token).ConfigureAwait(false);
            if (response.ErrorCode != ErrorCode.None)
                Log.LogInformation("Group {Group}: LeaveGroup answered {Error}", Options.GroupId, response.ErrorCode);
        }
        catch (KafkaConnectionException e)
        {
            Log.LogInformation("Group {Group}: LeaveGroup failed ({Message}); the session timeout will remove the member", Options.GroupId, e.Message);
        }
    }

    private async Task FollowAsync(GroupStep step, CancellationToken token)
    {
        switch (step)
        {
            case GroupStep.RejoinAfterBackoff:
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case GroupStep.FindCoordinator:
                ForgetCoordinator();
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case GroupStep.Fatal:
                Fail(_membership.FatalError == ErrorCode.FencedInstanceId
                    ? new KafkaException(ErrorCode.FencedInstanceId,
                        $"Group {Options.GroupId}: another consumer joined with group.instance.id '{Options.GroupInstanceId}'; this one is fenced. Give every instance its own id.")
                    : KafkaException.FromError(_membership.FatalError, $"group {Options.GroupId}"));
                break;
        }
    }

    /// <summary>
    /// Stops the loop and, unless static, leaves the group (Close, Unsubscribe). The application
    /// has already revoked its partitions. A JoinGroup or SyncGroup in flight is abandoned with its
    /// connection, so the LeaveGroup does not queue behind a parked request.
    /// </summary>
    public override async Task LeaveAsync(string reason, CancellationToken token)
    {
        await StopLoopAsync().ConfigureAwait(false);
        _subscription = null;
        if (_membership.State is MemberState.Joining or MemberState.Syncing)
            ForgetCoordinator();
        var leave = _membership.Leave(reason);
        _generation = GenerationInfo.None;
        _lastHanded = null;
        CancelHandedSteps(token);
        if (leave is null)
            return;
        var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
        await SendLeaveAsync(coordinator, leave, token).ConfigureAwait(false);
    }
}
