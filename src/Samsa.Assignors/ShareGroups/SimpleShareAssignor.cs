namespace Samsa.Assignors;

/// <summary>
/// The share-group assignor (KIP-932's "simple", Kafka's SimpleAssignor). Share groups have no
/// partition ownership to hand over, so a partition may go to several members at once: when the
/// group has more members than partitions, each partition is shared by ceil(M / P) of them, and
/// otherwise each partition goes to one member. What Kafka aims for, and this does:
/// <list type="bullet">
/// <item>balance: members' counts of (partition, member) slots differ by at most one;</item>
/// <item>stickiness: a member keeps what it had as far as balance allows.</item>
/// </list>
/// When every member subscribes to the same topics the group's partitions are balanced together;
/// otherwise topic by topic over that topic's subscribers (Kafka's heterogeneous builder does the
/// same, so a member subscribed to two topics gets a share of each). Members are numbered in
/// member-id order and partitions in (topic id, partition) order, so the result depends on the
/// spec's contents only.
/// </summary>
public sealed class SimpleShareAssignor : IConsumerGroupAssignor
{
    /// <summary>Kafka's name for it (group.share.assignors).</summary>
    public const string AssignorName = "simple";

    /// <inheritdoc />
    public string Name => AssignorName;

    /// <inheritdoc />
    public GroupAssignment Assign(GroupSpec group, ITopicMetadata topics)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(topics);
        var memberIds = group.Members.Keys.Order(StringComparer.Ordinal).ToArray();
        var result = new Dictionary<string, Dictionary<Guid, HashSet<int>>>(StringComparer.Ordinal);
        foreach (var id in memberIds)
            result[id] = [];
        if (memberIds.Length == 0)
            return Finish(group, result);

        var subscribed = new SortedSet<Guid>();
        foreach (var id in memberIds)
            subscribed.UnionWith(group.Members[id].SubscribedTopicIds);
        if (group.IsHomogeneous)
        {
            var partitions = new List<(Guid, int)>();
            foreach (var topic in subscribed)
                partitions.AddRange(PartitionsOf(topic, topics));
            Balance(partitions, memberIds, group, result);
        }
        else
        {
            foreach (var topic in subscribed)
            {
                var subscribers = memberIds.Where(m => group.Members[m].SubscribedTopicIds.Contains(topic)).ToArray();
                Balance(PartitionsOf(topic, topics), subscribers, group, result);
            }
        }
        return Finish(group, result);
    }

    private static List<(Guid Topic, int Partition)> PartitionsOf(Guid topic, ITopicMetadata topics)
    {
        int count = topics.PartitionCount(topic);
        var list = new List<(Guid, int)>(Math.Max(count, 0));
        for (int p = 0; p < count; p++)
            list.Add((topic, p));
        return list;
    }

    /// <summary>
    /// Spreads the partitions over the members: each partition gets <c>sharing</c> slots, the
    /// slots are split as evenly as possible (the odd ones going to the members that held the most
    /// of them before), members first keep what they held within their quota and the partition's
    /// sharing, then the remaining slots go to the members furthest below their quota.
    /// </summary>
    private static void Balance(List<(Guid Topic, int Partition)> partitions, string[] members, GroupSpec group,
        Dictionary<string, Dictionary<Guid, HashSet<int>>> result)
    {
        if (partitions.Count == 0 || members.Length == 0)
            return;
        int p = partitions.Count, m = members.Length;
        int sharing = (m + p - 1) / p;
        long slots = (long)sharing * p;
        var index = new Dictionary<(Guid, int), int>(p);
        for (int i = 0; i < p; i++)
            index[partitions[i]] = i;

        // What each member held of these partitions, in partition order.
        var held = new List<int>[m];
        for (int i = 0; i < m; i++)
        {
            held[i] = [];
            foreach (var (topic, set) in group.Members[members[i]].CurrentAssignment)
            {
                foreach (int partition in set)
                {
                    if (index.TryGetValue((topic, partition), out int at))
                        held[i].Add(at);
                }
            }
            held[i].Sort();
        }

        // Quotas: slots / m each, the remainder to the members holding the most (then by id order).
        var quota = new int[m];
        int baseQuota = (int)(slots / m), extra = (int)(slots % m);
        for (int i = 0; i < m; i++)
            quota[i] = baseQuota;
        foreach (int i in Enumerable.Range(0, m).OrderByDescending(i => held[i].Count).ThenBy(i => i).Take(extra))
            quota[i]++;

        var holders = new List<int>[p];
        for (int i = 0; i < p; i++)
            holders[i] = [];
        var count = new int[m];
        for (int i = 0; i < m; i++)
        {
            foreach (int at in held[i])
            {
                if (count[i] >= quota[i])
                    break;
                if (holders[at].Count >= sharing)
                    continue;
                holders[at].Add(i);
                count[i]++;
            }
        }

        // Fill what is missing, partition by partition, from the member with the most room left.
        for (int at = 0; at < p; at++)
        {
            while (holders[at].Count < sharing)
            {
                int best = -1;
                for (int i = 0; i < m; i++)
                {
                    if (count[i] >= quota[i] || holders[at].Contains(i))
                        continue;
                    if (best < 0 || quota[i] - count[i] > quota[best] - count[best])
                        best = i;
                }
                if (best < 0)
                    break; // every member with room holds it already: a slight imbalance, as Kafka tolerates
                holders[at].Add(best);
                count[best]++;
            }
        }

        for (int at = 0; at < p; at++)
        {
            var (topic, partition) = partitions[at];
            foreach (int i in holders[at])
            {
                var assignment = result[members[i]];
                if (!assignment.TryGetValue(topic, out var set))
                    assignment[topic] = set = [];
                set.Add(partition);
            }
        }
    }

    /// <summary>Returns each member's assignment, reusing its current one where nothing changed.</summary>
    private static GroupAssignment Finish(GroupSpec group, Dictionary<string, Dictionary<Guid, HashSet<int>>> result)
    {
        var members = new Dictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>>(StringComparer.Ordinal);
        foreach (var (id, assignment) in result)
        {
            var current = group.Members[id].CurrentAssignment;
            if (Same(current, assignment))
            {
                members[id] = current;
                continue;
            }
            members[id] = assignment.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<int>)kv.Value);
        }
        return new GroupAssignment(members);
    }

    private static bool Same(IReadOnlyDictionary<Guid, IReadOnlySet<int>> current, Dictionary<Guid, HashSet<int>> next)
    {
        int nonEmpty = current.Count(kv => kv.Value.Count > 0);
        if (nonEmpty != next.Count)
            return false;
        foreach (var (topic, set) in next)
        {
            if (!current.TryGetValue(topic, out var had) || !had.SetEquals(set))
                return false;
        }
        return true;
    }
}
