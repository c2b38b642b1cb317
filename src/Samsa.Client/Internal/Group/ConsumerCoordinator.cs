using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Samsa.Client.Assignors;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

/// <summary>The generation commits are made in: (-1, "") outside a group, as Kafka's standalone commits.</summary>
internal sealed record GenerationInfo(int GenerationId, string MemberId)
{
    public static readonly GenerationInfo None = new(-1, "");
}

/// <summary>What the application subscribed to, published to the group loop as one immutable value.</summary>
internal sealed record SubscriptionSnapshot(IReadOnlyCollection<string> Topics, Regex? Pattern);

/// <summary>
/// A rebalance step the application must carry out on its poll thread (commit, listener, change
/// of assignment); the group loop waits on <see cref="Done"/> where the protocol requires it.
/// </summary>
internal sealed class PendingRebalance(RebalancePlan plan, bool afterSync)
{
    public RebalancePlan Plan => plan;

    /// <summary>False: the revocation before a JoinGroup. True: the assignment a SyncGroup returned.</summary>
    public bool AfterSync => afterSync;

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

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
internal sealed partial class ConsumerCoordinator : IAsyncDisposable
{
    private readonly ClusterClient _cluster;
    private readonly ConsumerOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Action _signalApp;
    private readonly GroupMembership _membership;
    private readonly List<IPartitionAssignor> _assignors;
    private readonly RebalanceMode _mode;
    private readonly AsyncSignal _wake = new();
    private readonly ConcurrentQueue<PendingRebalance> _toApp = new();
    private readonly SemaphoreSlim _coordinatorLookup = new(1, 1);
    private CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private HashSet<(string Topic, int Partition)> _owned = [];
    private List<(string Topic, int Partition)> _previousAssignment = [];
    private int _previousGeneration = -1;
    private Dictionary<string, int> _assignedCounts = [];
    private SortedSet<string> _joinedTopics = new(StringComparer.Ordinal);
    private PendingRebalance? _lastHanded;
    private bool _lostOnRejoin;
    private long _lastMetadataRefresh;
    private volatile SubscriptionSnapshot? _subscription;
    private volatile bool _rejoinRequested;
    private volatile bool _polled;
    private volatile BrokerNode? _coordinator;
    private volatile GenerationInfo _generation = GenerationInfo.None;
    private volatile KafkaException? _fatal;

    public ConsumerCoordinator(ClusterClient cluster, ConsumerOptions options, ILogger log, Action signalApp)
    {
        _cluster = cluster;
        _options = options;
        _log = log;
        _time = cluster.Time;
        _signalApp = signalApp;
        _membership = new GroupMembership(
            new MembershipOptions(options.GroupId!, options.GroupInstanceId, options.SessionTimeout, options.MaxPollInterval, options.HeartbeatInterval),
            _time);
        _assignors = options.PartitionAssignmentStrategy.Select(PartitionAssignors.Create).ToList();
        // Kafka's rule: the protocol is the one every configured assignor supports, so listing
        // range and cooperative-sticky stays eager (the first step of the rolling upgrade).
        _mode = _assignors.All(a => a.IsCooperative) ? RebalanceMode.Cooperative : RebalanceMode.Eager;
        _lastMetadataRefresh = _time.GetTimestamp();
    }

    public GenerationInfo Generation => _generation;

    /// <summary>Set when the group refused us for good (fenced static member, bad configuration); the next poll throws it.</summary>
    public KafkaException? FatalError => _fatal;

    public bool TryTakeRebalance(out PendingRebalance rebalance) => _toApp.TryDequeue(out rebalance!);

    /// <summary>A new subscription: (re)starts the loop and makes the member rejoin.</summary>
    public void Subscribe(SubscriptionSnapshot subscription)
    {
        _subscription = subscription;
        _rejoinRequested = true;
        if (_loop.IsCompleted)
        {
            _stop.Dispose();
            _stop = new CancellationTokenSource();
            _loop = Task.Run(RunAsync);
        }
        _wake.Set();
    }

    /// <summary>Called by every poll: the application is alive; the first poll starts the join.</summary>
    public void OnPoll()
    {
        _membership.OnPoll();
        if (!_polled)
        {
            _polled = true;
            _wake.Set();
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await StepAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is KafkaConnectionException or KafkaException { IsRetriable: true } or TimeoutException)
            {
                _log.LogInformation("Group {Group}: {Message}; finding the coordinator again", _options.GroupId, e.Message);
                _membership.Abandon();
                ForgetCoordinator();
                await DelayAsync(_options.RetryBackoff, token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Group {Group}: the group loop failed", _options.GroupId);
                _fatal = e as KafkaException ?? new KafkaException(ErrorCode.UnknownServerError, $"Group {_options.GroupId}: {e.Message}", e);
                _signalApp();
                break;
            }
        }
    }

    private async Task StepAsync(CancellationToken token)
    {
        var subscription = _subscription;
        if (subscription is null || !_polled || _membership.State == MemberState.Fatal)
        {
            await _wake.WaitAsync(Timeout.InfiniteTimeSpan, _time, token).ConfigureAwait(false);
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
        if (_lastHanded is { AfterSync: true, Plan.RejoinAfterRevoke: true } handed && handed.Done.Task.IsCompleted)
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
        if (_time.GetElapsedTime(_lastMetadataRefresh) >= _options.MetadataMaxAge)
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
        var wait = Min(_membership.UntilHeartbeat(), _options.MetadataMaxAge - _time.GetElapsedTime(_lastMetadataRefresh));
        await _wake.WaitAsync(Min(wait, TimeSpan.FromSeconds(1)), _time, token).ConfigureAwait(false);
    }

    private async Task HeartbeatAsync(BrokerNode coordinator, CancellationToken token)
    {
        var request = _membership.CreateHeartbeat();
        GroupStep step;
        try
        {
            var response = await _cluster.SendAsync<HeartbeatResponse>(coordinator, ConnectionPurpose.Coordinator, request, token).ConfigureAwait(false);
            step = _membership.OnHeartbeatResponse(response);
            if (response.ErrorCode != ErrorCode.None)
                _log.LogDebug("Group {Group}: heartbeat answered {Error}", _options.GroupId, response.ErrorCode);
        }
        catch (KafkaConnectionException e)
        {
            _log.LogDebug("Group {Group}: heartbeat failed: {Message}", _options.GroupId, e.Message);
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
        _log.LogWarning("Group {Group}: no poll within max.poll.interval.ms ({Ms} ms); leaving the group. Poll more often, lower max.poll.records or raise max.poll.interval.ms",
            _options.GroupId, _options.MaxPollInterval.TotalMilliseconds);
        var leave = _membership.Leave("consumer poll timeout has expired");
        _polled = false;
        _lostOnRejoin = true;
        _generation = GenerationInfo.None;
        if (leave is not null)
            await SendLeaveAsync(coordinator, leave, token).ConfigureAwait(false);
    }

    private async Task SendLeaveAsync(BrokerNode coordinator, LeaveGroupRequest leave, CancellationToken token)
    {
        try
        {
            var response = await _cluster.SendAsync<LeaveGroupResponse>(coordinator, ConnectionPurpose.Coordinator, leave, token).ConfigureAwait(false);
            if (response.ErrorCode != ErrorCode.None)
                _log.LogInformation("Group {Group}: LeaveGroup answered {Error}", _options.GroupId, response.ErrorCode);
        }
        catch (KafkaConnectionException e)
        {
            _log.LogInformation("Group {Group}: LeaveGroup failed ({Message}); the session timeout will remove the member", _options.GroupId, e.Message);
        }
    }

    private async Task FollowAsync(GroupStep step, CancellationToken token)
    {
        switch (step)
        {
            case GroupStep.RejoinAfterBackoff:
                await DelayAsync(_options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case GroupStep.FindCoordinator:
                ForgetCoordinator();
                await DelayAsync(_options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case GroupStep.Fatal:
                _fatal = _membership.FatalError == ErrorCode.FencedInstanceId
                    ? new KafkaException(ErrorCode.FencedInstanceId,
                        $"Group {_options.GroupId}: another consumer joined with group.instance.id '{_options.GroupInstanceId}'; this one is fenced. Give every instance its own id.")
                    : KafkaException.FromError(_membership.FatalError, $"group {_options.GroupId}");
                _log.LogError("Group {Group}: {Message}", _options.GroupId, _fatal.Message);
                _signalApp();
                break;
        }
    }

    private async Task<BrokerNode> CoordinatorAsync(CancellationToken token)
    {
        if (_coordinator is { } known)
            return known;
        await _coordinatorLookup.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_coordinator is { } found)
                return found;
            var node = await _cluster.FindCoordinatorAsync(_options.GroupId!, token).ConfigureAwait(false);
            _log.LogDebug("Group {Group}: coordinator is {Node}", _options.GroupId, node);
            _coordinator = node;
            return node;
        }
        finally
        {
            _coordinatorLookup.Release();
        }
    }

    /// <summary>The coordinator for commits and offset fetches from the application side (standalone consumers included).</summary>
    public Task<BrokerNode> CoordinatorForOffsetsAsync(CancellationToken token) => CoordinatorAsync(token);

    public void ForgetCoordinator()
    {
        if (_coordinator is { } node)
        {
            _cluster.Drop(node, ConnectionPurpose.Coordinator);
            _coordinator = null;
        }
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken token) => Task.Delay(delay, _time, token);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// Stops the loop and, unless static, leaves the group (Close, Unsubscribe). The application
    /// has already revoked its partitions. A JoinGroup or SyncGroup in flight is abandoned with its
    /// connection, so the LeaveGroup does not queue behind a parked request.
    /// </summary>
    public async Task LeaveAsync(string reason, CancellationToken token)
    {
        await StopLoopAsync().ConfigureAwait(false);
        _subscription = null;
        if (_membership.State is MemberState.Joining or MemberState.Syncing)
            ForgetCoordinator();
        var leave = _membership.Leave(reason);
        _generation = GenerationInfo.None;
        _owned = [];
        _lastHanded = null;
        while (_toApp.TryDequeue(out var pending))
            pending.Done.TrySetCanceled(token);
        if (leave is null)
            return;
        var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
        await SendLeaveAsync(coordinator, leave, token).ConfigureAwait(false);
    }

    private async Task StopLoopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopLoopAsync().ConfigureAwait(false);
        _stop.Dispose();
        _coordinatorLookup.Dispose();
    }
}
