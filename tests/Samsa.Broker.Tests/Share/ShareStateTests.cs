using Samsa.Broker.Share;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Share;

public class ShareStateTests
{
    private static SharePartition Load(ShareHarness h, ShareState state, long logStart = 0, long logEnd = 1000, SharePartitionOptions? options = null) =>
        SharePartition.Load(state, options ?? new SharePartitionOptions(), h.Time, ShareAutoOffsetReset.Latest, logStart, logEnd);

    [Fact]
    public void A_partition_without_state_starts_where_auto_offset_reset_says()
    {
        Assert.Equal(100, SharePartition.InitialStartOffset(ShareAutoOffsetReset.Latest, 5, 100));
        Assert.Equal(5, SharePartition.InitialStartOffset(ShareAutoOffsetReset.Earliest, 5, 100));

        var h = new ShareHarness();
        var latest = Load(h, ShareState.Uninitialized(3), logStart: 5, logEnd: 100);
        Assert.Equal((100L, 3), (latest.StartOffset, latest.StateEpoch));
        var earliest = SharePartition.Load(ShareState.Uninitialized(0), new SharePartitionOptions(), h.Time, ShareAutoOffsetReset.Earliest, 5, 100);
        Assert.Equal(5, earliest.StartOffset);
    }

    private static ShareHarness Mixed()
    {
        // 0-2 accepted, 3-4 held, 5 rejected, 6-7 released once, 8-9 held.
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        h.Ack("m1", 0, 2, AcknowledgeType.Accept);
        h.Ack("m1", 5, 5, AcknowledgeType.Reject);
        h.Ack("m1", 6, 7, AcknowledgeType.Release);
        return h;
    }

    [Fact]
    public void Export_writes_acquired_offsets_as_they_were_before_their_acquisition()
    {
        var state = Mixed().Partition.ExportState();
        Assert.Equal(3, state.StartOffset);
        Assert.Equal(1, state.DeliveryCompleteCount);
        Assert.Equal(
            [
                new ShareStateBatch(3, 4, RecordState.Available, 0),
                new ShareStateBatch(5, 5, RecordState.Archived, 1),
                new ShareStateBatch(6, 7, RecordState.Available, 1),
                new ShareStateBatch(8, 9, RecordState.Available, 0),
            ],
            state.Batches);
    }

    [Fact]
    public void A_reload_keeps_what_is_done_and_makes_what_was_acquired_available()
    {
        var h = Mixed();
        var reloaded = Load(h, h.Partition.ExportState());
        reloaded.CheckInvariants();
        Assert.Equal((3L, 9L), (reloaded.StartOffset, reloaded.EndOffset));
        Assert.Equal(RecordState.Archived, reloaded.StateOf(5)!.Value.State);
        Assert.Equal(3, reloaded.NextFetchOffset());

        var acquired = reloaded.Acquire("m2", 3, [new OffsetRange(0, 9)], 500);
        Assert.Equal([new AcquiredRange(3, 4, 1), new AcquiredRange(6, 7, 2), new AcquiredRange(8, 9, 1)], acquired);
    }

    [Fact]
    public void Offsets_no_batch_covers_were_never_delivered()
    {
        var h = new ShareHarness();
        var state = new ShareState(0, 3, 2, [new(5, 6, RecordState.Acknowledged, 1), new(9, 9, RecordState.Archived, 5)]);
        var reloaded = Load(h, state);
        Assert.Equal(
            [
                new InFlightBatch(3, 4, RecordState.Available, 0, null),
                new InFlightBatch(5, 6, RecordState.Acknowledged, 1, null),
                new InFlightBatch(7, 8, RecordState.Available, 0, null),
                new InFlightBatch(9, 9, RecordState.Archived, 5, null),
            ],
            reloaded.InFlight());
        Assert.Equal(
            [new AcquiredRange(3, 4, 1), new AcquiredRange(7, 8, 1), new AcquiredRange(10, 12, 1)],
            reloaded.Acquire("m", 3, [new OffsetRange(3, 12)], 500));
    }

    [Fact]
    public void Loading_drops_what_is_below_the_start_offset_and_archives_what_is_out_of_deliveries()
    {
        var h = new ShareHarness();
        var options = new SharePartitionOptions { DeliveryCountLimit = 3 };
        var state = new ShareState(0, 4, 0, [new(0, 5, RecordState.Available, 1), new(6, 7, RecordState.Available, 4), new(8, 8, RecordState.Acquired, 1)]);
        var reloaded = Load(h, state, options: options);
        Assert.Equal(
            [
                new InFlightBatch(4, 5, RecordState.Available, 1, null),
                new InFlightBatch(6, 7, RecordState.Archived, 4, null),
                new InFlightBatch(8, 8, RecordState.Available, 1, null),
            ],
            reloaded.InFlight());
        reloaded.CheckInvariants();
    }

    [Fact]
    public void Loading_archives_what_left_the_log()
    {
        var h = new ShareHarness();
        var state = new ShareState(0, 0, 0, [new(0, 9, RecordState.Available, 1)]);
        Assert.Equal(6, Load(h, state, logStart: 6).StartOffset);
        Assert.Equal(20, Load(h, state, logStart: 20).StartOffset);
    }

    [Fact]
    public void Overlapping_or_unordered_batches_are_refused()
    {
        var h = new ShareHarness();
        Assert.Throws<InvalidDataException>(() => Load(h, new ShareState(0, 0, 0, [new(0, 5, RecordState.Available, 1), new(5, 6, RecordState.Available, 1)])));
        Assert.Throws<InvalidDataException>(() => Load(h, new ShareState(0, 0, 0, [new(3, 2, RecordState.Available, 1)])));
        Assert.Throws<InvalidDataException>(() => Load(h, new ShareState(0, 0, 0, [new(0, 2, (RecordState)3, 1)])));
    }

    [Fact]
    public void State_survives_a_snapshot_record_byte_for_byte()
    {
        var state = Mixed().Partition.ExportState() with { StateEpoch = 7 };
        var value = state.ToSnapshotValue(snapshotEpoch: 2, leaderEpoch: 1, createTimestamp: 100, writeTimestamp: 200);
        byte[] bytes = VersionedData.Write(value, 0);
        var read = ShareState.FromSnapshotValue(VersionedData.Read<ShareSnapshotValue>(bytes, out _)!);

        Assert.Equal((7, 3L, 1), (read.StateEpoch, read.StartOffset, read.DeliveryCompleteCount));
        Assert.Equal(state.Batches, read.Batches);
        Assert.Equal((short)1, value.StateBatches[1].DeliveryCount);
        Assert.Equal((sbyte)4, value.StateBatches[1].DeliveryState);

        var update = state.ToUpdateValue(snapshotEpoch: 2, leaderEpoch: 1);
        Assert.Equal((3L, 1, 4), (update.StartOffset, update.DeliveryCompleteCount, update.StateBatches.Count));
    }

    [Fact]
    public void A_delivery_state_kafka_does_not_define_is_refused()
    {
        var value = new ShareSnapshotValue { StartOffset = 0, StateBatches = [new() { FirstOffset = 0, LastOffset = 1, DeliveryState = 3 }] };
        Assert.Throws<InvalidDataException>(() => ShareState.FromSnapshotValue(value));
        value.StateBatches[0].DeliveryState = 1;
        Assert.Equal(RecordState.Available, Assert.Single(ShareState.FromSnapshotValue(value).Batches).DeliveryState);
    }
}
