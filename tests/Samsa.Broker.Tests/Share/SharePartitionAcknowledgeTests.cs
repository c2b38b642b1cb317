using Samsa.Broker.Share;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Share;

public class SharePartitionAcknowledgeTests
{
    private static ShareHarness Holding(string member = "m1", long first = 0, long last = 9, SharePartitionOptions? options = null)
    {
        var h = new ShareHarness(options);
        h.Acquire(member, first, last);
        return h;
    }

    [Fact]
    public void Accepting_a_prefix_moves_the_start_offset_and_forgets_it()
    {
        var h = Holding();
        Assert.Equal(ErrorCode.None, h.Ack("m1", 0, 4, AcknowledgeType.Accept));
        Assert.Equal(5, h.Partition.StartOffset);
        Assert.Null(h.Partition.StateOf(4));
        Assert.Equal(RecordState.Acquired, h.At(5).State);
        h.Partition.CheckInvariants();
    }

    [Fact]
    public void Accepting_past_an_unfinished_offset_leaves_the_start_offset_until_it_is_done()
    {
        var h = Holding();
        h.Ack("m1", 3, 5, AcknowledgeType.Accept);
        Assert.Equal(0, h.Partition.StartOffset);
        Assert.Equal(new InFlightBatch(3, 5, RecordState.Acknowledged, 1, null), h.At(4));

        h.Ack("m1", 0, 2, AcknowledgeType.Accept);
        Assert.Equal(6, h.Partition.StartOffset);
    }

    [Theory]
    [InlineData((sbyte)AcknowledgeType.Reject)]
    [InlineData((sbyte)AcknowledgeType.Gap)]
    public void Rejects_and_gaps_are_archived(sbyte type)
    {
        var h = Holding();
        Assert.Equal(ErrorCode.None, h.Ack("m1", 0, 9, (AcknowledgeType)type));
        Assert.Equal((10L, 9L, 0L), (h.Partition.StartOffset, h.Partition.EndOffset, h.Partition.InFlightCount));
        Assert.Equal(10, h.Partition.NextFetchOffset());
    }

    [Fact]
    public void A_release_makes_offsets_available_keeping_their_count()
    {
        var h = Holding();
        h.Ack("m1", 0, 9, AcknowledgeType.Release);
        Assert.Equal(new InFlightBatch(0, 9, RecordState.Available, 1, null), h.At(0));
        Assert.Equal(0, h.Partition.StartOffset);
    }

    [Fact]
    public void A_release_of_the_last_permitted_delivery_archives()
    {
        var h = Holding(options: new SharePartitionOptions { DeliveryCountLimit = 2 });
        h.Ack("m1", 0, 9, AcknowledgeType.Release);
        Assert.Equal([new AcquiredRange(0, 9, 2)], h.Acquire("m2", 0, 9));
        h.Ack("m2", 0, 9, AcknowledgeType.Release);
        Assert.Equal(10, h.Partition.StartOffset);
        Assert.Empty(h.Partition.InFlight());
    }

    [Fact]
    public void One_type_per_offset_applies_each_to_its_offset()
    {
        var h = Holding();
        var batch = new ShareAcknowledgement(0, 4, [(sbyte)AcknowledgeType.Accept, (sbyte)AcknowledgeType.Release,
            (sbyte)AcknowledgeType.Reject, (sbyte)AcknowledgeType.Gap, (sbyte)AcknowledgeType.Accept]);
        Assert.Equal(ErrorCode.None, h.Partition.Acknowledge("m1", [batch]));

        Assert.Equal(1, h.Partition.StartOffset);
        Assert.Equal(
            [
                new InFlightBatch(1, 1, RecordState.Available, 1, null),
                new InFlightBatch(2, 3, RecordState.Archived, 1, null),
                new InFlightBatch(4, 4, RecordState.Acknowledged, 1, null),
                new InFlightBatch(5, 9, RecordState.Acquired, 1, "m1"),
            ],
            h.Partition.InFlight());
    }

    [Fact]
    public void Offsets_another_member_holds_are_an_invalid_record_state()
    {
        var h = Holding();
        Assert.Equal(ErrorCode.InvalidRecordState, h.Ack("m2", 0, 4, AcknowledgeType.Accept));
        Assert.Equal("m1", h.At(0).MemberId);
    }

    [Fact]
    public void Offsets_not_acquired_are_an_invalid_record_state()
    {
        var h = Holding();
        h.Ack("m1", 0, 1, AcknowledgeType.Release);
        h.Ack("m1", 2, 3, AcknowledgeType.Accept);
        Assert.Equal(ErrorCode.InvalidRecordState, h.Ack("m1", 0, 0, AcknowledgeType.Accept));
        Assert.Equal(ErrorCode.InvalidRecordState, h.Ack("m1", 3, 4, AcknowledgeType.Reject));
        Assert.Equal(RecordState.Acquired, h.At(4).State);
    }

    [Fact]
    public void An_expired_lock_is_an_invalid_record_state()
    {
        var h = Holding();
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ErrorCode.InvalidRecordState, h.Ack("m1", 0, 9, AcknowledgeType.Accept));
        Assert.Equal(RecordState.Available, h.At(0).State);
    }

    [Fact]
    public void Offsets_past_the_end_offset_are_an_invalid_request_and_nothing_in_flight_an_invalid_record_state()
    {
        var h = Holding();
        Assert.Equal(ErrorCode.InvalidRequest, h.Ack("m1", 5, 10, AcknowledgeType.Accept));
        Assert.Equal(ErrorCode.InvalidRecordState, new ShareHarness().Ack("m1", 0, 0, AcknowledgeType.Accept));
    }

    public static TheoryData<long, long, sbyte[]> Malformed => new()
    {
        { 5, 4, [1] },              // last before first
        { 0, 4, [1, 1] },           // neither one type nor one per offset
        { 0, 4, [5] },              // no such type
        { 0, 0, [-1] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_batches_are_an_invalid_request(long first, long last, sbyte[] types)
    {
        var h = Holding();
        Assert.Equal(ErrorCode.InvalidRequest, h.Partition.Acknowledge("m1", [new ShareAcknowledgement(first, last, types)]));
    }

    [Fact]
    public void Batches_out_of_order_or_overlapping_are_an_invalid_request()
    {
        var h = Holding();
        Assert.Equal(ErrorCode.InvalidRequest, h.Partition.Acknowledge("m1", [new(5, 6, AcknowledgeType.Accept), new(0, 1, AcknowledgeType.Accept)]));
        Assert.Equal(ErrorCode.InvalidRequest, h.Partition.Acknowledge("m1", [new(0, 5, AcknowledgeType.Accept), new(5, 6, AcknowledgeType.Accept)]));
        Assert.Equal(RecordState.Acquired, h.At(0).State);
    }

    [Fact]
    public void A_request_is_applied_all_or_none()
    {
        var h = Holding();
        h.Acquire("m2", 10, 19);
        var error = h.Partition.Acknowledge("m1", [new(0, 4, AcknowledgeType.Accept), new(8, 12, AcknowledgeType.Accept)]);
        Assert.Equal(ErrorCode.InvalidRecordState, error);
        Assert.Equal(0, h.Partition.StartOffset);
        Assert.Equal(new InFlightBatch(0, 9, RecordState.Acquired, 1, "m1"), h.At(0));
    }

    [Fact]
    public void Offsets_below_the_start_offset_are_skipped()
    {
        var h = Holding();
        h.Ack("m1", 0, 4, AcknowledgeType.Accept);
        Assert.Equal(ErrorCode.None, h.Ack("m1", 0, 4, AcknowledgeType.Reject));
        // A batch across the start offset applies to the part at or above it.
        Assert.Equal(ErrorCode.None, h.Ack("m1", 3, 7, AcknowledgeType.Accept));
        Assert.Equal(8, h.Partition.StartOffset);
    }

    [Fact]
    public void A_renewal_restarts_the_lock_and_keeps_the_member()
    {
        var h = Holding();
        h.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(ErrorCode.None, h.Ack("m1", 0, 4, AcknowledgeType.Renew));
        Assert.Equal(TimeSpan.FromSeconds(10), h.Partition.NextLockExpiry());

        h.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(new InFlightBatch(0, 4, RecordState.Acquired, 1, "m1"), h.At(0));
        Assert.Equal(RecordState.Available, h.At(5).State);
        Assert.Equal(ErrorCode.None, h.Ack("m1", 0, 4, AcknowledgeType.Accept));
        Assert.Equal(5, h.Partition.StartOffset);
    }
}
