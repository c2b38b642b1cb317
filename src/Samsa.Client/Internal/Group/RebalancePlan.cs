namespace Samsa.Client.Internal.Group;

/// <summary>Eager: give everything up before every rebalance. Cooperative (KIP-429): give up only what moves.</summary>
internal enum RebalanceMode
{
    Eager,
    Cooperative,
}

/// <summary>What the consumer tells its rebalance listener, and whether another rebalance must follow.</summary>
internal sealed record RebalancePlan(
    IReadOnlyList<(string Topic, int Partition)> Revoked,
    IReadOnlyList<(string Topic, int Partition)> Lost,
    IReadOnlyList<(string Topic, int Partition)> Assigned,
    IReadOnlyList<(string Topic, int Partition)> Owned,
    bool RejoinAfterRevoke)
{
    private static readonly IReadOnlyList<(string, int)> None = [];

    /// <summary>
    /// Before sending JoinGroup. Eager members revoke everything they own (and commit first, when
    /// auto-commit is on); cooperative members keep consuming. If the member was dropped from its
    /// generation, what it owned is lost instead: another member may already own it, so it must not
    /// commit for it.
    /// </summary>
    public static RebalancePlan BeforeJoin(RebalanceMode mode, IReadOnlyCollection<(string Topic, int Partition)> owned, bool partitionsLost)
    {
        if (partitionsLost)
            return new(None, Sorted(owned), None, None, false);
        if (mode == RebalanceMode.Eager)
            return new(Sorted(owned), None, None, None, false);
        return new(None, None, None, Sorted(owned), false);
    }

    /// <summary>
    /// After SyncGroup hands us a new assignment. Cooperative members revoke what is no longer theirs
    /// and, if anything was revoked, rejoin at once so the leader can give those partitions to their
    /// new owners in the next generation (the second round of KIP-429).
    /// </summary>
    public static RebalancePlan AfterSync(RebalanceMode mode, IReadOnlyCollection<(string Topic, int Partition)> owned, IReadOnlyCollection<(string Topic, int Partition)> assignment)
    {
        var next = assignment.ToHashSet();
        if (mode == RebalanceMode.Eager)
            return new(None, None, Sorted(next), Sorted(next), false);
        var current = owned.ToHashSet();
        var revoked = Sorted(current.Where(tp => !next.Contains(tp)));
        var added = Sorted(next.Where(tp => !current.Contains(tp)));
        return new(revoked, None, added, Sorted(next), revoked.Count > 0);
    }

    private static List<(string Topic, int Partition)> Sorted(IEnumerable<(string Topic, int Partition)> partitions) =>
        partitions.OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition).ToList();
}
