namespace Samsa.Assignors;

/// <summary>The server-side assignors by name.</summary>
public static class ConsumerGroupAssignors
{
    private static readonly string[] AllNames = [UniformConsumerGroupAssignor.AssignorName, RangeConsumerGroupAssignor.AssignorName];

    /// <summary>"uniform" or "range"; throws <see cref="ArgumentException"/> naming the unknown name.</summary>
    public static IConsumerGroupAssignor Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            UniformConsumerGroupAssignor.AssignorName => new UniformConsumerGroupAssignor(),
            RangeConsumerGroupAssignor.AssignorName => new RangeConsumerGroupAssignor(),
            _ => throw new ArgumentException($"Unknown group.consumer.assignors name '{name}' (expected uniform or range).", nameof(name)),
        };
    }

    /// <summary>The known names, Kafka's default ("uniform") first.</summary>
    public static IReadOnlyList<string> Names => AllNames;
}

/// <summary>
/// Kafka's default server-side assignor, "uniform": every partition of every subscribed topic goes
/// to exactly one subscriber, as evenly as the subscriptions allow, and a member keeps what it has
/// unless balance needs it elsewhere. Like Kafka's it has a path for groups whose members all
/// subscribe to the same topics (<see cref="AssignHomogeneous"/>) and a general one
/// (<see cref="UniformHeterogeneous"/>).
/// </summary>
internal sealed class UniformConsumerGroupAssignor : IConsumerGroupAssignor
{
    public const string AssignorName = "uniform";

    public string Name => AssignorName;

    public GroupAssignment Assign(GroupSpec group, ITopicMetadata topics)
    {
        var model = new GroupModel(group, topics);
        model.ClaimCurrent();
        if (group.IsHomogeneous)
            AssignHomogeneous(model);
        else
            new UniformHeterogeneous(model).Assign();
        return model.ToAssignment();
    }

    /// <summary>
    /// Same subscriptions everywhere: P partitions over M members means everyone gets P / M and
    /// P % M members one more. Unlike Kafka, which hands the extra slots out in member order, the
    /// extra slots go to the members that already hold the most, so the partitions that must move
    /// are exactly those above each member's quota: that is the fewest any balanced assignment can
    /// move (a member joining a balanced group takes only its share, nobody gives up more than its
    /// excess, and when a member leaves the others only gain).
    /// </summary>
    internal static void AssignHomogeneous(GroupModel model)
    {
        int members = model.MemberCount, total = model.TotalPartitions;
        if (members == 0 || total == 0)
            return;
        int[] loads = model.Loads;
        int floor = total / members, extra = total % members;
        int[] byLoad = new int[members];
        for (int m = 0; m < members; m++)
            byLoad[m] = m;
        Array.Sort(byLoad, (a, b) => loads[a] != loads[b] ? loads[b].CompareTo(loads[a]) : a.CompareTo(b));
        int[] quota = new int[members];
        for (int i = 0; i < members; i++)
            quota[byLoad[i]] = floor + (i < extra ? 1 : 0);

        var scratch = new List<long>();
        for (int m = 0; m < members; m++)
        {
            if (loads[m] > quota[m])
                model.ReleaseLast(m, loads[m] - quota[m], scratch);
        }

        // What is unassigned now (new partitions, those of departed members, the excess just
        // released) fills the members below quota in member order, each a contiguous run in
        // topic-then-partition order, which keeps a member's partitions in few topics.
        int next = 0;
        foreach (int[] owners in model.Owners)
        {
            for (int p = 0; p < owners.Length; p++)
            {
                if (owners[p] >= 0)
                    continue;
                while (loads[next] >= quota[next])
                    next++;
                owners[p] = next;
                loads[next]++;
            }
        }
    }
}

/// <summary>
/// Kafka's server-side "range" assignor (as rewritten in KAFKA-16944): per topic, the subscribers
/// in member-id order take contiguous ranges, the first (partitions % subscribers) one partition
/// more, so topics with the same partition count are co-partitioned (partition p of each goes to
/// the same member) among members with the same subscriptions. Kafka dropped the earlier sticky
/// version because stickiness and co-partitioning conflict; like Kafka's, this one recomputes the
/// ranges every time and ignores current assignments (Kafka sorts static members first by
/// instance id, which <see cref="MemberSpec"/> does not carry, so here the order is the member id).
/// Its stickiness is the stability of that order: unchanged input, unchanged output.
/// </summary>
internal sealed class RangeConsumerGroupAssignor : IConsumerGroupAssignor
{
    public const string AssignorName = "range";

    public string Name => AssignorName;

    public GroupAssignment Assign(GroupSpec group, ITopicMetadata topics)
    {
        var model = new GroupModel(group, topics);
        int[][] subscribers = model.Subscribers();
        for (int t = 0; t < subscribers.Length; t++)
        {
            int[] owners = model.Owners[t], members = subscribers[t];
            int per = owners.Length / members.Length, extra = owners.Length % members.Length, p = 0;
            for (int i = 0; i < members.Length; i++)
            {
                int end = p + per + (i < extra ? 1 : 0);
                model.Loads[members[i]] += end - p;
                for (; p < end; p++)
                    owners[p] = members[i];
            }
        }
        return model.ToAssignment();
    }
}
