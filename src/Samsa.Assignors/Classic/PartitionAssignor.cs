namespace Samsa.Client.Assignors;

/// <summary>What one member told the group in JoinGroup (the consumer protocol's subscription).</summary>
public sealed record MemberSubscription(
    string MemberId,
    string? GroupInstanceId,
    IReadOnlyList<string> Topics,
    IReadOnlyList<TopicPartition> OwnedPartitions,
    int Generation = -1,
    byte[]? UserData = null);

/// <summary>
/// Computes the group's assignment on the leader. Names are the protocol names Kafka clients use,
/// so a group can mix our consumers with Java or librdkafka ones.
/// </summary>
public interface IPartitionAssignor
{
    string Name { get; }

    /// <summary>True for assignors that follow KIP-429 (incremental cooperative rebalancing).</summary>
    bool IsCooperative { get; }

    IReadOnlyDictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members);

    /// <summary>Extra bytes this member sends in its subscription (Kafka's eager StickyAssignor sends its previous assignment).</summary>
    byte[]? SubscriptionUserData(IReadOnlyCollection<TopicPartition> previousAssignment, int generation) => null;
}

public static class PartitionAssignors
{
    public static IPartitionAssignor Create(string name) => name switch
    {
        "range" => new RangeAssignor(),
        "roundrobin" => new RoundRobinAssignor(),
        "sticky" => new StickyAssignor(),
        "cooperative-sticky" => new CooperativeStickyAssignor(),
        _ => throw new ArgumentException($"Unknown partition.assignment.strategy '{name}' (expected range, roundrobin, sticky or cooperative-sticky).", nameof(name)),
    };

    /// <summary>Kafka's member order: static members by group.instance.id first, then by member id.</summary>
    internal static IEnumerable<MemberSubscription> Ordered(IEnumerable<MemberSubscription> members) =>
        members.OrderBy(m => m.GroupInstanceId is null ? 1 : 0)
            .ThenBy(m => m.GroupInstanceId ?? m.MemberId, StringComparer.Ordinal)
            .ThenBy(m => m.MemberId, StringComparer.Ordinal);

    internal static Dictionary<string, List<TopicPartition>> Empty(IReadOnlyList<MemberSubscription> members) =>
        members.ToDictionary(m => m.MemberId, _ => new List<TopicPartition>(), StringComparer.Ordinal);
}

/// <summary>
/// Kafka's RangeAssignor: per topic, the subscribed members in order each take a contiguous range;
/// the first (partitions % members) take one extra.
/// </summary>
public sealed class RangeAssignor : IPartitionAssignor
{
    public string Name => "range";

    public bool IsCooperative => false;

    public IReadOnlyDictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members)
    {
        var result = PartitionAssignors.Empty(members);
        foreach (var (topic, count) in partitionsPerTopic.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var subscribed = PartitionAssignors.Ordered(members.Where(m => m.Topics.Contains(topic))).ToList();
            if (subscribed.Count == 0)
                continue;
            int per = count / subscribed.Count, extra = count % subscribed.Count;
            for (int i = 0; i < subscribed.Count; i++)
            {
                int start = i * per + Math.Min(i, extra);
                int length = per + (i < extra ? 1 : 0);
                for (int p = start; p < start + length; p++)
                    result[subscribed[i].MemberId].Add(new TopicPartition(topic, p));
            }
        }
        return result;
    }
}

/// <summary>Kafka's RoundRobinAssignor: all partitions in topic order dealt to members in turn, skipping members not subscribed to the topic.</summary>
public sealed class RoundRobinAssignor : IPartitionAssignor
{
    public string Name => "roundrobin";

    public bool IsCooperative => false;

    public IReadOnlyDictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members)
    {
        var result = PartitionAssignors.Empty(members);
        var ordered = PartitionAssignors.Ordered(members).ToList();
        if (ordered.Count == 0)
            return result;
        int next = 0;
        foreach (var (topic, count) in partitionsPerTopic.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!ordered.Any(m => m.Topics.Contains(topic)))
                continue;
            for (int p = 0; p < count; p++)
            {
                while (!ordered[next % ordered.Count].Topics.Contains(topic))
                    next++;
                result[ordered[next % ordered.Count].MemberId].Add(new TopicPartition(topic, p));
                next++;
            }
        }
        return result;
    }
}
