namespace Samsa.Assignors;

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
                for (int end = p + per + (i < extra ? 1 : 0); p < end; p++)
                    owners[p] = members[i];
            }
        }
        return model.ToAssignment();
    }
}
