using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Group;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Share;

/// <summary>A partition of a share group's assignment: by id for the broker, by name for the application.</summary>
internal readonly record struct SharePartition(Guid TopicId, string Topic, int Partition);

/// <summary>
/// The I/O of a share group membership (the Java client's ShareHeartbeatRequestManager): one
/// background loop that alone drives <see cref="ShareGroupMembership"/>, finds the coordinator,
/// heartbeats, resolves the assignment's topic ids through metadata and publishes the result as
/// one immutable list that the poll thread reads. It never waits for the poll thread; the only
/// thing it learns from it is that it polls (max.poll.interval.ms).
/// </summary>
internal sealed class ShareHeartbeatLoop : GroupMemberLoop
{
    private readonly ShareGroupMembership _membership;
    private volatile IReadOnlyList<string>? _subscription;
    private volatile bool _subscriptionChanged;
    private volatile bool _polled;
    private volatile IReadOnlyList<SharePartition> _assignment = [];
    private int _publishedVersion;
    private long _metadataRetryAt;

    public ShareHeartbeatLoop(ClusterClient cluster, ConsumerOptions options, ILogger log, Action signalApp)
        : base(cluster, options, log, signalApp)
    {
        _membership = new ShareGroupMembership(new ShareMembershipOptions(options.GroupId!, options.ClientRack, options.MaxPollInterval), Time);
    }

    public string MemberId => _membership.MemberId;

    /// <summary>The partitions to fetch from now (empty outside the group).</summary>
    public IReadOnlyList<SharePartition> Assignment => _assignment;

    /// <summary>Share groups commit no offsets: the generation is only informative.</summary>
    public override GenerationInfo Generation => new(_membership.MemberEpoch, _membership.MemberId);

    protected override void OnSubscribe(SubscriptionSnapshot subscription)
    {
        _subscription = [.. subscription.Topics.Order(StringComparer.Ordinal)];
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
        if (!_polled || _membership.State == ShareMemberState.Fatal || (_membership.State == ShareMemberState.Unsubscribed && !_subscriptionChanged))
        {
            await Wake.WaitAsync(Timeout.InfiniteTimeSpan, Time, token).ConfigureAwait(false);
            return;
        }
        if (_subscriptionChanged && _subscription is { } subscription)
        {
            _subscriptionChanged = false;
            _membership.Subscribe(subscription);
        }
        if (_membership.State == ShareMemberState.Stale)
        {
            _membership.Rejoin(); // the application polled again
            return;
        }
        if (_membership.AssignmentVersion != _publishedVersion && Time.GetTimestamp() >= _metadataRetryAt)
        {
            await PublishAssignmentAsync(token).ConfigureAwait(false);
            return;
        }
        var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
        if (_membership.PollIntervalExceeded)
        {
            Log.LogWarning("Share group {Group}: no poll within max.poll.interval.ms ({Ms} ms); leaving the group. Poll more often or raise max.poll.interval.ms",
                Options.GroupId, Options.MaxPollInterval.TotalMilliseconds);
            _polled = false;
            if (_membership.Leave(pollTimeout: true))
                await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        if (_membership.HeartbeatDue())
        {
            await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
            return;
        }
        var wait = _membership.AssignmentVersion != _publishedVersion ? Options.RetryBackoff : _membership.UntilHeartbeat();
        await Wake.WaitAsync(Min(wait, TimeSpan.FromSeconds(1)), Time, token).ConfigureAwait(false);
    }

    /// <summary>The assignment names topics by id: resolve them (refreshing metadata for unknown ids), then publish.</summary>
    private async Task PublishAssignmentAsync(CancellationToken token)
    {
        int version = _membership.AssignmentVersion;
        var target = _membership.Assignment;
        if (target.Keys.Any(id => Cluster.Metadata.TopicName(id) is null))
        {
            try
            {
                await Cluster.RefreshMetadataAsync(_subscription, token).ConfigureAwait(false);
            }
            catch (KafkaConnectionException e)
            {
                Log.LogDebug("Share group {Group}: metadata refresh failed: {Message}", Options.GroupId, e.Message);
            }
        }
        var metadata = Cluster.Metadata;
        var next = new List<SharePartition>();
        bool missing = false;
        foreach (var (id, partitions) in target)
        {
            if (metadata.TopicName(id) is not { } name)
            {
                missing = true;
                continue;
            }
            foreach (int p in partitions)
                next.Add(new SharePartition(id, name, p));
        }
        next.Sort((a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        _assignment = next;
        if (missing)
        {
            _metadataRetryAt = Time.GetTimestamp() + (long)(Options.RetryBackoff.TotalSeconds * Time.TimestampFrequency);
        }
        else
        {
            _publishedVersion = version;
            Log.LogInformation("Share group {Group}: epoch {Epoch}: assigned {Partitions}", Options.GroupId, _membership.MemberEpoch,
                next.Count == 0 ? "nothing" : string.Join(",", next.Select(p => $"{p.Topic}-{p.Partition}")));
        }
        SignalApp();
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
        if (!connection.TryGetVersion(ApiKey.ShareGroupHeartbeat, out short version))
        {
            _membership.Leave(pollTimeout: false);
            Fail(new KafkaException(ErrorCode.UnsupportedVersion,
                $"Share group {Options.GroupId}: the broker {coordinator} does not serve share groups (KIP-932: Kafka 4.1 with share.version=1, or 4.2)."));
            return;
        }
        var request = _membership.CreateHeartbeat();
        ShareGroupHeartbeatResponse response;
        try
        {
            response = await connection.SendAsync<ShareGroupHeartbeatResponse>(request, version, token).ConfigureAwait(false);
        }
        catch (KafkaConnectionException e)
        {
            await HeartbeatFailedAsync(e, token).ConfigureAwait(false);
            return;
        }
        var step = _membership.OnHeartbeatResponse(response);
        if (request.MemberEpoch < 0)
            return;
        if (response.ErrorCode != ErrorCode.None)
            Log.LogDebug("Share group {Group}: heartbeat answered {Error}", Options.GroupId, response.ErrorCode);
        switch (step)
        {
            case ShareStep.FindCoordinator:
                ForgetCoordinator();
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case ShareStep.RetryAfterBackoff:
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case ShareStep.Fenced:
                Log.LogInformation("Share group {Group}: member {Member} was fenced ({Error}); it joins again", Options.GroupId, _membership.MemberId, response.ErrorCode);
                break;
            case ShareStep.ReportAndRetry:
                Report(KafkaException.FromError(response.ErrorCode, $"share group {Options.GroupId}{Detail(response)}"));
                await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
                break;
            case ShareStep.Fatal:
                Fail(response.ErrorCode == ErrorCode.UnsupportedVersion
                    ? new KafkaException(response.ErrorCode, $"Share group {Options.GroupId}: the broker does not serve share groups{Detail(response)}. Enable them on the broker (share.version=1 on Kafka 4.1).")
                    : KafkaException.FromError(response.ErrorCode, $"share group {Options.GroupId}{Detail(response)}"));
                break;
        }
    }

    private static string Detail(ShareGroupHeartbeatResponse response) => string.IsNullOrEmpty(response.ErrorMessage) ? "" : $": {response.ErrorMessage}";

    private async Task HeartbeatFailedAsync(Exception e, CancellationToken token)
    {
        Log.LogDebug("Share group {Group}: heartbeat failed: {Message}", Options.GroupId, e.Message);
        _membership.OnHeartbeatFailed();
        ForgetCoordinator();
        await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
    }

    /// <summary>Stops the loop and leaves with epoch -1.</summary>
    public override async Task LeaveAsync(string reason, CancellationToken token)
    {
        await StopLoopAsync().ConfigureAwait(false);
        _subscription = null;
        _subscriptionChanged = false;
        _polled = false;
        bool send = _membership.Leave(pollTimeout: false);
        _assignment = [];
        _publishedVersion = _membership.AssignmentVersion;
        if (!send)
            return;
        Log.LogInformation("Share group {Group}: member {Member} leaving ({Reason})", Options.GroupId, _membership.MemberId, reason);
        try
        {
            var coordinator = await CoordinatorAsync(token).ConfigureAwait(false);
            await HeartbeatAsync(coordinator, token).ConfigureAwait(false);
        }
        catch (KafkaConnectionException e)
        {
            _membership.OnHeartbeatFailed();
            Log.LogInformation("Share group {Group}: leave failed ({Message}); the session timeout will remove the member", Options.GroupId, e.Message);
        }
    }
}
