using Samsa.Broker.Share;
using static Samsa.Broker.Tests.Share.ShareHarness;

namespace Samsa.Broker.Tests.Share;

public class SharePartitionAcquireTests
{
    [Fact]
    public void New_offsets_are_acquired_with_one_delivery_each()
    {
        var h = new ShareHarness();
        Assert.Equal(0, h.Partition.NextFetchOffset());
        Assert.Equal([new AcquiredRange(0, 9, 1)], h.Acquire("m1", 0, 9));

        Assert.Equal((0L, 9L, 10L), (h.Partition.StartOffset, h.Partition.EndOffset, h.Partition.InFlightCount));
        Assert.Equal(new InFlightBatch(0, 9, RecordState.Acquired, 1, "m1"), Assert.Single(h.Partition.InFlight()));
        Assert.Equal(10, h.Partition.NextFetchOffset());
        h.Partition.CheckInvariants();
    }

    [Fact]
    public void Batch_optimized_takes_the_last_batch_it_starts_whole()
    {
        var h = new ShareHarness();
        // 5 records after the first batch are under the limit of 6, so the second is started and taken whole.
        Assert.Equal([new AcquiredRange(0, 9, 1)], h.Acquire("m1", 0, 14, maxRecords: 6));
        Assert.Equal(9, h.Partition.EndOffset);
    }

    [Fact]
    public void Record_limit_stops_inside_a_batch()
    {
        var h = new ShareHarness();
        Assert.Equal([new AcquiredRange(0, 5, 1)], h.Acquire("m1", 0, 14, maxRecords: 6, mode: ShareAcquireMode.RecordLimit));
        Assert.Equal((5L, 6L), (h.Partition.EndOffset, h.Partition.NextFetchOffset()));
    }

    [Fact]
    public void Offsets_another_member_holds_are_skipped()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        // A read from offset 0 returns m1's offsets again; m2 gets only what follows them.
        Assert.Equal([new AcquiredRange(10, 19, 1)], h.Partition.Acquire("m2", 0, Batches(0, 19), 500));
        Assert.Equal("m1", h.At(9).MemberId);
        Assert.Equal("m2", h.At(10).MemberId);
    }

    [Fact]
    public void Released_offsets_come_back_with_their_delivery_count_raised()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        Assert.Equal(Protocol.ErrorCode.None, h.Ack("m1", 3, 5, AcknowledgeType.Release));
        Assert.Equal(3, h.Partition.NextFetchOffset());

        Assert.Equal([new AcquiredRange(3, 5, 2)], h.Partition.Acquire("m2", 3, Batches(0, 9), 500));
        Assert.Equal(10, h.Partition.NextFetchOffset());
        h.Partition.CheckInvariants();
    }

    [Fact]
    public void Ranges_of_different_delivery_counts_are_reported_apart()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 4);
        h.Ack("m1", 2, 4, AcknowledgeType.Release);
        Assert.Equal([new AcquiredRange(2, 4, 2), new AcquiredRange(5, 9, 1)], h.Acquire("m2", 0, 9));
    }

    [Fact]
    public void Batch_size_starts_a_new_range_at_a_batch_boundary()
    {
        var h = new ShareHarness();
        var acquired = h.Partition.Acquire("m1", 0, Batches(0, 11, size: 3), 500, batchSize: 5);
        // 0-2 is under 5, so 3-5 joins it; 0-5 holds 6, so 6-8 starts a range that 9-11 joins.
        Assert.Equal([new AcquiredRange(0, 5, 1), new AcquiredRange(6, 11, 1)], acquired);
        Assert.Single(h.Partition.InFlight());
    }

    [Fact]
    public void The_in_flight_cap_stops_new_offsets_until_the_start_offset_moves()
    {
        var h = new ShareHarness(new SharePartitionOptions { MaxInFlightRecords = 10 });
        Assert.Equal([new AcquiredRange(0, 9, 1)], h.Acquire("m1", 0, 14));
        Assert.Empty(h.Partition.Acquire("m2", 10, Batches(10, 14), 500));

        h.Ack("m1", 0, 4, AcknowledgeType.Accept);
        Assert.Equal([new AcquiredRange(10, 14, 1)], h.Partition.Acquire("m2", 10, Batches(10, 14), 500));
        Assert.Equal(10, h.Partition.InFlightCount);
    }

    [Fact]
    public void Batch_optimized_may_pass_the_cap_by_part_of_a_batch_and_record_limit_may_not()
    {
        var batched = new ShareHarness(new SharePartitionOptions { MaxInFlightRecords = 7 });
        Assert.Equal([new AcquiredRange(0, 9, 1)], batched.Acquire("m1", 0, 14));

        var exact = new ShareHarness(new SharePartitionOptions { MaxInFlightRecords = 7 });
        Assert.Equal([new AcquiredRange(0, 6, 1)], exact.Acquire("m1", 0, 14, mode: ShareAcquireMode.RecordLimit));
    }

    [Fact]
    public void Offsets_already_in_flight_are_acquired_again_even_at_the_cap()
    {
        var h = new ShareHarness(new SharePartitionOptions { MaxInFlightRecords = 10 });
        h.Acquire("m1", 0, 9);
        h.Ack("m1", 0, 9, AcknowledgeType.Release);
        Assert.Equal([new AcquiredRange(0, 9, 2)], h.Acquire("m2", 0, 14));
    }

    [Fact]
    public void Offsets_below_the_start_offset_are_never_acquired()
    {
        var h = new ShareHarness(startOffset: 100);
        Assert.Equal([new AcquiredRange(100, 104, 1)], h.Partition.Acquire("m1", 100, [new OffsetRange(95, 104)], 500));
        Assert.Equal(100, h.Partition.StartOffset);
    }

    [Fact]
    public void Gaps_between_fetched_batches_are_acquired_for_the_member_to_acknowledge_as_gaps()
    {
        var h = new ShareHarness();
        Assert.Equal([new AcquiredRange(0, 9, 1)], h.Partition.Acquire("m1", 0, [new(0, 4), new(8, 9)], 500));
        Assert.Equal(Protocol.ErrorCode.None, h.Ack("m1", 5, 7, AcknowledgeType.Gap));
        Assert.Equal(RecordState.Archived, h.At(6).State);
    }

    [Fact]
    public void Available_offsets_the_log_no_longer_has_are_archived()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        h.Ack("m1", 0, 9, AcknowledgeType.Release);
        // Compaction removed 0-4: a read from 0 starts at 5.
        Assert.Equal([new AcquiredRange(5, 9, 2)], h.Partition.Acquire("m2", 0, Batches(5, 9), 500));
        Assert.Equal(5, h.Partition.StartOffset);
    }

    [Fact]
    public void Offsets_skipped_past_the_end_offset_are_archived()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        Assert.Equal([new AcquiredRange(15, 19, 1)], h.Partition.Acquire("m2", 10, Batches(15, 19), 500));
        Assert.Equal(new InFlightBatch(10, 14, RecordState.Archived, 0, null), h.At(12));

        var empty = new ShareHarness();
        Assert.Equal([new AcquiredRange(5, 9, 1)], empty.Partition.Acquire("m1", 0, Batches(5, 9), 500));
        Assert.Equal(5, empty.Partition.StartOffset);
        empty.Partition.CheckInvariants();
    }

    [Fact]
    public void Reading_from_beyond_the_end_offset_is_refused()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Partition.Acquire("m1", 11, Batches(11, 15), 500));
        Assert.Throws<ArgumentException>(() => h.Partition.Acquire("m1", 10, [new(12, 15), new(10, 11)], 500));
        Assert.Throws<ArgumentException>(() => h.Partition.Acquire("", 10, Batches(10, 15), 500));
    }

    [Fact]
    public void Nothing_is_acquired_without_room_for_a_record()
    {
        var h = new ShareHarness();
        Assert.Empty(h.Acquire("m1", 0, 9, maxRecords: 0));
        Assert.Empty(h.Partition.Acquire("m1", 0, [], 500));
        Assert.Equal(0, h.Partition.InFlightCount);
    }
}
