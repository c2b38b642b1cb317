using Samsa.Client.Internal;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

/// <summary>Share groups (KIP-932): describing them and their progress, moving or forgetting their start offsets, deleting them (Kafka's Admin share-group methods).</summary>
public sealed partial class KafkaAdminClient
{
    /// <summary>
    /// Describes a share group with ShareGroupDescribe: its state (Empty, Stable), epochs, the
    /// server-side assignor and each member's epoch, subscription and assignment (with share
    /// groups, several members may be assigned the same partition). A group id that is not a share
    /// group is <see cref="Errors.GroupNotFoundException"/>; a broker without share groups (before
    /// Kafka 4.1, or share.version=0) is <see cref="Errors.UnsupportedVersionException"/>.
    /// </summary>
    public async Task<GroupDescription> DescribeShareGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var connection = await ShareCoordinatorConnectionAsync(groupId, ApiKey.ShareGroupDescribe, cancellationToken).ConfigureAwait(false);
        var response = await connection.SendAsync<ShareGroupDescribeResponse>(new ShareGroupDescribeRequest { GroupIds = [groupId] }, cancellationToken).ConfigureAwait(false);
        var group = response.Groups.Single();
        ThrowFirst([(group.ErrorCode, group.ErrorMessage, $"share group {groupId}")]);
        return new GroupDescription(group.GroupId, group.GroupState, "share", group.AssignorName,
            group.Members.Select(m => new GroupMemberDescription(m.MemberId, null, m.ClientId, m.ClientHost,
                Partitions(m.Assignment.TopicPartitions.Select(t => (t.TopicId, t.TopicName, t.Partitions))))
            {
                MemberEpoch = m.MemberEpoch,
                SubscribedTopics = [.. m.SubscribedTopicNames.Order(StringComparer.Ordinal)],
                RackId = m.RackId,
            }).ToList())
        {
            Type = GroupType.Share,
            GroupEpoch = group.GroupEpoch,
            AssignmentEpoch = group.AssignmentEpoch,
        };
    }

    /// <summary>
    /// A share group's progress on every partition it has state for (DescribeShareGroupOffsets,
    /// all topics): the share-partition start offset and, from v1 (KIP-1226), the lag, next to
    /// each partition's log-end offset (ListOffsets). Partitions of a topic deleted since are left
    /// out. Errors as <see cref="DescribeShareGroupAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<SharePartitionOffsets>> ListShareGroupOffsetsAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var connection = await ShareCoordinatorConnectionAsync(groupId, ApiKey.DescribeShareGroupOffsets, cancellationToken).ConfigureAwait(false);
        var request = new DescribeShareGroupOffsetsRequest
        {
            Groups = [new DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup { GroupId = groupId, Topics = null }],
        };
        var response = await connection.SendAsync<DescribeShareGroupOffsetsResponse>(request, cancellationToken).ConfigureAwait(false);
        var group = response.Groups.Single();
        ThrowFirst([(group.ErrorCode, group.ErrorMessage, $"share group {groupId}")]);
        ThrowFirst(group.Topics.SelectMany(t => t.Partitions.Select(p => (p.ErrorCode, p.ErrorMessage, $"{t.TopicName}-{p.PartitionIndex} of share group {groupId}"))));
        var states = new List<(TopicPartition Partition, long? Start, long? Lag)>();
        foreach (var topic in group.Topics)
        {
            string? name = topic.TopicName.Length > 0 ? topic.TopicName : _cluster.Metadata.TopicName(topic.TopicId);
            if (string.IsNullOrEmpty(name))
                continue;
            // -1: the partition has no state yet (or, for the lag, the broker does not know it).
            foreach (var p in topic.Partitions)
                states.Add((new TopicPartition(name, p.PartitionIndex), p.StartOffset >= 0 ? p.StartOffset : null, p.StartOffset >= 0 && p.Lag >= 0 ? p.Lag : null));
        }
        var ends = await OffsetLookup.ListOffsetsAsync(_cluster, false, _options.RequestTimeout, _options.RetryBackoff,
            states.Select(s => (s.Partition, -1L)), cancellationToken).ConfigureAwait(false);
        return states
            .Where(s => ends.TryGetValue(s.Partition, out var e) && e is not null)
            .OrderBy(s => s.Partition.Topic, StringComparer.Ordinal).ThenBy(s => s.Partition.Partition)
            .Select(s => new SharePartitionOffsets(s.Partition, s.Start, s.Lag, ends[s.Partition]!.Offset))
            .ToList();
    }

    /// <summary>
    /// Sets an empty share group's start offsets (AlterShareGroupOffsets, Kafka's
    /// Admin.alterShareGroupOffsets; kafka-share-groups.sh --reset-offsets): delivery of each
    /// partition starts over at its offset, and what was in flight there is forgotten. The group
    /// must have no members (<see cref="Errors.GroupNotEmptyException"/>); an id that is not a share
    /// group is <see cref="Errors.GroupNotFoundException"/>, a partition that does not exist
    /// UNKNOWN_TOPIC_OR_PARTITION. An offset below the log start starts at the log start.
    /// </summary>
    public async Task AlterShareGroupOffsetsAsync(string groupId, IReadOnlyDictionary<TopicPartition, long> startOffsets, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        ArgumentNullException.ThrowIfNull(startOffsets);
        foreach (var (partition, offset) in startOffsets)
        {
            if (offset < 0)
                throw new ArgumentOutOfRangeException(nameof(startOffsets), offset, $"The start offset of {partition} is negative.");
        }
        if (startOffsets.Count == 0)
            return;
        var connection = await ShareCoordinatorConnectionAsync(groupId, ApiKey.AlterShareGroupOffsets, cancellationToken).ConfigureAwait(false);
        var request = new AlterShareGroupOffsetsRequest
        {
            GroupId = groupId,
            Topics = startOffsets.GroupBy(o => o.Key.Topic, StringComparer.Ordinal).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new AlterShareGroupOffsetsRequest.AlterShareGroupOffsetsRequestTopic
            {
                TopicName = t.Key,
                Partitions = t.OrderBy(p => p.Key.Partition).Select(p => new AlterShareGroupOffsetsRequest.AlterShareGroupOffsetsRequestPartition
                {
                    PartitionIndex = p.Key.Partition,
                    StartOffset = p.Value,
                }).ToList(),
            }).ToList(),
        };
        var response = await connection.SendAsync<AlterShareGroupOffsetsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst([(response.ErrorCode, response.ErrorMessage, $"share group {groupId}")]);
        ThrowFirst(response.Responses.SelectMany(t => t.Partitions.Select(p => (p.ErrorCode, p.ErrorMessage, $"{t.TopicName}-{p.PartitionIndex} of share group {groupId}"))));
    }

    /// <summary>
    /// Works out where <paramref name="spec"/> moves the share group's start offsets for these
    /// topics (every partition the group has state for when null; a shift counts from the current
    /// start offset, or the log start where there is none) and, with <paramref name="execute"/>,
    /// sets them with <see cref="AlterShareGroupOffsetsAsync"/> (kafka-share-groups.sh
    /// --reset-offsets). Only an empty share group can be changed. Returns the plan.
    /// </summary>
    public async Task<IReadOnlyDictionary<TopicPartition, long>> ResetShareGroupOffsetsAsync(string groupId, OffsetResetSpec spec, IEnumerable<string>? topics, bool execute, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var group = await DescribeShareGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
        if (execute && group.Members.Count > 0)
            throw new Errors.GroupNotEmptyException($"Share group {groupId} is {group.State} with {group.Members.Count} member(s): stop its consumers before resetting its offsets.");
        var current = (await ListShareGroupOffsetsAsync(groupId, cancellationToken).ConfigureAwait(false))
            .Where(o => o.StartOffset is not null)
            .ToDictionary(o => o.Partition, o => o.StartOffset!.Value);
        var partitions = await ResetPartitionsAsync(topics, current, cancellationToken).ConfigureAwait(false);
        var target = await PlanResetAsync(partitions, spec, current, cancellationToken).ConfigureAwait(false);
        if (execute && target.Count > 0)
            await AlterShareGroupOffsetsAsync(groupId, target, cancellationToken).ConfigureAwait(false);
        return target;
    }

    /// <summary>
    /// Forgets an empty share group's state for whole topics (DeleteShareGroupOffsets, Kafka's
    /// Admin.deleteShareGroupOffsets; kafka-share-groups.sh --delete-offsets): the next member
    /// starts them from share.auto.offset.reset. Errors as <see cref="AlterShareGroupOffsetsAsync"/>;
    /// a topic the group has no state for is UNKNOWN_TOPIC_OR_PARTITION.
    /// </summary>
    public async Task DeleteShareGroupOffsetsAsync(string groupId, IEnumerable<string> topics, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        ArgumentNullException.ThrowIfNull(topics);
        var names = topics.Distinct(StringComparer.Ordinal).ToList();
        if (names.Any(string.IsNullOrEmpty))
            throw new ArgumentException("Topic names must not be empty.", nameof(topics));
        if (names.Count == 0)
            return;
        var connection = await ShareCoordinatorConnectionAsync(groupId, ApiKey.DeleteShareGroupOffsets, cancellationToken).ConfigureAwait(false);
        var request = new DeleteShareGroupOffsetsRequest
        {
            GroupId = groupId,
            Topics = names.Select(n => new DeleteShareGroupOffsetsRequest.DeleteShareGroupOffsetsRequestTopic { TopicName = n }).ToList(),
        };
        var response = await connection.SendAsync<DeleteShareGroupOffsetsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst([(response.ErrorCode, response.ErrorMessage, $"share group {groupId}")]);
        ThrowFirst(response.Responses.Select(t => (t.ErrorCode, t.ErrorMessage, $"topic {t.TopicName} of share group {groupId}")));
    }

    /// <summary>
    /// Deletes empty share groups and their share state (Kafka's Admin.deleteShareGroups, by
    /// DeleteGroups). Each id is first described as a share group, so an id naming a classic or
    /// consumer group is <see cref="Errors.GroupNotFoundException"/> and is left alone; a group with
    /// members is <see cref="Errors.GroupNotEmptyException"/>.
    /// </summary>
    public async Task DeleteShareGroupsAsync(IEnumerable<string> groupIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupIds);
        foreach (var groupId in groupIds)
        {
            await DescribeShareGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
            await DeleteGroupsAsync([groupId], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A connection to the group's coordinator, which must serve <paramref name="api"/> (a share-group API).</summary>
    private async Task<BrokerConnection> ShareCoordinatorConnectionAsync(string groupId, ApiKey api, CancellationToken cancellationToken)
    {
        var coordinator = await _cluster.FindCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
        var connection = await _cluster.ConnectAsync(coordinator, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
        if (!connection.TryGetVersion(api, out _))
            throw new Errors.UnsupportedVersionException($"{coordinator} does not serve share groups ({api} is not among its APIs: Kafka before 4.1, or share.version=0).");
        return connection;
    }

    /// <summary>Partitions by topic name; by the cached metadata's name for the id when the broker sent none, and left out when neither knows it (a deleted topic).</summary>
    private List<TopicPartition> Partitions(IEnumerable<(Guid TopicId, string TopicName, List<int> Partitions)> topics) =>
        topics
            .Select(t => (Name: t.TopicName.Length > 0 ? t.TopicName : _cluster.Metadata.TopicName(t.TopicId), t.Partitions))
            .Where(t => !string.IsNullOrEmpty(t.Name))
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name!, p)))
            .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition)
            .ToList();
}
