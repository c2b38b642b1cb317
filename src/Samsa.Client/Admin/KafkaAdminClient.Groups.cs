using Samsa.Client.Internal;
using Samsa.Client.Internal.Group;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

public sealed partial class KafkaAdminClient
{
    /// <summary>Every group on every broker, optionally only those in the given states (Stable, Empty, ...).</summary>
    public Task<IReadOnlyList<GroupListing>> ListGroupsAsync(IEnumerable<string>? states = null, CancellationToken cancellationToken = default) =>
        ListGroupsAsync(states, null, cancellationToken);

    /// <summary>
    /// Every group on every broker with its type and state, optionally only those in the given
    /// states and of the given types (as Kafka's Admin.listGroups). States filter on the broker from
    /// ListGroups v4 and here before; a type filter needs ListGroups v5 (Kafka 3.7+), and an older
    /// broker, which lists groups without their type, fails it with
    /// <see cref="Errors.UnsupportedVersionException"/>, as Kafka's admin client does.
    /// </summary>
    public async Task<IReadOnlyList<GroupListing>> ListGroupsAsync(IEnumerable<string>? states, IEnumerable<GroupType>? types, CancellationToken cancellationToken = default)
    {
        var typeNames = (types ?? []).Distinct().Select(t => t switch
        {
            GroupType.Classic => "classic",
            GroupType.Consumer => "consumer",
            GroupType.Share => "share",
            _ => throw new ArgumentException($"Cannot filter groups by type {t}: give Classic, Consumer or Share.", nameof(types)),
        }).ToList();
        var metadata = await _cluster.RefreshMetadataAsync([], cancellationToken).ConfigureAwait(false);
        var request = new ListGroupsRequest { StatesFilter = states?.ToList() ?? [], TypesFilter = typeNames };
        var groups = new List<GroupListing>();
        foreach (var node in metadata.Brokers.Values)
        {
            var connection = await _cluster.ConnectAsync(node, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
            if (typeNames.Count > 0 && (!connection.TryGetVersion(ApiKey.ListGroups, out short version) || version < 5))
                throw new Errors.UnsupportedVersionException($"{node} lists groups without their type (ListGroups v{version} < v5, before Kafka 3.7): it cannot filter them by type.");
            var response = await connection.SendAsync<ListGroupsResponse>(request, cancellationToken).ConfigureAwait(false);
            ThrowFirst([(response.ErrorCode, null, $"listing groups on {node}")]);
            groups.AddRange(response.Groups.Select(g => new GroupListing(g.GroupId, g.GroupState, g.ProtocolType) { Type = ParseType(g.GroupType) }));
        }
        // Brokers before ListGroups v4 ignore the state filter.
        var wanted = request.StatesFilter.Count == 0 ? null : request.StatesFilter.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return groups.Where(g => wanted is null || g.State.Length == 0 || wanted.Contains(g.State)).OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Describes a group of either type, as Kafka's Admin.describeConsumerGroups: ConsumerGroupDescribe
    /// first (epochs, the server-side assignor, each member's epoch, current and target assignment),
    /// then, when the group is not a consumer group (GROUP_ID_NOT_FOUND) or the broker does not have
    /// the API (UNSUPPORTED_VERSION, before Kafka 3.7), DescribeGroups (the chosen protocol and the
    /// decoded assignments of a Stable classic group). A group that neither knows is
    /// <see cref="Errors.GroupNotFoundException"/> (DescribeGroups v6+) or "Dead" (older brokers).
    /// </summary>
    public async Task<GroupDescription> DescribeGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var coordinator = await _cluster.FindCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
        var connection = await _cluster.ConnectAsync(coordinator, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
        if (connection.TryGetVersion(ApiKey.ConsumerGroupDescribe, out _))
        {
            var response = await connection.SendAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeRequest { GroupIds = [groupId] }, cancellationToken).ConfigureAwait(false);
            var described = response.Groups.Single();
            if (described.ErrorCode is not (ErrorCode.GroupIdNotFound or ErrorCode.UnsupportedVersion))
            {
                ThrowFirst([(described.ErrorCode, described.ErrorMessage, $"group {groupId}")]);
                return ConsumerGroup(described);
            }
        }
        var classic = await connection.SendAsync<DescribeGroupsResponse>(new DescribeGroupsRequest { Groups = [groupId] }, cancellationToken).ConfigureAwait(false);
        var group = classic.Groups.Single();
        ThrowFirst([(group.ErrorCode, group.ErrorMessage, $"group {groupId}")]);
        bool consumer = group.ProtocolType == "consumer";
        return new GroupDescription(group.GroupId, group.GroupState, group.ProtocolType, group.ProtocolData,
            group.Members.Select(m => ClassicMember(m, consumer)).ToList())
        {
            Type = GroupType.Classic,
        };
    }

    /// <summary>A classic member, with the assignment and subscription its consumer client encoded (sent only while the group is Stable).</summary>
    private static GroupMemberDescription ClassicMember(DescribeGroupsResponse.DescribedGroupMember m, bool consumer)
    {
        List<TopicPartition> assignment = [];
        ConsumerProtocolSubscription? subscription = null;
        if (consumer)
        {
            try
            {
                if (m.MemberAssignment.Length > 0)
                    assignment = ConsumerProtocol.DecodeAssignment(m.MemberAssignment).Partitions.Select(TopicPartition.From).OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition).ToList();
                if (m.MemberMetadata.Length > 0)
                    subscription = ConsumerProtocol.DecodeSubscription(m.MemberMetadata);
            }
            catch (ProtocolException)
            {
                // Not readable as the consumer protocol: shown without it.
            }
        }
        return new GroupMemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, assignment)
        {
            SubscribedTopics = subscription is null ? [] : [.. subscription.Topics.Order(StringComparer.Ordinal)],
            RackId = subscription?.RackId,
        };
    }

    private GroupDescription ConsumerGroup(ConsumerGroupDescribeResponse.DescribedGroup group) =>
        new(group.GroupId, group.GroupState, "consumer", group.AssignorName,
            group.Members.Select(m => new GroupMemberDescription(m.MemberId, m.InstanceId, m.ClientId, m.ClientHost, Partitions(m.Assignment))
            {
                MemberEpoch = m.MemberEpoch,
                TargetAssignment = Partitions(m.TargetAssignment),
                SubscribedTopics = [.. m.SubscribedTopicNames.Order(StringComparer.Ordinal)],
                SubscribedTopicRegex = m.SubscribedTopicRegex,
                RackId = m.RackId,
            }).ToList())
        {
            Type = GroupType.Consumer,
            GroupEpoch = group.GroupEpoch,
            AssignmentEpoch = group.AssignmentEpoch,
        };

    private List<TopicPartition> Partitions(ConsumerGroupDescribeResponse.Assignment assignment) =>
        Partitions(assignment.TopicPartitions.Select(t => (t.TopicId, t.TopicName, t.Partitions)));

    private static GroupType ParseType(string type) => type.ToLowerInvariant() switch
    {
        "classic" => GroupType.Classic,
        "consumer" => GroupType.Consumer,
        "share" => GroupType.Share,
        _ => GroupType.Unknown,
    };

    /// <summary>Deletes empty groups with their committed offsets.</summary>
    public async Task DeleteGroupsAsync(IEnumerable<string> groupIds, CancellationToken cancellationToken = default)
    {
        foreach (var groupId in groupIds)
        {
            var response = await ToCoordinatorAsync<DeleteGroupsResponse>(groupId, new DeleteGroupsRequest { GroupsNames = [groupId] }, cancellationToken).ConfigureAwait(false);
            ThrowFirst(response.Results.Select(r => (r.ErrorCode, (string?)null, $"group {r.GroupId}")));
        }
    }

    /// <summary>The group's committed offsets with each partition's log-end offset and lag (kafka-consumer-groups.sh --describe).</summary>
    public async Task<IReadOnlyList<PartitionLag>> ListGroupOffsetsAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var committed = await CommittedAsync(groupId, cancellationToken).ConfigureAwait(false);
        // Partitions a member owns but never committed count too.
        var described = await DescribeGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
        var partitions = committed.Keys.Concat(described.Members.SelectMany(m => m.Assignment)).Distinct().ToList();
        var ends = await OffsetLookup.ListOffsetsAsync(_cluster, false, _options.RequestTimeout, _options.RetryBackoff,
            partitions.Select(p => (p, -1L)), cancellationToken).ConfigureAwait(false);
        return partitions
            .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition)
            .Select(p => new PartitionLag(p, committed.TryGetValue(p, out long c) ? c : null, ends.TryGetValue(p, out var e) && e is not null ? e.Offset : 0))
            .ToList();
    }

    /// <summary>
    /// Works out where <paramref name="spec"/> moves the group's offsets for these topics (all the
    /// group's committed topics when null) and, with <paramref name="execute"/>, commits them. Like
    /// Kafka, only an empty group can be changed. Returns the plan: partition → new offset.
    /// </summary>
    public async Task<IReadOnlyDictionary<TopicPartition, long>> ResetGroupOffsetsAsync(string groupId, OffsetResetSpec spec, IEnumerable<string>? topics, bool execute, CancellationToken cancellationToken = default)
    {
        var group = await DescribeGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
        if (execute && group.State is not ("Empty" or "Dead"))
            throw new Errors.GroupNotEmptyException($"Group {groupId} is {group.State} with {group.Members.Count} member(s): stop its consumers before resetting its offsets.");
        var committed = await CommittedAsync(groupId, cancellationToken).ConfigureAwait(false);
        var partitions = await ResetPartitionsAsync(topics, committed, cancellationToken).ConfigureAwait(false);
        var target = await PlanResetAsync(partitions, spec, committed, cancellationToken).ConfigureAwait(false);
        if (execute && target.Count > 0)
            await CommitAsync(groupId, target, cancellationToken).ConfigureAwait(false);
        return target;
    }

    /// <summary>The partitions of <paramref name="topics"/>, or those of <paramref name="current"/> when null.</summary>
    private async Task<List<TopicPartition>> ResetPartitionsAsync(IEnumerable<string>? topics, Dictionary<TopicPartition, long> current, CancellationToken cancellationToken)
    {
        if (topics is null)
            return [.. current.Keys];
        var described = await DescribeTopicsAsync(topics, cancellationToken: cancellationToken).ConfigureAwait(false);
        return described.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p.Partition))).ToList();
    }

    /// <summary>Where <paramref name="spec"/> moves each partition from <paramref name="current"/> (the earliest offset where there is none), clamped into the log.</summary>
    private async Task<Dictionary<TopicPartition, long>> PlanResetAsync(List<TopicPartition> partitions, OffsetResetSpec spec, Dictionary<TopicPartition, long> current, CancellationToken cancellationToken)
    {
        var earliest = await EdgesAsync(partitions, -2, cancellationToken).ConfigureAwait(false);
        var latest = await EdgesAsync(partitions, -1, cancellationToken).ConfigureAwait(false);
        Dictionary<TopicPartition, long> target;
        switch (spec)
        {
            case OffsetResetSpec.ToEarliest:
                target = earliest;
                break;
            case OffsetResetSpec.ToLatest:
                target = latest;
                break;
            case OffsetResetSpec.ToOffset to:
                target = partitions.ToDictionary(p => p, _ => to.Offset);
                break;
            case OffsetResetSpec.ShiftBy shift:
                target = partitions.ToDictionary(p => p, p => (current.TryGetValue(p, out long c) ? c : earliest[p]) + shift.Delta);
                break;
            case OffsetResetSpec.ToDateTime at:
                var found = await OffsetLookup.ListOffsetsAsync(_cluster, false, _options.RequestTimeout, _options.RetryBackoff,
                    partitions.Select(p => (p, at.Time.ToUnixTimeMilliseconds())), cancellationToken).ConfigureAwait(false);
                target = partitions.ToDictionary(p => p, p => found.TryGetValue(p, out var f) && f is not null ? f.Offset : latest[p]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(spec));
        }
        // Clamp into the log, as kafka-consumer-groups.sh does.
        return target.ToDictionary(t => t.Key, t => Math.Clamp(t.Value, earliest[t.Key], latest[t.Key]));
    }

    /// <summary>Commits offsets for an empty group (Kafka refuses them for a group with members).</summary>
    public async Task AlterGroupOffsetsAsync(string groupId, IReadOnlyDictionary<TopicPartition, long> offsets, CancellationToken cancellationToken = default)
    {
        var group = await DescribeGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
        if (group.State is not ("Empty" or "Dead"))
            throw new Errors.GroupNotEmptyException($"Group {groupId} is {group.State} with {group.Members.Count} member(s): stop its consumers before changing its offsets.");
        await CommitAsync(groupId, offsets, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes static members by group.instance.id (LeaveGroup v3+): their partitions move at once instead of after the session timeout.</summary>
    public async Task RemoveMembersAsync(string groupId, IEnumerable<string> groupInstanceIds, CancellationToken cancellationToken = default)
    {
        var request = new LeaveGroupRequest
        {
            GroupId = groupId,
            Members = groupInstanceIds.Select(id => new LeaveGroupRequest.MemberIdentity { MemberId = "", GroupInstanceId = id, Reason = "removed by an administrator" }).ToList(),
        };
        var response = await ToCoordinatorAsync<LeaveGroupResponse>(groupId, request, cancellationToken).ConfigureAwait(false);
        ThrowFirst([(response.ErrorCode, null, $"group {groupId}")]);
        ThrowFirst(response.Members.Select(m => (m.ErrorCode, (string?)null, $"member {m.GroupInstanceId} of group {groupId}")));
    }

    private async Task<Dictionary<TopicPartition, long>> CommittedAsync(string groupId, CancellationToken cancellationToken)
    {
        var request = new OffsetFetchRequest
        {
            GroupId = groupId,
            Topics = null,
            Groups = [new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = groupId, Topics = null }],
        };
        // v10 names topics only by id, which we may not know for "all topics": ask with v9 at most.
        var coordinator = await _cluster.FindCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
        var connection = await _cluster.ConnectAsync(coordinator, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
        connection.TryGetVersion(ApiKey.OffsetFetch, out short version);
        var response = await connection.SendAsync<OffsetFetchResponse>(request, Math.Min(version, (short)9), cancellationToken).ConfigureAwait(false);
        var committed = new Dictionary<TopicPartition, TopicPartitionOffset?>();
        ThrowFirst([(OffsetLookup.ReadCommitted(response, _cluster.Metadata, committed), null, $"group {groupId}")]);
        return committed.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!.Value.Offset);
    }

    private async Task CommitAsync(string groupId, IReadOnlyDictionary<TopicPartition, long> offsets, CancellationToken cancellationToken)
    {
        var request = new OffsetCommitRequest
        {
            GroupId = groupId,
            GenerationIdOrMemberEpoch = -1,
            MemberId = "",
            Topics = offsets.GroupBy(o => o.Key.Topic, StringComparer.Ordinal).Select(t => new OffsetCommitRequest.OffsetCommitRequestTopic
            {
                Name = t.Key,
                Partitions = t.Select(p => new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = p.Key.Partition, CommittedOffset = p.Value }).ToList(),
            }).ToList(),
        };
        var coordinator = await _cluster.FindCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
        var connection = await _cluster.ConnectAsync(coordinator, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
        connection.TryGetVersion(ApiKey.OffsetCommit, out short version);
        var response = await connection.SendAsync<OffsetCommitResponse>(request, Math.Min(version, (short)9), cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Topics.SelectMany(t => t.Partitions.Select(p => (p.ErrorCode, (string?)null, $"{t.Name}-{p.PartitionIndex} of group {groupId}"))));
    }

    private async Task<Dictionary<TopicPartition, long>> EdgesAsync(List<TopicPartition> partitions, long which, CancellationToken cancellationToken)
    {
        var found = await OffsetLookup.ListOffsetsAsync(_cluster, false, _options.RequestTimeout, _options.RetryBackoff,
            partitions.Select(p => (p, which)), cancellationToken).ConfigureAwait(false);
        return partitions.ToDictionary(p => p, p => found.TryGetValue(p, out var f) && f is not null ? f.Offset : 0);
    }

    private async Task<TResponse> ToCoordinatorAsync<TResponse>(string groupId, IRequest request, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var coordinator = await _cluster.FindCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
        return await _cluster.SendAsync<TResponse>(coordinator, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
    }
}
