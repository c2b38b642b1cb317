using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.WebConsole;

/// <summary>A partition, ordered by topic then number; shown as <c>topic-3</c>, as Kafka names its directories.</summary>
internal readonly record struct PartitionKey(string Topic, int Partition) : IComparable<PartitionKey>
{
    public int CompareTo(PartitionKey other)
    {
        int byTopic = string.CompareOrdinal(Topic, other.Topic);
        return byTopic != 0 ? byTopic : Partition.CompareTo(other.Partition);
    }

    public override string ToString() => $"{Topic}-{Partition}";
}

/// <summary>
/// What one member holds, as the console draws it: <see cref="Owned"/> it consumes;
/// <see cref="Revoking"/> it still holds but has been told to give up; <see cref="Incoming"/> it is
/// meant to get once the current holder lets go.
/// </summary>
internal sealed record MemberPartitions(MemberView Member, IReadOnlyList<PartitionKey> Owned, IReadOnlyList<PartitionKey> Revoking, IReadOnlyList<PartitionKey> Incoming)
{
    /// <summary>Everything the member may still be reading: owned and revoking.</summary>
    public IEnumerable<PartitionKey> Holding => Owned.Concat(Revoking);
}

/// <summary>
/// Reads who holds which partition out of a <see cref="GroupView"/>, for every group type, so the
/// picture and the timeline need not know the protocols. A new type (share groups, where several
/// members may hold one partition) adds a case here; the rest takes lists of holders per partition.
/// </summary>
internal static class GroupOwnership
{
    public static IReadOnlyList<MemberPartitions> Of(GroupView view) => view.Type switch
    {
        GroupType.Consumer => view.Members.Select(m => new MemberPartitions(m, Keys(m.Assigned), Keys(m.PendingRevocation),
            Keys(m.Target).Except(Keys(m.Assigned)).Except(Keys(m.PendingRevocation)).Order().ToList())).ToList(),
        // Share groups: several members may hold one partition, and nothing is revoked first.
        GroupType.Share => view.Members.Select(m => new MemberPartitions(m, Keys(m.Assigned), [], [])).ToList(),
        _ => Classic(view),
    };

    /// <summary>
    /// Classic groups: the broker knows assignments only as the last SyncGroup handed them out. An
    /// eager protocol (range, roundrobin, sticky) makes every member give up everything when a
    /// rebalance starts, so nothing is held until the group is Stable again; cooperative-sticky
    /// members keep what they had until a new assignment leaves a partition out.
    /// </summary>
    private static List<MemberPartitions> Classic(GroupView view)
    {
        bool holding = view.State == "Stable" || IsCooperative(view);
        return view.Members.Select(m => new MemberPartitions(m, holding ? DecodeAssignment(view, m) : [], [], [])).ToList();
    }

    public static bool IsCooperative(GroupView view) =>
        view.Type != GroupType.Classic || string.Equals(view.Protocol, "cooperative-sticky", StringComparison.Ordinal);

    /// <summary>The topics members subscribe to (classic: from their consumer-protocol metadata).</summary>
    public static IReadOnlyList<string> SubscribedTopics(GroupView view)
    {
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var m in view.Members)
        {
            topics.UnionWith(m.SubscribedTopicNames);
            if (view.Type == GroupType.Classic && view.ProtocolType == "consumer")
                topics.UnionWith(DecodeSubscription(m));
            foreach (var t in m.Assigned.Concat(m.PendingRevocation).Concat(m.Target))
                topics.Add(t.Topic);
        }
        topics.Remove("");
        return [.. topics];
    }

    private static List<PartitionKey> Keys(IReadOnlyList<TopicPartitionsView> topics) =>
        topics.SelectMany(t => t.Partitions.Select(p => new PartitionKey(t.Topic, p))).Order().ToList();

    private static List<PartitionKey> DecodeAssignment(GroupView view, MemberView member)
    {
        if (view.ProtocolType != "consumer" || member.Assignment.Length == 0)
            return [];
        try
        {
            var assignment = VersionedData.Read<ConsumerProtocolAssignment>(member.Assignment, out _);
            return (assignment?.AssignedPartitions ?? []).SelectMany(t => t.Partitions.Select(p => new PartitionKey(t.Topic, p))).Order().ToList();
        }
        catch (ProtocolException)
        {
            return []; // not the consumer protocol's layout after all: nothing to draw
        }
    }

    private static List<string> DecodeSubscription(MemberView member)
    {
        if (member.Metadata.Length == 0)
            return [];
        try
        {
            return VersionedData.Read<ConsumerProtocolSubscription>(member.Metadata, out _)?.Topics ?? [];
        }
        catch (ProtocolException)
        {
            return [];
        }
    }
}
