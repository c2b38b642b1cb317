using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Network;

internal sealed record BrokerNode(int Id, string Host, int Port)
{
    public override string ToString() => $"{Host}:{Port} (id {Id})";
}

internal sealed record PartitionMetadata(int Partition, int Leader, int LeaderEpoch, ErrorCode Error);

internal sealed record TopicMetadata(string Name, Guid Id, ErrorCode Error, IReadOnlyList<PartitionMetadata> Partitions);

/// <summary>
/// An immutable snapshot of what the cluster said in its last Metadata response: swapped whole, so
/// the fetcher, the group loop and the application read it without locks.
/// </summary>
internal sealed class ClusterMetadata
{
    public static readonly ClusterMetadata Empty = new([], [], null, -1);

    private readonly Dictionary<Guid, string> _names;

    public ClusterMetadata(Dictionary<int, BrokerNode> brokers, Dictionary<string, TopicMetadata> topics, string? clusterId, int controllerId)
    {
        ControllerId = controllerId;
        Brokers = brokers;
        Topics = topics;
        ClusterId = clusterId;
        _names = topics.Values.Where(t => t.Id != Guid.Empty).ToDictionary(t => t.Id, t => t.Name);
    }

    public IReadOnlyDictionary<int, BrokerNode> Brokers { get; }

    public IReadOnlyDictionary<string, TopicMetadata> Topics { get; }

    public string? ClusterId { get; }

    public int ControllerId { get; }

    public string? TopicName(Guid id) => _names.TryGetValue(id, out var name) ? name : null;

    public Guid TopicId(string topic) => Topics.TryGetValue(topic, out var t) ? t.Id : Guid.Empty;

    public PartitionMetadata? Partition(string topic, int partition) =>
        Topics.TryGetValue(topic, out var t) && partition < t.Partitions.Count && t.Partitions[partition].Partition == partition
            ? t.Partitions[partition]
            : Topics.TryGetValue(topic, out t) ? t.Partitions.FirstOrDefault(p => p.Partition == partition) : null;

    /// <summary>Partition counts of the topics that exist, for the assignors.</summary>
    public Dictionary<string, int> PartitionCounts(IEnumerable<string> topics)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            if (Topics.TryGetValue(topic, out var t) && t.Error == ErrorCode.None && t.Partitions.Count > 0)
                counts[topic] = t.Partitions.Count;
        }
        return counts;
    }

    /// <summary>Merges a response: a refresh of some topics keeps what is known of the others.</summary>
    public ClusterMetadata Merge(MetadataResponse response, bool allTopics)
    {
        var brokers = response.Brokers.ToDictionary(b => b.NodeId, b => new BrokerNode(b.NodeId, b.Host, b.Port));
        var topics = allTopics
            ? new Dictionary<string, TopicMetadata>(StringComparer.Ordinal)
            : new Dictionary<string, TopicMetadata>(Topics, StringComparer.Ordinal);
        foreach (var t in response.Topics)
        {
            if (t.Name is null)
                continue;
            var partitions = t.Partitions
                .OrderBy(p => p.PartitionIndex)
                .Select(p => new PartitionMetadata(p.PartitionIndex, p.LeaderId, p.LeaderEpoch, p.ErrorCode))
                .ToList();
            if (t.ErrorCode == ErrorCode.UnknownTopicOrPartition)
                topics.Remove(t.Name);
            else
                topics[t.Name] = new TopicMetadata(t.Name, t.TopicId, t.ErrorCode, partitions);
        }
        return new ClusterMetadata(brokers, topics, response.ClusterId, response.ControllerId);
    }
}
