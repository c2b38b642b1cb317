using Samsa.Broker.Share;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Share;

public class SharePartitionLockTests
{
    [Fact]
    public void A_lock_ends_exactly_at_the_lock_duration()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        Assert.Equal(TimeSpan.FromSeconds(30), h.Partition.NextLockExpiry());

        h.Time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(RecordState.Acquired, h.At(0).State);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(new InFlightBatch(0, 9, RecordState.Available, 1, null), h.At(0));
        Assert.Equal(0, h.Partition.NextFetchOffset());
        Assert.Null(h.Partition.NextLockExpiry());
    }

    [Fact]
    public void The_lock_duration_is_a_setting()
    {
        var h = new ShareHarness(new SharePartitionOptions { RecordLockDuration = TimeSpan.FromSeconds(2) });
        h.Acquire("m1", 0, 9);
        h.Time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(0, h.Partition.ExpireLocks());
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(10, h.Partition.ExpireLocks());
        Assert.Equal(RecordState.Available, h.At(9).State);
    }

    [Fact]
    public void Expire_locks_reports_how_many_offsets_it_released()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        h.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(10, h.Partition.ExpireLocks());
        Assert.Equal(0, h.Partition.ExpireLocks());
    }

    [Fact]
    public void A_lock_expiring_on_the_last_permitted_delivery_archives()
    {
        var h = new ShareHarness(new SharePartitionOptions { DeliveryCountLimit = 2 });
        h.Acquire("m1", 0, 9);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal([new AcquiredRange(0, 9, 2)], h.Acquire("m2", 0, 9));
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(10, h.Partition.StartOffset);
        Assert.Equal(10, h.Partition.NextFetchOffset());
    }

    [Fact]
    public void Each_acquisition_has_its_own_lock()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 4);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Acquire("m1", 5, 9);
        Assert.Equal(TimeSpan.FromSeconds(20), h.Partition.NextLockExpiry());

        h.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(RecordState.Available, h.At(4).State);
        Assert.Equal(RecordState.Acquired, h.At(5).State);
        Assert.Equal(TimeSpan.FromSeconds(10), h.Partition.NextLockExpiry());
    }

    [Fact]
    public void A_member_leaving_releases_what_it_holds_and_the_delivery_counts()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 4);
        h.Acquire("m2", 5, 9);
        Assert.Equal(5, h.Partition.ReleaseMember("m1"));

        // KAFKA-19972: the released records keep their count; the next acquisition makes it 2.
        Assert.Equal(new InFlightBatch(0, 4, RecordState.Available, 1, null), h.At(0));
        Assert.Equal(new InFlightBatch(5, 9, RecordState.Acquired, 1, "m2"), h.At(5));
        Assert.Equal([new AcquiredRange(0, 4, 2)], h.Acquire("m3", 0, 9));
        Assert.Equal(0, h.Partition.ReleaseMember("nobody"));
    }

    [Fact]
    public void A_member_leaving_on_the_last_permitted_delivery_archives()
    {
        var h = new ShareHarness(new SharePartitionOptions { DeliveryCountLimit = 2 });
        h.Acquire("m1", 0, 9);
        h.Ack("m1", 0, 9, AcknowledgeType.Release);
        Assert.Equal(new InFlightBatch(0, 9, RecordState.Available, 1, null), h.At(0));
        h.Acquire("m1", 0, 9);
        h.Partition.ReleaseMember("m1");
        Assert.Equal(10, h.Partition.StartOffset);
        Assert.Null(h.Partition.StateOf(0));
    }

    [Fact]
    public void Released_and_expired_records_keep_their_count_until_the_next_acquisition()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 2);
        h.Ack("m1", 0, 0, AcknowledgeType.Release);
        h.Partition.ReleaseMember("m1");
        Assert.Equal(new InFlightBatch(0, 2, RecordState.Available, 1, null), h.At(0));
        Assert.Equal([new AcquiredRange(0, 2, 2)], h.Acquire("m2", 0, 2));
        h.Time.Advance(TimeSpan.FromSeconds(30));
        h.Partition.ExpireLocks();
        Assert.Equal(new InFlightBatch(0, 2, RecordState.Available, 2, null), h.At(0));
        Assert.Equal([new AcquiredRange(0, 2, 3)], h.Acquire("m3", 0, 2));
    }

    [Fact]
    public void A_moved_log_start_archives_what_is_below_it()
    {
        var h = new ShareHarness();
        h.Acquire("m1", 0, 9);
        h.Ack("m1", 0, 4, AcknowledgeType.Release);
        h.Partition.AdvanceToLogStart(7);

        Assert.Equal(7, h.Partition.StartOffset);
        Assert.Null(h.Partition.StateOf(6));
        Assert.Equal(new InFlightBatch(7, 9, RecordState.Acquired, 1, "m1"), h.At(7));
        // The member's acknowledgement of records that left the log is ignored, not an error.
        Assert.Equal(ErrorCode.None, h.Ack("m1", 5, 9, AcknowledgeType.Accept));
        Assert.Equal(10, h.Partition.StartOffset);

        h.Partition.AdvanceToLogStart(50);
        Assert.Equal((50L, 49L), (h.Partition.StartOffset, h.Partition.EndOffset));
        h.Partition.AdvanceToLogStart(20);
        Assert.Equal(50, h.Partition.StartOffset);
    }
}
