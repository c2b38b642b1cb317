namespace Samsa.Broker.Share;

/// <summary>
/// Where one offset of a share-partition stands in being delivered to the share group. The byte
/// values are Kafka's, the DeliveryState that ShareSnapshotValue and ShareUpdateValue store (which
/// never hold <see cref="Acquired"/>: an acquisition is not persisted). Only the transitions
/// <see cref="RecordStates.CanTransition"/> lists happen; the two terminal states are final.
/// </summary>
internal enum RecordState : sbyte
{
    /// <summary>
    /// May be handed to any member: never delivered yet, or released (explicitly, by lock expiry,
    /// or because its member left) with deliveries to spare. Its delivery count says how many
    /// deliveries it has had, always below the limit.
    /// </summary>
    Available = 0,

    /// <summary>
    /// Handed to one member, which alone may acknowledge it, until its acquisition lock runs out.
    /// Acquiring counts a delivery. When the lock runs out the offset becomes available again, or
    /// archived if this was its last permitted delivery.
    /// </summary>
    Acquired = 1,

    /// <summary>Accepted by the member that held it: processed, never delivered again. Terminal.</summary>
    Acknowledged = 2,

    /// <summary>
    /// Given up on, never delivered again: rejected, acknowledged as a gap (no record at that
    /// offset), out of deliveries, or no longer in the log (below the log start offset, or
    /// compacted away). Terminal.
    /// </summary>
    Archived = 4,
}

internal static class RecordStates
{
    /// <summary>Acknowledged and archived offsets are done: the start offset moves past a prefix of them.</summary>
    public static bool IsTerminal(RecordState state) => state is RecordState.Acknowledged or RecordState.Archived;

    /// <summary>
    /// Available to Acquired (a delivery) or to Archived (its record left the log); Acquired to
    /// Available (released), Acknowledged (accepted) or Archived (rejected, a gap, out of
    /// deliveries, or left the log). Nothing leaves a terminal state. Renewing a lock is not a
    /// transition: the offset stays acquired by the same member.
    /// </summary>
    public static bool CanTransition(RecordState from, RecordState to) => (from, to) switch
    {
        (RecordState.Available, RecordState.Acquired or RecordState.Archived) => true,
        (RecordState.Acquired, RecordState.Available or RecordState.Acknowledged or RecordState.Archived) => true,
        _ => false,
    };

    /// <summary>A persisted DeliveryState byte; Acquired is read as Available, as what was acquired is not held by anyone after a reload.</summary>
    public static bool TryFromPersisted(sbyte value, out RecordState state)
    {
        switch (value)
        {
            case 0 or 1:
                state = RecordState.Available;
                return true;
            case 2:
                state = RecordState.Acknowledged;
                return true;
            case 4:
                state = RecordState.Archived;
                return true;
            default:
                state = default;
                return false;
        }
    }
}
