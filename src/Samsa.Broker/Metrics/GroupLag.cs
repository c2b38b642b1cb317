using Samsa.Broker.Groups;
using Samsa.Broker.Topics;
using Samsa.Broker.WebConsole;

namespace Samsa.Broker.Metrics;

/// <summary>
/// A group's lag per partition it subscribes to or has committed: log end, committed offset and
/// their difference. Read by the lag gauge and the console's pages alike; it only reads (committed
/// offsets are copied under the shard's lock, log ends are lock-free).
/// </summary>
internal static class GroupLag
{
    public static IReadOnlyList<PartitionLag> Of(GroupCoordinator groups, TopicManager topics, Groups.Runtime.GroupView view)
    {
        var (_, committed) = groups.ShardFor(view.GroupId).FetchOffsets(view.GroupId, null);
        var offsets = committed.ToDictionary(c => new PartitionKey(c.Topic, c.Partition), c => c.Offset?.Offset ?? -1);
        var keys = new SortedSet<PartitionKey>(offsets.Keys);
        foreach (string name in GroupOwnership.SubscribedTopics(view))
        {
            if (topics.TryGet(name, out var topic))
            {
                for (int p = 0; p < topic.Partitions.Length; p++)
                    keys.Add(new PartitionKey(name, p));
            }
        }
        var result = new List<PartitionLag>(keys.Count);
        foreach (var key in keys)
        {
            long end = topics.TryGet(key.Topic, out var topic) && key.Partition < topic.Partitions.Length ? topic.Partitions[key.Partition].LogEndOffset : -1;
            long at = offsets.GetValueOrDefault(key, -1);
            result.Add(new PartitionLag(key, end, at, at >= 0 && end >= 0 ? Math.Max(0, end - at) : null));
        }
        return result;
    }
}
