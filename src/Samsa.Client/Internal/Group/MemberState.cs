namespace Samsa.Client.Internal.Group;

/// <summary>
/// Where a consumer stands in the classic group protocol (Kafka's AbstractCoordinator.MemberState).
/// </summary>
internal enum MemberState
{
    /// <summary>
    /// Not in the group: no generation. A JoinGroup is the only thing to send; no heartbeats, no
    /// generation-checked commits. Left by sending JoinGroup (→ Joining).
    /// </summary>
    Unjoined,

    /// <summary>
    /// A JoinGroup is in flight (it may be parked by the coordinator for the whole rebalance).
    /// No heartbeats: the pending join keeps the session alive. Left by the join response:
    /// success → Syncing; MEMBER_ID_REQUIRED and retriable errors → Unjoined (join again);
    /// fatal errors → Fatal.
    /// </summary>
    Joining,

    /// <summary>
    /// Joined generation N; a SyncGroup is in flight (the leader's carries the assignment).
    /// Heartbeats continue. Left by the sync response: success → Stable; REBALANCE_IN_PROGRESS,
    /// ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID → Unjoined.
    /// </summary>
    Syncing,

    /// <summary>
    /// Holding the assignment of the current generation, heartbeating every heartbeat.interval.ms.
    /// Left when a heartbeat says REBALANCE_IN_PROGRESS (→ Unjoined, generation kept for a
    /// cooperative rejoin), the generation or member is gone (→ Unjoined, partitions lost), the
    /// poll loop stalls past max.poll.interval.ms (→ Unjoined after a LeaveGroup), or the
    /// subscription changes.
    /// </summary>
    Stable,

    /// <summary>Fenced (another instance took our group.instance.id) or a configuration error the
    /// coordinator refused; nothing more is sent and the consumer surfaces the error.</summary>
    Fatal,
}
