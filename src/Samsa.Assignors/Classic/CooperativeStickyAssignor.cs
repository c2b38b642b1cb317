namespace Samsa.Client.Assignors;

/// <summary>
/// "cooperative-sticky" (KIP-429): a balanced assignment that keeps as many partitions as possible
/// where they are, and never hands a partition to a new owner in the same round it is taken from
/// the old one — it is left unassigned, its owner revokes it and rejoins, and the next round gives
/// it out. Ownership conflicts (two members claiming a partition after a network partition) go to
/// the claim with the highest generation.
/// </summary>
public sealed class CooperativeStickyAssignor : IPartitionAssignor
{
    /// <inheritdoc />
    public string Name => "cooperative-sticky";

    /// <inheritdoc />
    public bool IsCooperative => true;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members) =>
        Balance(partitionsPerTopic, members, withholdMoved: true);

    /// <summary>
    /// The sticky balance shared with the eager <see cref="StickyAssignor"/>. With
    /// <paramref name="withholdMoved"/>, a partition taken from its owner stays unassigned for a
    /// round (KIP-429); without it (eager: everyone already gave everything up) it goes straight to
    /// its new owner.
    /// </summary>
    internal static Dictionary<string, List<TopicPartition>> Balance(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members, bool withholdMoved)
    {
        var result = PartitionAssignors.Empty(members);
        if (members.Count == 0)
            return result;
        var all = partitionsPerTopic.OrderBy(t => t.Key, StringComparer.Ordinal)
            .SelectMany(t => Enumerable.Range(0, t.Value).Select(p => new TopicPartition(t.Key, p)))
            .Where(tp => members.Any(m => m.Topics.Contains(tp.Topic)))
            .ToList();

        // 1. Current owners, newest generation wins a conflicting claim.
        var owner = new Dictionary<TopicPartition, MemberSubscription>();
        foreach (var m in members.OrderBy(m => m.Generation))
        {
            foreach (var tp in m.OwnedPartitions)
            {
                if (partitionsPerTopic.TryGetValue(tp.Topic, out int count) && tp.Partition < count && m.Topics.Contains(tp.Topic))
                    owner[tp] = m;
            }
        }

        // 2. Quotas: everyone gets floor(P/M); the first (P % M) members in order may hold one more.
        var ordered = PartitionAssignors.Ordered(members).ToList();
        int floor = all.Count / members.Count, withExtra = all.Count % members.Count;
        foreach (var (tp, m) in owner.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition))
            result[m.MemberId].Add(tp);

        // Members above quota give up their highest partitions (left unassigned this round: their
        // owners revoke them and rejoin); slots for "+1" go to those who already hold them.
        int extrasLeft = withExtra;
        foreach (var m in ordered.OrderByDescending(m => result[m.MemberId].Count))
        {
            var list = result[m.MemberId];
            int quota = floor + (extrasLeft > 0 && list.Count > floor ? 1 : 0);
            if (quota > floor)
                extrasLeft--;
            while (list.Count > quota)
                list.RemoveAt(list.Count - 1);
        }

        // 3. Unowned partitions (never released ones: those wait a round) go to the least loaded
        // eligible member, within quota.
        var kept = result.Values.SelectMany(v => v).ToHashSet();
        var free = all.Where(tp => !owner.ContainsKey(tp) || (!withholdMoved && !kept.Contains(tp))).ToList();
        foreach (var tp in free)
        {
            var target = ordered.Where(m => m.Topics.Contains(tp.Topic))
                .OrderBy(m => result[m.MemberId].Count)
                .ThenBy(m => ordered.IndexOf(m))
                .FirstOrDefault(m => result[m.MemberId].Count < floor + (extrasLeft > 0 || result[m.MemberId].Count < floor ? 1 : 0));
            target ??= ordered.Where(m => m.Topics.Contains(tp.Topic)).MinBy(m => result[m.MemberId].Count);
            if (target is null)
                continue;
            if (result[target.MemberId].Count >= floor)
                extrasLeft--;
            result[target.MemberId].Add(tp);
        }
        foreach (var list in result.Values)
            list.Sort((a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        return result;
    }
}
