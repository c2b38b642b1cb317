using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;

namespace Samsa.Client.Internal.Group;

/// <summary>The generation commits are made in: (-1, "") outside a group, as Kafka's standalone commits.
/// With the consumer protocol the generation is the member epoch.</summary>
internal sealed record GenerationInfo(int GenerationId, string MemberId)
{
    public static readonly GenerationInfo None = new(-1, "");
}

/// <summary>
/// What the application subscribed to, published to the group loop as one immutable value.
/// <paramref name="PatternSource"/> is the regex as the user wrote it, which the consumer protocol
/// sends to the broker (Kafka matches it there against whole topic names).
/// </summary>
internal sealed record SubscriptionSnapshot(IReadOnlyCollection<string> Topics, Regex? Pattern, string? PatternSource = null);

/// <summary>
/// A rebalance step the application must carry out on its poll thread (commit, listener, change
/// of assignment); the group loop waits on <see cref="Done"/> where the protocol requires it.
/// </summary>
internal sealed class PendingRebalance(RebalancePlan plan, bool setsAssignment)
{
    public RebalancePlan Plan => plan;

    /// <summary>False: only give partitions up (before a JoinGroup, or lost). True: the plan's Owned becomes the assignment.</summary>
    public bool SetsAssignment => setsAssignment;

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The seam between the consumer and a group membership protocol: one background loop per
/// consumer that alone owns the protocol's state machine, finds the coordinator, heartbeats, and
/// hands rebalance steps to the poll thread through a queue (so listeners run there). The poll
/// loop, commits and positions see only this: the generation to commit in, the steps to apply,
/// and a fatal error. <see cref="ConsumerCoordinator"/> speaks the classic protocol,
/// <see cref="ConsumerProtocolLoop"/> KIP-848's.
/// </summary>
internal abstract class GroupMemberLoop : IAsyncDisposable
{
    private readonly ConcurrentQueue<PendingRebalance> _toApp = new();
    private readonly SemaphoreSlim _coordinatorLookup = new(1, 1);
    private readonly Action _signalApp;
    private CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private volatile BrokerNode? _coordinator;
    private volatile KafkaException? _fatal;
    private KafkaException? _reported;

    protected GroupMemberLoop(ClusterClient cluster, ConsumerOptions options, ILogger log, Action signalApp)
    {
        Cluster = cluster;
        Options = options;
        Log = log;
        Time = cluster.Time;
        _signalApp = signalApp;
    }

    protected ClusterClient Cluster { get; }

    protected ConsumerOptions Options { get; }

    protected ILogger Log { get; }

    protected TimeProvider Time { get; }

    protected AsyncSignal Wake { get; } = new();

    /// <summary>The generation (classic) or member epoch (consumer protocol) commits are made in.</summary>
    public abstract GenerationInfo Generation { get; }

    /// <summary>Set when the group refused us for good (fenced static member, bad configuration); the next poll throws it.</summary>
    public KafkaException? FatalError => _fatal;

    /// <summary>
    /// An error the next poll throws once while the membership carries on (Java's ErrorEvent:
    /// TOPIC_AUTHORIZATION_FAILED keeps the member in the group so that it recovers when the ACLs
    /// are fixed); null when none is waiting.
    /// </summary>
    public KafkaException? TakeReportedError() => Interlocked.Exchange(ref _reported, null);

    public bool TryTakeRebalance(out PendingRebalance rebalance) => _toApp.TryDequeue(out rebalance!);

    /// <summary>A new subscription: (re)starts the loop; the member joins or updates its subscription.</summary>
    public void Subscribe(SubscriptionSnapshot subscription)
    {
        OnSubscribe(subscription);
        if (_loop.IsCompleted)
        {
            _stop.Dispose();
            _stop = new CancellationTokenSource();
            _loop = Task.Run(RunAsync);
        }
        Wake.Set();
    }

    protected abstract void OnSubscribe(SubscriptionSnapshot subscription);

    /// <summary>Called by every poll: the application is alive.</summary>
    public abstract void OnPoll();

    /// <summary>One step of the loop: send what is due, or wait on <see cref="Wake"/>.</summary>
    protected abstract Task StepAsync(CancellationToken token);

    /// <summary>A connection or retriable failure escaped a step: the protocol forgets what was in flight.</summary>
    protected abstract void OnConnectionLost();

    /// <summary>
    /// Stops the loop and leaves the group (Close, Unsubscribe); the application has already
    /// revoked its partitions.
    /// </summary>
    public abstract Task LeaveAsync(string reason, CancellationToken token);

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
                Log.LogInformation("Group {Group}: {Message}; finding the coordinator again", Options.GroupId, e.Message);
                OnConnectionLost();
                ForgetCoordinator();
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.LogError(e, "Group {Group}: the group loop failed", Options.GroupId);
                Fail(e as KafkaException ?? new KafkaException(Protocol.ErrorCode.UnknownServerError, $"Group {Options.GroupId}: {e.Message}", e));
                break;
            }
        }
    }

    protected void Fail(KafkaException error)
    {
        _fatal = error;
        Log.LogError("Group {Group}: {Message}", Options.GroupId, error.Message);
        _signalApp();
    }

    protected void Report(KafkaException error)
    {
        Volatile.Write(ref _reported, error);
        Log.LogWarning("Group {Group}: {Message}", Options.GroupId, error.Message);
        _signalApp();
    }

    /// <summary>Wakes a poll that waits (something it reads changed).</summary>
    protected void SignalApp() => _signalApp();

    protected PendingRebalance Hand(RebalancePlan plan, bool setsAssignment)
    {
        var pending = new PendingRebalance(plan, setsAssignment);
        _toApp.Enqueue(pending);
        _signalApp();
        return pending;
    }

    /// <summary>Cancels the steps the application has not taken yet (leaving: they no longer apply).</summary>
    protected void CancelHandedSteps(CancellationToken token)
    {
        while (_toApp.TryDequeue(out var pending))
            pending.Done.TrySetCanceled(token);
    }

    protected async Task<BrokerNode> CoordinatorAsync(CancellationToken token)
    {
        if (_coordinator is { } known)
            return known;
        await _coordinatorLookup.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_coordinator is { } found)
                return found;
            var node = await Cluster.FindCoordinatorAsync(Options.GroupId!, token).ConfigureAwait(false);
            Log.LogDebug("Group {Group}: coordinator is {Node}", Options.GroupId, node);
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
            Cluster.Drop(node, ConnectionPurpose.Coordinator);
            _coordinator = null;
        }
    }

    protected Task DelayAsync(TimeSpan delay, CancellationToken token) => Task.Delay(delay, Time, token);

    protected static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    protected async Task StopLoopAsync()
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
