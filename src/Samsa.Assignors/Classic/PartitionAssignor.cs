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
    /// <summary>The protocol name in partition.assignment.strategy (range, roundrobin, sticky, cooperative-sticky).</summary>
    string Name { get; }

    /// <summary>True for assignors that follow KIP-429 (incremental cooperative rebalancing).</summary>
    bool IsCooperative { get; }

    /// <summary>The group's assignment, computed on the leader.</summary>
    /// <param name="partitionsPerTopic">The partition count of each subscribed topic.</param>
    /// <param name="members">Every member's subscription.</param>
    /// <returns>Each member id's partitions (every member is present, possibly with none).</returns>
    IReadOnlyDictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members);

    /// <summary>Extra bytes this member sends in its subscription (Kafka's eager StickyAssignor sends its previous assignment).</summary>
    byte[]? SubscriptionUserData(IReadOnlyCollection<TopicPartition> previousAssignment, int generation) => null;
}

/// <summary>The client-side assignors by protocol name.</summary>
public static class PartitionAssignors
{
    /// <summary>The assignor that partition.assignment.strategy names; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    /// <param name="name">range, roundrobin, sticky or cooperative-sticky.</param>
    /// <returns>A new assignor.</returns>
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
    /// <inheritdoc />
    public string Name => "range";

    /// <inheritdoc />
    public bool IsCooperative => false;

    /// <inheritdoc />
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
    /// <inheritdoc />
    public string Name => "roundrobin";

    /// <inheritdoc />
    public bool IsCooperative => false;

    /// <inheritdoc />
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
