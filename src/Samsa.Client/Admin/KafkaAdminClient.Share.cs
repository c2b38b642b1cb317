using Samsa.Client.Internal;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

/// <summary>Share groups (KIP-932): describing them and their progress, as Kafka's Admin.describeShareGroups and listShareGroupOffsets.</summary>
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
