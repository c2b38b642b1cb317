namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// Moves a member's current assignment towards the group's target (Kafka's
/// CurrentAssignmentBuilder): partitions it keeps stay, partitions it must give up are revoked
/// first — the member stays at its epoch until it confirms — and partitions it gains are handed
/// over only once no other member holds them, so no partition ever has two owners. Pure: it reads
/// the member, the target and who owns what, and returns the member as it should be.
/// </summary>
internal static class CurrentAssignmentBuilder
{
    /// <param name="ownerEpoch">The epoch of the member currently holding a partition (assigned or pending revocation), or -1 when free.</param>
    /// <param name="owned">What the member reported owning in this heartbeat; null when it did not say (unchanged).</param>
    /// <exception cref="CoordinatorException">FENCED_MEMBER_EPOCH for a member in an unknown state that still owns partitions.</exception>
    public static ConsumerGroupMember Reconcile(
        ConsumerGroupMember member,
        int targetEpoch,
        IReadOnlyDictionary<Guid, IReadOnlySet<int>> target,
        Func<Guid, int, int> ownerEpoch,
        IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned)
    {
        switch (member.State)
        {
            case MemberState.Stable:
                return member.MemberEpoch != targetEpoch ? Next(member, member.MemberEpoch, targetEpoch, target, ownerEpoch, owned) : member;
            case MemberState.UnrevokedPartitions:
                // Still reporting a partition it was told to give up: nothing can move yet.
                if (Owns(owned, member.PendingRevocation))
                    return member;
                return Next(member, member.MemberEpoch + 1, targetEpoch, target, ownerEpoch, owned);
            case MemberState.UnreleasedPartitions:
                return Next(member, member.MemberEpoch, targetEpoch, target, ownerEpoch, owned);
            default:
                if (owned is null || owned.Count > 0)
                    throw new Runtime.CoordinatorException(Protocol.ErrorCode.FencedMemberEpoch, "The member is in an unknown state; it must give up its partitions and rejoin.");
                return Next(member, targetEpoch, targetEpoch, target, ownerEpoch, owned);
        }
    }

    private static ConsumerGroupMember Next(
        ConsumerGroupMember member,
        int memberEpoch,
        int targetEpoch,
        IReadOnlyDictionary<Guid, IReadOnlySet<int>> target,
        Func<Guid, int, int> ownerEpoch,
        IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned)
    {
        bool unreleased = false;
        var assigned = new Dictionary<Guid, IReadOnlySet<int>>();
        var revoking = new Dictionary<Guid, IReadOnlySet<int>>();
        var gaining = new Dictionary<Guid, HashSet<int>>();
        foreach (var topic in target.Keys.Union(member.Assigned.Keys))
        {
            var want = target.GetValueOrDefault(topic) ?? EmptySet;
            var have = member.Assigned.GetValueOrDefault(topic) ?? EmptySet;
            var keep = new HashSet<int>(have);
            keep.IntersectWith(want);
            var revoke = new HashSet<int>(have);
            revoke.ExceptWith(keep);
            var gain = new HashSet<int>(want);
            gain.ExceptWith(keep);
            // A partition still held by another member (or by this one's previous incarnation) waits.
            unreleased |= gain.RemoveWhere(p => ownerEpoch(topic, p) != -1) > 0;
            if (keep.Count > 0)
                assigned[topic] = keep;
            if (revoke.Count > 0)
                revoking[topic] = revoke;
            if (gain.Count > 0)
                gaining[topic] = gain;
        }

        if (revoking.Count > 0 && Owns(owned, revoking))
        {
            // Revoke first, at the current epoch; the member moves on once it stops reporting them.
            return member with
            {
                State = MemberState.UnrevokedPartitions,
                PreviousMemberEpoch = member.MemberEpoch,
                MemberEpoch = memberEpoch,
                Assigned = Freeze(assigned),
                PendingRevocation = revoking,
            };
        }
        foreach (var (topic, gain) in gaining)
        {
            if (assigned.TryGetValue(topic, out var keep))
                gain.UnionWith(keep);
            assigned[topic] = gain;
        }
        return member with
        {
            State = unreleased ? MemberState.UnreleasedPartitions : MemberState.Stable,
            PreviousMemberEpoch = member.MemberEpoch,
            MemberEpoch = targetEpoch,
            Assigned = Freeze(assigned),
            PendingRevocation = TopicAssignment.Empty,
        };
    }

    private static readonly IReadOnlySet<int> EmptySet = new HashSet<int>();

    private static IReadOnlyDictionary<Guid, IReadOnlySet<int>> Freeze(Dictionary<Guid, IReadOnlySet<int>> assignment) =>
        assignment.Count == 0 ? TopicAssignment.Empty : assignment;

    /// <summary>True when the member still reports owning any of <paramref name="partitions"/>; a heartbeat that did not say is taken as yes.</summary>
    private static bool Owns(IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned, IReadOnlyDictionary<Guid, IReadOnlySet<int>> partitions)
    {
        if (owned is null)
            return true;
        foreach (var (topic, set) in owned)
        {
            if (partitions.TryGetValue(topic, out var pending) && set.Overlaps(pending))
                return true;
        }
        return false;
    }
}
