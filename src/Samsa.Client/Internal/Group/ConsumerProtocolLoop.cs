using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

/// <summary>
/// The consumer's side of KIP-848's consumer protocol (group.protocol=consumer), run by one
/// background loop that alone drives <see cref="ConsumerGroupMembership"/>: it heartbeats at the
/// interval the broker sends, turns each new assignment into one step for the poll thread (revoke
/// what goes — committed first with auto-commit — then assign what comes) and acknowledges it in
/// the next heartbeat, tells the application its partitions are lost when fenced and rejoins with
/// epoch 0, and leaves when the application stops polling for max.poll.interval.ms. Heartbeats go
/// on while the application works through a step; nothing here waits on the poll thread except
/// for that step's completion.
/// </summary>
internal sealed class ConsumerProtocolLoop : GroupMemberLoop
{
    private readonly ConsumerGroupMembership _membership;
    private volatile SubscriptionSnapshot? _subscription;
    private volatile bool _subscriptionChanged;
    private volatile bool _polled;
    private volatile GenerationInfo _generation = GenerationInfo.None;
    private PendingRebalance? _handed;
    private bool _handedReconciliation;
    private long _metadataRetryAt;

    public ConsumerProtocolLoop(ClusterClient cluster, ConsumerOptions options, ILogger log, Action signalApp)
        : base(cluster, options, log, signalApp)
    {
        _membership = new ConsumerGroupMembership(
            new ConsumerMembershipOptions(options.GroupId!, options.GroupInstanceId, options.ClientRack, options.MaxPollInterval, options.GroupRemoteAssignor),
            Time);
    }

    public override GenerationInfo Generation => _generation;

    protected override void OnSubscribe(SubscriptionSnapshot subscription)
    {
        _subscription = subscription;
        _subscriptionChanged = true;
    }

    public override void OnPoll()
    {
        _membership.OnPoll();
        if (!_polled)
        {
            _polled = true;
            Wake.Set();
        }
    }

    protected override void OnConnectionLost() => _membership.OnHeartbeatFailed();

    protected override async Task StepAsync(CancellationToken token)
    {
        try
        {
            await StepCoreAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _generation = _membership.Generation;
        }
    }

    private async Task StepCoreAsync(CancellationToken token)
    {
        // The first poll joins, as with the classic protocol.
        if (!_polled || _membership.State == ConsumerMemberState.Fatal)
        {
            await Wake.WaitAsync(Timeout.InfiniteTimeSpan, Time, token).ConfigureAwait(false);
            return;
        }
        if (_subscriptionChanged && _subscription is { } subscription)
        {
            _subscriptionChanged = false;
            _membership.Subscribe([.. subscription.Topics.Order(StringComparer.Ordinal)], subscription.PatternSource);
        }
        if (_handed is { } handed && handed.Done.Task.IsCompleted)
        {
            _handed = null;
            if (_handedReconciliation)
                _membership.CompleteReconciliation();
            else
                _membership.CompleteLost();
            return;
        }
        if (_handed is null)
        {
            switch (_membership.State)
            {
                case ConsumerMemberState.Fenced:
                    Log.LogInformation("Group {Group}: member {Member} was fenced at epoch {Epoch}; its partitions are lost and it joins again",
                        Options.GroupId, _membership.MemberId, _membership.MemberEpoch);
                    HandLost();
                    return;
                case ConsumerMemberState.Stale:
                    HandLost(); // the application polled again
                    return;
                case ConsumerMemberState.Unsubscribed:
                    await Wake.WaitAsync(Timeout.InfiniteTimeSpan, Time, token).ConfigureAwait(false);
                    return;
            }
        }
        var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
        if (_membership.PollIntervalExceeded)
        {
            Log.LogWarning("Group {Group}: no poll within max.poll.interval.ms ({Ms} ms); leaving the group. Poll more often, lower max.poll.records or raise max.poll.interval.ms",
                Options.GroupId, Options.MaxPollInterval.TotalMilliseconds);
            _polled = false;
            if (_membership.Leave(pollTimeout: true))
                await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        // A finished reconciliation is acknowledged before the next one starts, as the Java client does.
        if (_membership.State == ConsumerMemberState.Acknowledging && _membership.HeartbeatDue())
        {
            await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        if (_handed is null && _membership.NeedsReconciliation && Time.GetTimestamp() >= _metadataRetryAt)
        {
            await StartReconciliationAsync(token).ConfigureAwait(false);
            return;
        }
        if (_membership.HeartbeatDue())
        {
            await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        // Wake at least every second to check max.poll.interval.ms, which the poll loop does not signal.
        await Wake.WaitAsync(Min(_membership.UntilHeartbeat(), TimeSpan.FromSeconds(1)), Time, token).ConfigureAwait(false);
    }

    /// <summary>Hands the application what it owned as lost (no commit: others may own it now), then rejoins with epoch 0.</summary>
    private void HandLost()
    {
        var owned = _membership.Owned.Select(p => (p.Topic, p.Partition)).Order().ToList();
        if (owned.Count == 0)
        {
            _membership.CompleteLost();
            return;
        }
        Handed(Hand(new RebalancePlan([], owned, [], [], RejoinAfterRevoke: false), setsAssignment: false), reconciliation: false);
    }

    private async Task StartReconciliationAsync(CancellationToken token)
    {
        var metadata = Cluster.Metadata;
        if (!_membership.TryStartReconciliation(metadata.TopicName, out var plan, out var unknown))
        {
            // The assignment names topics by id: learn their names first.
            Log.LogDebug("Group {Group}: assignment names {Count} topic id(s) not in metadata; refreshing", Options.GroupId, unknown.Count);
            var subscription = _subscription;
            await Cluster.RefreshMetadataAsync(subscription?.Pattern is null ? subscription?.Topics : null, token).ConfigureAwait(false);
            if (!_membership.TryStartReconciliation(Cluster.Metadata.TopicName, out plan, out unknown))
            {
                _metadataRetryAt = Time.GetTimestamp() + (long)(Options.RetryBackoff.TotalSeconds * Time.TimestampFrequency);
                return;
            }
        }
        Log.LogInformation("Group {Group}: epoch {Epoch}: revoking {Revoked}, assigning {Assigned}", Options.GroupId, _membership.MemberEpoch,
            Format(plan.Revoked), Format(plan.Assigned));
        Handed(Hand(plan, setsAssignment: true), reconciliation: true);
    }

    private void Handed(PendingRebalance pending, bool reconciliation)
    {
        _handed = pending;
        _handedReconciliation = reconciliation;
        // The loop goes on heartbeating; the step's completion wakes it to acknowledge at once.
        _ = pending.Done.Task.ContinueWith(_ => Wake.Set(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task HeartbeatAsync(BrokerNode coordinator, CancellationToken token)
    {
        BrokerConnection connection;
        try
        {
            connection = await Cluster.ConnectAsync(coordinator, ConnectionPurpose.Coordinator, token).ConfigureAwait(false);
        }
        catch (KafkaConnectionException e)
        {
            await HeartbeatFailedAsync(e, token).ConfigureAwait(false);
            return;
        }
        if (!connection.TryGetVersion(ApiKey.ConsumerGroupHeartbeat, out short version))
        {
            _membership.Leave(pollTimeout: false);
            Fail(new KafkaException(ErrorCode.UnsupportedVersion,
                $"Group {Options.GroupId}: the broker {coordinator} does not support the consumer group protocol (KIP-848, Kafka 4.0+). Use group.protocol=classic."));
            return;
        }
        var request = _membership.CreateHeartbeat();
        // Version 0 has the coordinator choose the member id.
        if (version == 0 && request.MemberEpoch == 0)
            request.MemberId = "";
        ConsumerGroupHeartbeatResponse response;
        try
        {
            response = await connection.SendAsync<ConsumerGroupHeartbeatResponse>(request, version, token).ConfigureAwait(false);
        }
        catch (KafkaConnectionException e)
        {
            await HeartbeatFailedAsync(e, token).ConfigureAwait(false);
            return;
        }
        var step = _membership.OnHeartbeatResponse(response);
        // A leave's answer ends the membership whatever it says.
        if (request.MemberEpoch < 0)
            return;
        if (response.ErrorCode != ErrorCode.None)
            Log.LogDebug("Group {Group}: heartbeat answered {Error}", Options.GroupId, response.ErrorCode);
        switch (step)
        {
            case ConsumerStep.FindCoordinator:
                ForgetCoordinator();
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case ConsumerStep.RetryAfterBackoff:
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case ConsumerStep.ReportAndRetry:
                // The member stays in the group and keeps heartbeating, so that it recovers when the ACLs are fixed.
                Report(KafkaException.FromError(response.ErrorCode, string.IsNullOrEmpty(response.ErrorMessage)
                    ? $"group {Options.GroupId}, a subscribed topic"
                    : $"group {Options.GroupId}: {response.ErrorMessage}"));
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case ConsumerStep.Fatal:
                Fail(FatalErrorOf(response));
                break;
        }
    }

    private async Task HeartbeatFailedAsync(Exception e, CancellationToken token)
    {
        Log.LogDebug("Group {Group}: heartbeat failed: {Message}", Options.GroupId, e.Message);
        _membership.OnHeartbeatFailed();
        ForgetCoordinator();
        await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
    }

    private KafkaException FatalErrorOf(ConsumerGroupHeartbeatResponse response)
    {
        string detail = string.IsNullOrEmpty(response.ErrorMessage) ? "" : $" ({response.ErrorMessage})";
        return response.ErrorCode switch
        {
            ErrorCode.FencedInstanceId => new KafkaException(response.ErrorCode,
                $"Group {Options.GroupId}: another consumer joined with group.instance.id '{Options.GroupInstanceId}'; this one is fenced. Give every instance its own id."),
            ErrorCode.UnreleasedInstanceId => new KafkaException(response.ErrorCode,
                $"Group {Options.GroupId}: group.instance.id '{Options.GroupInstanceId}' is still held by a member that has not left{detail}. Give every instance its own id."),
            ErrorCode.UnsupportedAssignor => new KafkaException(response.ErrorCode,
                $"Group {Options.GroupId}: group.remote.assignor '{Options.GroupRemoteAssignor}' is not an assignor the broker has{detail}."),
            ErrorCode.UnsupportedVersion => new KafkaException(response.ErrorCode,
                $"Group {Options.GroupId}: the broker does not serve the consumer group protocol{detail}. Use group.protocol=classic, or enable it on the broker (group.coordinator.rebalance.protocols)."),
            ErrorCode.InvalidRegularExpression => new KafkaException(response.ErrorCode,
                $"Group {Options.GroupId}: the broker refused the subscription pattern '{_subscription?.PatternSource}'{detail}. The broker matches RE2 syntax."),
            _ => KafkaException.FromError(response.ErrorCode, $"group {Options.GroupId}{detail}"),
        };
    }

    /// <summary>Stops the loop and leaves with epoch -1 (a static member -2: it keeps its assignment for the session timeout).</summary>
    public override async Task LeaveAsync(string reason, CancellationToken token)
    {
        await StopLoopAsync().ConfigureAwait(false);
        _subscription = null;
        _subscriptionChanged = false;
        _handed = null;
        CancelHandedSteps(token);
        bool send = _membership.Leave(pollTimeout: false);
        _generation = GenerationInfo.None;
        if (!send)
            return;
        Log.LogInformation("Group {Group}: member {Member} leaving ({Reason})", Options.GroupId, _membership.MemberId, reason);
        try
        {
            var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
            await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
        }
        catch (KafkaConnectionException e)
        {
            _membership.OnHeartbeatFailed();
            Log.LogInformation("Group {Group}: leave failed ({Message}); the session timeout will remove the member", Options.GroupId, e.Message);
        }
    }

    private static string Format(IReadOnlyList<(string Topic, int Partition)> partitions) =>
        partitions.Count == 0 ? "nothing" : string.Join(",", partitions.Select(tp => $"{tp.Topic}-{tp.Partition}"));
}
