namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// Where a consumer-group member stands in reconciling its assignment with the target (Kafka's
/// MemberState; the byte values are what ConsumerGroupCurrentMemberAssignmentValue.State stores).
/// <see cref="CurrentAssignmentBuilder"/> alone moves a member between them.
/// </summary>
internal enum MemberState : sbyte
{
    /// <summary>
    /// At its epoch with everything it was assigned: nothing to revoke, nothing waiting. A new
    /// target epoch moves it on (to UnrevokedPartitions if it must give partitions up first).
    /// </summary>
    Stable = 0,

    /// <summary>
    /// Told to revoke partitions and not yet confirmed: it stays at its old epoch, and the
    /// partitions it must give up are pending revocation, until a heartbeat no longer lists them as
    /// owned (then it moves to the target epoch) or its rebalance timeout fences it.
    /// </summary>
    UnrevokedPartitions = 1,

    /// <summary>
    /// At the target epoch, but some partitions of its target are still owned by a member that has
    /// not revoked them; they are handed over at a later heartbeat, once released.
    /// </summary>
    UnreleasedPartitions = 2,

    /// <summary>A state written by a newer coordinator: the member is fenced and rejoins from scratch.</summary>
    Unknown = 127,
}

internal static class MemberStates
{
    public static MemberState FromByte(sbyte value) => value switch
    {
        0 => MemberState.Stable,
        1 => MemberState.UnrevokedPartitions,
        2 => MemberState.UnreleasedPartitions,
        _ => MemberState.Unknown,
    };

    /// <summary>Names as ConsumerGroupDescribe and the console show them.</summary>
    public static string Name(MemberState state) => state switch
    {
        MemberState.Stable => "Stable",
        MemberState.UnrevokedPartitions => "UnrevokedPartitions",
        MemberState.UnreleasedPartitions => "UnreleasedPartitions",
        _ => "Unknown",
    };
}

/// <summary>
/// A consumer group's state, derived from its members and epochs (Kafka's ConsumerGroupState):
/// the names are what ListGroups and ConsumerGroupDescribe report.
/// </summary>
internal enum ConsumerGroupState
{
    /// <summary>No members; committed offsets may remain. Simple (generation -1) commits are allowed.</summary>
    Empty,

    /// <summary>The group epoch is ahead of the target assignment: the next heartbeat computes one.</summary>
    Assigning,

    /// <summary>A target exists; some member has not yet reached it (revoking or waiting for partitions).</summary>
    Reconciling,

    /// <summary>Every member is at the target epoch with its whole target assignment.</summary>
    Stable,

    /// <summary>Deleted. Terminal.</summary>
    Dead,
}
