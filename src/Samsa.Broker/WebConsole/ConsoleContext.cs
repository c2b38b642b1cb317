using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Topics;

namespace Samsa.Broker.WebConsole;

/// <summary>The broker as the Kafka listener presents it, for the front page.</summary>
internal sealed record BrokerInfo(int NodeId, string ClusterId, string Listener, string Advertised, bool Sasl, string DataDirectory);

/// <summary>
/// What the pages read, and only read: topic logs (lock-free), the coordinator's published views,
/// committed offsets (copied under the shard's lock, which nothing here ever changes), and the
/// timeline. No page holds anything that could change broker state.
/// </summary>
internal sealed class ConsoleContext(BrokerInfo broker, TopicManager topics, GroupCoordinator groups, GroupWatcher watcher, TimeProvider time)
{
    public BrokerInfo Broker { get; } = broker;

    public TopicManager Topics { get; } = topics;

    public GroupCoordinator Groups { get; } = groups;

    public GroupWatcher Watcher { get; } = watcher;

    public TimeProvider Time { get; } = time;

    /// <summary>Each group's total lag, sampled by <see cref="SampleLag"/>.</summary>
    public Timeline.LagHistory LagHistory { get; } = new();

    /// <summary>Each topic's produce and consume rates, sampled by <see cref="SampleLag"/>.</summary>
    public Timeline.TopicRates TopicRates { get; } = new();

    /// <summary>
    /// Samples every group's total lag, and every topic's log ends and committed offsets for the
    /// rates (the console's timer calls this every few seconds).
    /// </summary>
    public void SampleLag()
    {
        var now = Time.GetUtcNow();
        var groups = AllGroups.ToList();
        var consumed = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var view in groups)
        {
            var lag = Lag(view);
            LagHistory.Record(view.GroupId, now, lag.Sum(l => l.Lag ?? 0));
            foreach (var p in lag.Where(p => p.Committed >= 0))
                consumed[p.Partition.Topic] = consumed.GetValueOrDefault(p.Partition.Topic) + p.Committed;
        }
        LagHistory.Retain(groups.Select(g => g.GroupId).ToHashSet(StringComparer.Ordinal));
        var topics = UserTopics.ToList();
        foreach (var topic in topics)
            TopicRates.Record(topic.Name, now, topic.Partitions.Sum(p => p.LogEndOffset), consumed.GetValueOrDefault(topic.Name));
        TopicRates.Retain(topics.Select(t => t.Name).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Where the console itself listens, once Kestrel bound it.</summary>
    public string UiAddress { get; set; } = "";

    public IEnumerable<Topic> UserTopics => Topics.All.Where(t => !t.IsInternal).OrderBy(t => t.Name, StringComparer.Ordinal);

    public IEnumerable<GroupView> AllGroups => Groups.Views.Values.OrderBy(g => g.GroupId, StringComparer.Ordinal);

    /// <summary>Per partition the group subscribes to or has committed: log end, committed offset and lag.</summary>
    public IReadOnlyList<PartitionLag> Lag(GroupView view) => Metrics.GroupLag.Of(Groups, Topics, view);

    /// <summary>Partitions of the topics the group subscribes to, in order: the boxes of the picture.</summary>
    public IReadOnlyList<PartitionKey> PartitionsOf(GroupView view)
    {
        var keys = new SortedSet<PartitionKey>();
        foreach (string name in GroupOwnership.SubscribedTopics(view))
        {
            if (Topics.TryGet(name, out var topic))
            {
                for (int p = 0; p < topic.Partitions.Length; p++)
                    keys.Add(new PartitionKey(name, p));
            }
        }
        foreach (var m in GroupOwnership.Of(view))
            keys.UnionWith(m.Holding.Concat(m.Incoming));
        return [.. keys];
    }
}

/// <summary>Committed -1: the group has no offset for the partition (Lag null).</summary>
internal sealed record PartitionLag(PartitionKey Partition, long LogEnd, long Committed, long? Lag);
