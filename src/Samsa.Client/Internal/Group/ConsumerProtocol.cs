using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Group;

/// <summary>
/// The "consumer" protocol type's embedded bytes: what a member says it wants (subscription, sent
/// in JoinGroup) and what the leader gives it (assignment, received in SyncGroup).
/// </summary>
internal static class ConsumerProtocol
{
    /// <summary>v3: owned partitions (KIP-429), generation and rack. Every broker passes these bytes through untouched.</summary>
    public const short SubscriptionVersion = 3;

    public const short AssignmentVersion = 3;

    public static byte[] EncodeSubscription(
        IEnumerable<string> topics,
        IEnumerable<(string Topic, int Partition)> owned,
        int generationId,
        string? rackId,
        byte[]? userData)
    {
        var message = new ConsumerProtocolSubscription
        {
            Topics = topics.Order(StringComparer.Ordinal).ToList(),
            UserData = userData,
            OwnedPartitions = GroupByTopic(owned)
                .Select(g => new ConsumerProtocolSubscription.TopicPartition { Topic = g.Key, Partitions = g.Value })
                .ToList(),
            GenerationId = generationId,
            RackId = rackId,
        };
        return VersionedData.Write(message, SubscriptionVersion);
    }

    public static ConsumerProtocolSubscription DecodeSubscription(ReadOnlyMemory<byte> bytes) =>
        VersionedData.Read<ConsumerProtocolSubscription>(bytes, out _) ?? new ConsumerProtocolSubscription();

    public static byte[] EncodeAssignment(IEnumerable<(string Topic, int Partition)> assigned, byte[]? userData)
    {
        var message = new ConsumerProtocolAssignment
        {
            AssignedPartitions = GroupByTopic(assigned)
                .Select(g => new ConsumerProtocolAssignment.TopicPartition { Topic = g.Key, Partitions = g.Value })
                .ToList(),
            UserData = userData,
        };
        return VersionedData.Write(message, AssignmentVersion);
    }

    /// <summary>Decodes an assignment; empty bytes (a member the leader gave nothing) mean no partitions.</summary>
    public static (List<(string Topic, int Partition)> Partitions, byte[]? UserData) DecodeAssignment(ReadOnlyMemory<byte> bytes)
    {
        var message = VersionedData.Read<ConsumerProtocolAssignment>(bytes, out _);
        if (message is null)
            return ([], null);
        var partitions = new List<(string, int)>();
        foreach (var topic in message.AssignedPartitions)
        {
            foreach (int p in topic.Partitions)
                partitions.Add((topic.Topic, p));
        }
        return (partitions, message.UserData);
    }

    private static SortedDictionary<string, List<int>> GroupByTopic(IEnumerable<(string Topic, int Partition)> partitions)
    {
        var byTopic = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var (topic, partition) in partitions)
        {
            if (!byTopic.TryGetValue(topic, out var list))
                byTopic[topic] = list = [];
            list.Add(partition);
        }
        foreach (var list in byTopic.Values)
            list.Sort();
        return byTopic;
    }
}
