using Samsa.Protocol.Messages;

namespace Samsa.Broker.Share;

/// <summary>A range of offsets in one persisted delivery state (a StateBatch of ShareSnapshotValue and ShareUpdateValue).</summary>
internal readonly record struct ShareStateBatch(long FirstOffset, long LastOffset, RecordState DeliveryState, short DeliveryCount);

/// <summary>
/// What a share-partition persists: its state epoch, start offset, and the delivery state of the
/// in-flight offsets as batches (available, acknowledged or archived, never acquired).
/// <see cref="DeliveryCompleteCount"/> is how many of them are acknowledged or archived, the count
/// Kafka 4.2 persists for share-partition lag (KIP-1226). A start offset of -1 means none was ever
/// set (Kafka's uninitialised state), so share.auto.offset.reset decides.
/// </summary>
internal sealed record ShareState(int StateEpoch, long StartOffset, int DeliveryCompleteCount, IReadOnlyList<ShareStateBatch> Batches)
{
    public const long UninitializedStartOffset = -1;

    /// <summary>The state of a share-partition that has none yet.</summary>
    public static ShareState Uninitialized(int stateEpoch) => new(stateEpoch, UninitializedStartOffset, 0, []);

    /// <summary>As a __share_group_state snapshot record's value.</summary>
    public ShareSnapshotValue ToSnapshotValue(int snapshotEpoch, int leaderEpoch, long createTimestamp, long writeTimestamp) => new()
    {
        SnapshotEpoch = snapshotEpoch,
        StateEpoch = StateEpoch,
        LeaderEpoch = leaderEpoch,
        StartOffset = StartOffset,
        DeliveryCompleteCount = DeliveryCompleteCount,
        CreateTimestamp = createTimestamp,
        WriteTimestamp = writeTimestamp,
        StateBatches = [.. Batches.Select(b => new ShareSnapshotValue.StateBatch
        {
            FirstOffset = b.FirstOffset,
            LastOffset = b.LastOffset,
            DeliveryState = (sbyte)b.DeliveryState,
            DeliveryCount = b.DeliveryCount,
        })],
    };

    /// <summary>
    /// As a __share_group_state update record's value: the whole state, which as an update
    /// replaces every batch it overlaps. (An update carries no state epoch: that is the snapshot's.)
    /// </summary>
    public ShareUpdateValue ToUpdateValue(int snapshotEpoch, int leaderEpoch) => new()
    {
        SnapshotEpoch = snapshotEpoch,
        LeaderEpoch = leaderEpoch,
        StartOffset = StartOffset,
        DeliveryCompleteCount = DeliveryCompleteCount,
        StateBatches = [.. Batches.Select(b => new ShareUpdateValue.StateBatch
        {
            FirstOffset = b.FirstOffset,
            LastOffset = b.LastOffset,
            DeliveryState = (sbyte)b.DeliveryState,
            DeliveryCount = b.DeliveryCount,
        })],
    };

    /// <summary>
    /// From a snapshot record's value. A DeliveryState Kafka does not define is refused; an
    /// acquired one (which Kafka never writes) is read as available.
    /// </summary>
    public static ShareState FromSnapshotValue(ShareSnapshotValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var batches = new ShareStateBatch[value.StateBatches.Count];
        for (int i = 0; i < batches.Length; i++)
        {
            var b = value.StateBatches[i];
            if (!RecordStates.TryFromPersisted(b.DeliveryState, out var state))
                throw new InvalidDataException($"State batch {b.FirstOffset}-{b.LastOffset} has delivery state {b.DeliveryState}.");
            batches[i] = new ShareStateBatch(b.FirstOffset, b.LastOffset, state, b.DeliveryCount);
        }
        return new ShareState(value.StateEpoch, value.StartOffset, value.DeliveryCompleteCount, batches);
    }
}
