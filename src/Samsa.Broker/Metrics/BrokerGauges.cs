using System.Diagnostics.Metrics;
using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Topics;

namespace Samsa.Broker.Metrics;

/// <summary>
/// Gauges computed when a reader collects (a /metrics scrape, an exporter's interval), from
/// read-only sources: topics and partitions, members per group, and lag per group and partition
/// (the coordinator's committed offsets against each partition's log end).
/// </summary>
internal static class BrokerGauges
{
    public static void Register(BrokerMetrics metrics, TopicManager topics, GroupCoordinator groups)
    {
        metrics.ObserveGauge("samsa.broker.topics", "{topic}", "Topics, internal ones included.",
            () => [new Measurement<long>(topics.All.LongCount())]);
        metrics.ObserveGauge("samsa.broker.partitions", "{partition}", "Partitions of all topics, internal ones included.",
            () => [new Measurement<long>(topics.All.Sum(t => (long)t.Partitions.Length))]);
        metrics.ObserveGauge("samsa.group.members", "{member}", "Members per group.",
            () => groups.Views.Values.Select(g => new Measurement<long>(g.Members.Count, Group(g), Type(g))).ToList());
        metrics.ObserveGauge("samsa.group.lag", "{message}", "Log end offset minus the group's committed offset, per partition with a commit.",
            () => Lag(topics, groups));
    }

    private static List<Measurement<long>> Lag(TopicManager topics, GroupCoordinator groups)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var view in groups.Views.Values)
        {
            foreach (var lag in GroupLag.Of(groups, topics, view))
            {
                if (lag.Lag is { } n)
                    measurements.Add(new Measurement<long>(n, Group(view), new("topic", lag.Partition.Topic), new("partition", lag.Partition.Partition)));
            }
        }
        return measurements;
    }

    private static KeyValuePair<string, object?> Group(GroupView g) => new("group", g.GroupId);

    private static KeyValuePair<string, object?> Type(GroupView g) => new("type", GroupTypes.Name(g.Type));
}
