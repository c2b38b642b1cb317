namespace Samsa.Broker.Groups;

/// <summary>
/// Kafka's classic group states (ClassicGroupState). Each entry says how requests are answered in
/// it and what moves the group out; <see cref="GroupStates.CanMove"/> checks every transition.
/// </summary>
internal enum GroupState
{
    /// <summary>
    /// No members (new group, everyone left, or only offsets). JoinGroup from a new member is
    /// accepted (→ PreparingRebalance, with group.initial.rebalance.delay.ms on the first one);
    /// Sync/Heartbeat/member commits get UNKNOWN_MEMBER_ID; simple commits (generation -1) and
    /// OffsetFetch work. → Dead when deleted or its offsets expire.
    /// </summary>
    Empty,

    /// <summary>
    /// Collecting JoinGroups; each join is parked until every known member has rejoined or the
    /// rebalance timeout (the largest max.poll.interval.ms of the members) fires, when members that
    /// did not rejoin are dropped. Heartbeat/Sync get REBALANCE_IN_PROGRESS (heartbeats still count
    /// as liveness); commits from the previous generation are accepted.
    /// → CompletingRebalance (some joined) or Empty (none left).
    /// </summary>
    PreparingRebalance,

    /// <summary>
    /// The new generation exists; waiting for the leader's SyncGroup with the assignment. Follower
    /// syncs are parked; heartbeats are fine; commits get REBALANCE_IN_PROGRESS. A join with new
    /// metadata, a leave or a member failure → PreparingRebalance; the leader's sync → Stable.
    /// </summary>
    CompletingRebalance,

    /// <summary>
    /// Everyone has the assignment. Heartbeats and commits are normal; SyncGroup returns the stored
    /// assignment; a follower rejoining with the same metadata gets the current generation back.
    /// A leader join, changed metadata, a new member, a leave or a failure → PreparingRebalance.
    /// </summary>
    Stable,

    /// <summary>Deleted or migrated away: requests get COORDINATOR_NOT_AVAILABLE. Terminal.</summary>
    Dead,
}

internal static class GroupStates
{
    /// <summary>The transitions Kafka allows (ClassicGroupState's valid previous states).</summary>
    public static bool CanMove(GroupState from, GroupState to) => to switch
    {
        GroupState.PreparingRebalance => from is GroupState.Empty or GroupState.CompletingRebalance or GroupState.Stable,
        GroupState.CompletingRebalance => from is GroupState.PreparingRebalance,
        GroupState.Stable => from is GroupState.CompletingRebalance,
        GroupState.Empty => from is GroupState.PreparingRebalance,
        GroupState.Dead => from is not GroupState.Dead,
        _ => false,
    };

    /// <summary>Names as Kafka reports them in DescribeGroups/ListGroups.</summary>
    public static string Name(GroupState state) => state switch
    {
        GroupState.Empty => "Empty",
        GroupState.PreparingRebalance => "PreparingRebalance",
        GroupState.CompletingRebalance => "CompletingRebalance",
        GroupState.Stable => "Stable",
        _ => "Dead",
    };
}
