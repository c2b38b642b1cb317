namespace Samsa.Client.Internal.Group;

/// <summary>
/// Where a member stands in KIP-848's consumer protocol (the Java consumer's MemberState). Only
/// the transitions listed under each state are allowed; <see cref="ConsumerGroupMembership"/>
/// checks them.
/// </summary>
internal enum ConsumerMemberState
{
    /// <summary>
    /// Not in the group and not trying to be: before the first subscription, after a leave.
    /// Left by a subscription (→ Joining).
    /// </summary>
    Unsubscribed,

    /// <summary>
    /// A heartbeat with epoch 0 is due or in flight, carrying every field. Left by its answer:
    /// an epoch (→ Reconciling when an assignment came that differs from what is owned, else
    /// Stable), a fencing error (→ Fenced), a fatal one (→ Fatal).
    /// </summary>
    Joining,

    /// <summary>
    /// The broker sent an assignment that differs from what the application owns; the group loop
    /// hands the application the partitions to revoke and to assign. Left when the application
    /// has done so (→ Acknowledging), or by fencing (→ Fenced) or leaving.
    /// </summary>
    Reconciling,

    /// <summary>
    /// The application owns the new assignment; a heartbeat reporting it is due at once. Left when
    /// it is sent (→ Stable), or by fencing or leaving.
    /// </summary>
    Acknowledging,

    /// <summary>
    /// Owns what the broker assigned; heartbeats every interval the broker sent. Left by a new
    /// assignment (→ Reconciling), fencing (→ Fenced), the poll timer (→ Stale), a leave (→ Leaving).
    /// </summary>
    Stable,

    /// <summary>
    /// FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID: the broker gave our partitions to others. The
    /// application is told they are lost (no commit); then the member rejoins with epoch 0
    /// (→ Joining).
    /// </summary>
    Fenced,

    /// <summary>
    /// The application did not poll within max.poll.interval.ms: the member left the group (as the
    /// Java consumer does) and waits for the next poll, which reports its partitions lost and
    /// rejoins (→ Joining).
    /// </summary>
    Stale,

    /// <summary>A leave heartbeat (epoch -1, or -2 for a static member) is due or in flight; → Unsubscribed.</summary>
    Leaving,

    /// <summary>The broker refused the member for good (fenced instance id, bad assignor, bad regex...); nothing more is sent.</summary>
    Fatal,
}
