using System.Diagnostics.Metrics;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Metrics;

namespace Samsa.Broker.WebConsole;

/// <summary>
/// Gauges computed when /metrics is scraped, from the same read-only sources as the pages:
/// partitions and topics, members per group, and lag per group and partition.
/// </summary>
internal static class ConsoleGauges
{
    public static void Register(BrokerMetrics metrics, ConsoleContext c)
    {
        metrics.ObserveGauge("samsa.broker.topics", "{topic}", "Topics, internal ones included.",
            () => [new Measurement<long>(c.Topics.All.LongCount())]);
        metrics.ObserveGauge("samsa.broker.partitions", "{partition}", "Partitions of all topics, internal ones included.",
            () => [new Measurement<long>(c.Topics.All.Sum(t => (long)t.Partitions.Length))]);
        metrics.ObserveGauge("samsa.group.members", "{member}", "Members per group.",
            () => c.AllGroups.Select(g => new Measurement<long>(g.Members.Count, Group(g), Type(g))).ToList());
        metrics.ObserveGauge("samsa.group.lag", "{message}", "Log end offset minus the group's committed offset, per partition with a commit.",
            () => Lag(c));
    }

    private static List<Measurement<long>> Lag(ConsoleContext c)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var view in c.AllGroups)
        {
            foreach (var lag in c.Lag(view))
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
