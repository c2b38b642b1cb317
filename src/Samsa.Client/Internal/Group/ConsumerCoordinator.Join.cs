using Microsoft.Extensions.Logging;
using Samsa.Client.Assignors;
using Samsa.Client.Internal.Network;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

internal sealed partial class ConsumerCoordinator
{
    /// <summary>
    /// One rebalance from our side: let the application revoke (eager) or give up lost partitions,
    /// JoinGroup, run the assignor if we lead, SyncGroup, and hand the new assignment to the
    /// application. A failed step leaves the member Unjoined and the loop tries again.
    /// </summary>
    private async Task JoinAsync(SubscriptionSnapshot subscription, BrokerNode coordinator, CancellationToken token)
    {
        _rejoinRequested = false;
        if (_lastHanded is { } previous && !previous.Done.Task.IsCompleted)
            await previous.Done.Task.WaitAsync(token).ConfigureAwait(false);
        var before = _membership.PlanBeforeJoin(_mode);
        if (before.Revoked.Count > 0 || before.Lost.Count > 0)
        {
            var handed = Hand(before, setsAssignment: false);
            await handed.Done.Task.WaitAsync(token).ConfigureAwait(false);
        }
        _membership.GaveUp(before);

        var topics = await TopicsToJoinAsync(subscription, token).ConfigureAwait(false);
        _joinedTopics = topics;
        var owned = _mode == RebalanceMode.Cooperative ? _membership.Owned : [];
        var lastAssignment = _membership.PreviousAssignment.Select(TopicPartition.From).ToList();
        var protocols = _assignors.Select(a => new JoinGroupRequest.JoinGroupRequestProtocol
        {
            Name = a.Name,
            Metadata = ConsumerProtocol.EncodeSubscription(topics, owned, _membership.GenerationId, Options.ClientRack,
                a.SubscriptionUserData(lastAssignment, _membership.PreviousGeneration)),
        }).ToList();
        var join = _membership.BeginJoin(protocols);
        // The coordinator parks a JoinGroup until every member rejoined or the rebalance timed out.
        var parked = Options.MaxPollInterval + TimeSpan.FromSeconds(5);
        var joined = await SendParkedAsync<JoinGroupResponse>(coordinator, join, parked, token).ConfigureAwait(false);
        if (joined is null)
            return;
        var step = _membership.OnJoinResponse(joined);
        List<SyncGroupRequest.SyncGroupRequestAssignment> assignments;
        switch (step)
        {
            case GroupStep.SyncAsLeader:
                assignments = await AssignAsync(token).ConfigureAwait(false);
                break;
            case GroupStep.SyncAsFollower:
                assignments = [];
                break;
            default:
                Log.LogDebug("Group {Group}: JoinGroup answered {Error}", Options.GroupId, joined.ErrorCode);
                await FollowAsync(step, token).ConfigureAwait(false);
                return;
        }
        var synced = await SendParkedAsync<SyncGroupResponse>(coordinator, _membership.BeginSync(assignments), parked, token).ConfigureAwait(false);
        if (synced is null)
            return;
        step = _membership.OnSyncResponse(synced);
        if (step != GroupStep.Assigned)
        {
            Log.LogDebug("Group {Group}: SyncGroup answered {Error}", Options.GroupId, synced.ErrorCode);
            await FollowAsync(step, token).ConfigureAwait(false);
            return;
        }
        var (partitions, _) = ConsumerProtocol.DecodeAssignment(_membership.AssignmentBytes);
        var mode = _assignors.FirstOrDefault(a => a.Name == _membership.ProtocolName)?.IsCooperative == true && _mode == RebalanceMode.Cooperative
            ? RebalanceMode.Cooperative
            : RebalanceMode.Eager;
        var after = _membership.PlanAfterSync(mode, partitions);
        _generation = new GenerationInfo(_membership.GenerationId, _membership.MemberId);
        Log.LogInformation("Group {Group}: joined generation {Generation} as {Role} ({Protocol}); assigned {Partitions}",
            Options.GroupId, _membership.GenerationId, _membership.IsLeader ? "leader" : "follower", _membership.ProtocolName,
            string.Join(",", after.Owned.Select(tp => $"{tp.Topic}-{tp.Partition}")));
        _lastHanded = Hand(after, setsAssignment: true);
    }

    /// <summary>Sends a request the coordinator may hold for a whole rebalance; null when the connection failed (the loop finds the coordinator again).</summary>
    private async Task<TResponse?> SendParkedAsync<TResponse>(BrokerNode coordinator, IRequest request, TimeSpan timeout, CancellationToken token)
        where TResponse : class, IResponse, IApiMessage<TResponse>
    {
        try
        {
            var connection = await Cluster.ConnectAsync(coordinator, ConnectionPurpose.Coordinator, token).ConfigureAwait(false);
            return await connection.SendAsync<TResponse>(request, timeout, token).ConfigureAwait(false);
        }
        catch (KafkaConnectionException e)
        {
            Log.LogInformation("Group {Group}: {Api} failed: {Message}", Options.GroupId, request.ApiKey, e.Message);
            _membership.Abandon();
            ForgetCoordinator();
            await DelayAsync(Options.RetryBackoff, token).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The leader's job: decode every member's subscription, read partition counts, run the chosen assignor.</summary>
    private async Task<List<SyncGroupRequest.SyncGroupRequestAssignment>> AssignAsync(CancellationToken token)
    {
        var members = _membership.LeaderMembers.Select(m =>
        {
            var subscription = ConsumerProtocol.DecodeSubscription(m.Metadata);
            var owned = subscription.OwnedPartitions.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p))).ToList();
            return new MemberSubscription(m.MemberId, m.GroupInstanceId, subscription.Topics, owned, subscription.GenerationId, subscription.UserData);
        }).ToList();
        var topics = members.SelectMany(m => m.Topics).Distinct(StringComparer.Ordinal).ToList();
        var metadata = await Cluster.RefreshMetadataAsync(topics, token).ConfigureAwait(false);
        _lastMetadataRefresh = Time.GetTimestamp();
        var counts = metadata.PartitionCounts(topics);
        var assignor = _assignors.First(a => a.Name == _membership.ProtocolName);
        var result = assignor.Assign(counts, members);
        _assignedCounts = counts;
        Log.LogDebug("Group {Group}: leader assigned {Members} members with {Assignor}", Options.GroupId, members.Count, assignor.Name);
        return result.Select(kv => new SyncGroupRequest.SyncGroupRequestAssignment
        {
            MemberId = kv.Key,
            Assignment = ConsumerProtocol.EncodeAssignment(kv.Value.Select(tp => tp.ToTuple()), null),
        }).ToList();
    }

    private async Task<SortedSet<string>> TopicsToJoinAsync(SubscriptionSnapshot subscription, CancellationToken token)
    {
        if (subscription.Pattern is null)
            return new SortedSet<string>(subscription.Topics, StringComparer.Ordinal);
        var metadata = await Cluster.RefreshMetadataAsync(null, token).ConfigureAwait(false);
        _lastMetadataRefresh = Time.GetTimestamp();
        return Matching(subscription, metadata);
    }

    private static SortedSet<string> Matching(SubscriptionSnapshot subscription, ClusterMetadata metadata) =>
        new(metadata.Topics.Keys.Where(t => Consumer.SubscriptionState.Matches(subscription.Pattern!, t)), StringComparer.Ordinal);

    /// <summary>
    /// Every metadata.max.age.ms: a pattern subscription rejoins when the matching topics change;
    /// the leader rejoins when a subscribed topic's partition count changed since it assigned.
    /// </summary>
    private async Task CheckMetadataAsync(SubscriptionSnapshot subscription, CancellationToken token)
    {
        _lastMetadataRefresh = Time.GetTimestamp();
        var metadata = await Cluster.RefreshMetadataAsync(subscription.Pattern is null ? _joinedTopics : null, token).ConfigureAwait(false);
        if (subscription.Pattern is not null && !Matching(subscription, metadata).SetEquals(_joinedTopics))
        {
            _membership.RequestRejoin("the subscription pattern matches a different set of topics");
            return;
        }
        if (_membership.IsLeader)
        {
            var counts = metadata.PartitionCounts(_joinedTopics);
            if (counts.Count != _assignedCounts.Count || counts.Any(c => !_assignedCounts.TryGetValue(c.Key, out int n) || n != c.Value))
                _membership.RequestRejoin("partitions of a subscribed topic changed");
        }
    }
}
