using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Client.Internal.Share;
using Samsa.Client.Serialization;
using Samsa.Client.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Client.Tests.Share;

public class ShareFetchStateTests
{
    private static readonly Guid T = new("0000000a-0000-0000-0000-000000000000");
    private static readonly Guid U = new("0000000b-0000-0000-0000-000000000000");
    private const int Node = 1;

    private static string? NameOf(Guid id) => id == T ? "t" : id == U ? "u" : null;

    private static ShareFetchState<string?, string?> Create(int maxRecords = 500, TimeProvider? time = null) =>
        new(new ShareFetchSettings("g", 500, 1, 1 << 20, maxRecords, ShareAcquireMode.BatchOptimized, CheckCrcs: true), "member-1",
            Deserializers.Utf8, Deserializers.Utf8, NullLogger.Instance, time);

    private static SharePartition P(Guid topic, int partition) => new(topic, NameOf(topic)!, partition);

    /// <summary>A frame holding record batches, one per (base offset, count), values "v{offset}".</summary>
    internal static ResponseBuffer Frame(params (long BaseOffset, int Count)[] batches)
    {
        using var output = new PooledBufferWriter();
        using var builder = new RecordBatchBuilder();
        foreach (var (baseOffset, count) in batches)
        {
            builder.Reset();
            for (int i = 0; i < count; i++)
                builder.Add(1_700_000_000_000, "k"u8, keyIsNull: false, System.Text.Encoding.UTF8.GetBytes($"v{baseOffset + i}"), valueIsNull: false);
            int start = output.WrittenCount;
            builder.Build(output);
            RecordBatchHeader.SetBaseOffset(output.WrittenSpanForUpdate[start..], baseOffset);
        }
        var frame = new ResponseBuffer(output.WrittenCount);
        output.WrittenSpan.CopyTo(frame.Memory.Span);
        return frame;
    }

    private static ShareFetchResponse Response(Guid topic, int partition, ResponseBuffer? frame, params (long First, long Last, short Count)[] acquired) => new()
    {
        Responses =
        [
            new ShareFetchResponse.ShareFetchableTopicResponse
            {
                TopicId = topic,
                Partitions =
                [
                    new ShareFetchResponse.PartitionData
                    {
                        PartitionIndex = partition,
                        Records = frame?.Memory,
                        AcquiredRecords = [.. acquired.Select(a => new ShareFetchResponse.AcquiredRecords { FirstOffset = a.First, LastOffset = a.Last, DeliveryCount = a.Count })],
                    },
                ],
            },
        ],
    };

    /// <summary>Opens the session with one fetch for t-0 that acquires the given ranges out of the given batches.</summary>
    private static void Open(ShareFetchState<string?, string?> state, (long, int)[] batches, params (long, long, short)[] acquired)
    {
        var request = state.BuildFetch(Node, [P(T, 0)], out var acks)!;
        Assert.Equal(0, request.ShareSessionEpoch);
        var frame = Frame(batches);
        Assert.True(state.OnFetchResponse(Node, acks, Response(T, 0, frame, acquired), frame, NameOf));
        frame.Release();
    }

    private static List<ConsumeResult<string?, string?>> Collect(ShareFetchState<string?, string?> state, int max = 500)
    {
        var output = new List<ConsumeResult<string?, string?>>();
        state.Collect(output, max);
        return output;
    }

    private static List<(long First, long Last, string Types)> Acks(ShareFetchRequest request, Guid topic, int partition) =>
        request.Topics.Single(t => t.TopicId == topic).Partitions.Single(p => p.PartitionIndex == partition)
            .AcknowledgementBatches.Select(b => (b.FirstOffset, b.LastOffset, string.Join("", b.AcknowledgeTypes))).ToList();

    [Fact]
    public void Epoch_zero_opens_the_session_with_every_partition_and_the_answer_moves_it_to_one()
    {
        var state = Create();
        var request = state.BuildFetch(Node, [P(T, 0), P(T, 1), P(U, 0)], out var acks)!;
        Assert.Equal(0, request.ShareSessionEpoch);
        Assert.Equal("g", request.GroupId);
        Assert.Equal("member-1", request.MemberId);
        Assert.Equal(500, request.MaxRecords);
        Assert.Equal(500, request.BatchSize);
        Assert.Equal(3, request.Topics.Sum(t => t.Partitions.Count));
        Assert.All(request.Topics.SelectMany(t => t.Partitions), p => Assert.Empty(p.AcknowledgementBatches));
        Assert.False(state.OnFetchResponse(Node, acks, new ShareFetchResponse(), null, NameOf));
        Assert.Equal(1, state.Session(Node).Epoch);

        // Later epochs name only what was added, and forget what went.
        var next = state.BuildFetch(Node, [P(T, 0), P(U, 0), P(U, 1)], out acks)!;
        Assert.Equal(1, next.ShareSessionEpoch);
        var added = Assert.Single(next.Topics);
        Assert.Equal(U, added.TopicId);
        Assert.Equal(1, Assert.Single(added.Partitions).PartitionIndex);
        var forgotten = Assert.Single(next.ForgottenTopicsData);
        Assert.Equal(T, forgotten.TopicId);
        Assert.Equal([1], forgotten.Partitions);
        state.OnFetchResponse(Node, acks, new ShareFetchResponse(), null, NameOf);
        Assert.Equal(2, state.Session(Node).Epoch);
        var nothingNew = state.BuildFetch(Node, [P(T, 0), P(U, 0), P(U, 1)], out _)!;
        Assert.Empty(nothingNew.Topics); // the broker fetches the whole session
        Assert.Empty(nothingNew.ForgottenTopicsData);
    }

    [Fact]
    public void Only_records_inside_acquired_ranges_are_handed_out_with_their_delivery_count()
    {
        var state = Create();
        // Whole log batches 0-9 and 10-19 come back; this member acquired 3-5 (first delivery) and 12-13 (third).
        Open(state, [(0, 10), (10, 10)], (3, 5, 1), (12, 13, 3));
        var records = Collect(state);
        Assert.Equal([3L, 4, 5, 12, 13], records.Select(r => r.Offset));
        Assert.Equal([(short)1, 1, 1, 3, 3], records.Select(r => r.DeliveryCount!.Value));
        Assert.Equal("v12", records[3].Value);
        Assert.False(state.HasBuffered);
        Assert.Equal(5, state.Unacknowledged);
    }

    [Fact]
    public void Max_poll_records_splits_a_fetch_over_polls()
    {
        var state = Create();
        Open(state, [(0, 10)], (0, 9, 1));
        Assert.Equal([0L, 1, 2, 3], Collect(state, max: 4).Select(r => r.Offset));
        Assert.True(state.HasBuffered);
        Assert.Equal([4L, 5, 6, 7], Collect(state, max: 4).Select(r => r.Offset));
        Assert.Equal([8L, 9], Collect(state, max: 4).Select(r => r.Offset));
        Assert.False(state.HasBuffered);
    }

    [Fact]
    public void Implicit_acceptance_rides_on_the_next_fetch_as_one_batch_per_run_of_offsets()
    {
        var state = Create();
        Open(state, [(0, 10)], (0, 3, 1), (6, 7, 1));
        Collect(state);
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        Assert.Equal(0, state.Unacknowledged);
        var request = state.BuildFetch(Node, [P(T, 0)], out var acks)!;
        Assert.Equal(1, request.ShareSessionEpoch);
        Assert.Equal([(0L, 3L, "1"), (6L, 7L, "1")], Acks(request, T, 0));
        Assert.False(state.HasPendingAcknowledgements);

        state.OnFetchResponse(Node, acks, Response(T, 0, null), null, NameOf);
        var result = Assert.Single(state.TakeCompleted());
        Assert.Null(result.Error);
        Assert.Equal([0L, 1, 2, 3, 6, 7], result.Offsets);
    }

    [Fact]
    public void Acquired_offsets_without_a_record_are_acknowledged_as_gaps()
    {
        var state = Create();
        // Acquired 0-9, but the log has only 0-4 and 8-9 (5-7 compacted away or a control batch).
        Open(state, [(0, 5), (8, 2)], (0, 9, 1));
        Assert.Equal([0L, 1, 2, 3, 4, 8, 9], Collect(state).Select(r => r.Offset));
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        var request = state.BuildFetch(Node, [P(T, 0)], out var acks)!;
        Assert.Equal([(0L, 9L, "1111100011")], Acks(request, T, 0));
        state.OnFetchResponse(Node, acks, Response(T, 0, null), null, NameOf);
        Assert.Equal([0L, 1, 2, 3, 4, 8, 9], Assert.Single(state.TakeCompleted()).Offsets); // gaps are not the application's
    }

    [Fact]
    public void Explicit_acknowledgements_take_any_order_and_only_records_of_the_last_poll()
    {
        var state = Create();
        Open(state, [(0, 4)], (0, 3, 1));
        Collect(state);
        Assert.True(state.Acknowledge("t", 0, 2, AcknowledgeType.Reject));
        Assert.True(state.Acknowledge("t", 0, 0, AcknowledgeType.Accept));
        Assert.False(state.Acknowledge("t", 0, 9, AcknowledgeType.Accept));
        Assert.False(state.Acknowledge("u", 0, 0, AcknowledgeType.Accept));
        Assert.Equal(2, state.Unacknowledged);
        state.TakeAcknowledged();
        Assert.Equal(2, state.Unacknowledged); // 1 and 3 still to acknowledge
        Assert.True(state.Acknowledge("t", 0, 1, AcknowledgeType.Release));
        Assert.True(state.Acknowledge("t", 0, 3, AcknowledgeType.Accept));
        state.TakeAcknowledged();
        Assert.False(state.Acknowledge("t", 0, 0, AcknowledgeType.Release)); // already taken for sending
        var request = state.BuildFetch(Node, [P(T, 0)], out _)!;
        Assert.Equal([(0L, 3L, "1231")], Acks(request, T, 0));
    }

    [Fact]
    public void Refused_acknowledgements_are_reported_per_partition()
    {
        var state = Create();
        Open(state, [(0, 2)], (0, 1, 1));
        Collect(state);
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        var request = state.BuildFetch(Node, [P(T, 0)], out var acks)!;
        var response = Response(T, 0, null);
        response.Responses[0].Partitions[0].AcknowledgeErrorCode = (short)ErrorCode.InvalidRecordState;
        state.OnFetchResponse(Node, acks, response, null, NameOf);
        var result = Assert.Single(state.TakeCompleted());
        Assert.Equal(new TopicPartition("t", 0), result.Partition);
        Assert.Equal(ErrorCode.InvalidRecordState, result.Error!.Error);
    }

    [Theory]
    [InlineData(ErrorCode.ShareSessionNotFound)]
    [InlineData(ErrorCode.InvalidShareSessionEpoch)]
    public void A_session_error_starts_the_session_over_and_fails_what_it_carried(ErrorCode error)
    {
        var state = Create();
        Open(state, [(0, 2)], (0, 1, 1));
        Collect(state);
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        state.BuildFetch(Node, [P(T, 0)], out var acks);
        state.OnFetchResponse(Node, acks, new ShareFetchResponse { ErrorCode = error }, null, NameOf);
        Assert.Equal(0, state.Session(Node).Epoch);
        Assert.Equal(error, Assert.Single(state.TakeCompleted()).Error!.Error);
        var reopen = state.BuildFetch(Node, [P(T, 0)], out _)!;
        Assert.Equal(0, reopen.ShareSessionEpoch);
        Assert.Single(reopen.Topics);
    }

    [Fact]
    public void Acknowledgements_cannot_open_a_session_so_after_a_broken_connection_they_fail()
    {
        var state = Create();
        Open(state, [(0, 2)], (0, 1, 1));
        Collect(state);
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        state.OnRequestFailed(Node, AcknowledgementsInFlight.None, new KafkaConnectionException("gone"));
        var request = state.BuildFetch(Node, [P(T, 0)], out var acks)!;
        Assert.Equal(0, request.ShareSessionEpoch);
        Assert.Empty(acks.Partitions);
        Assert.All(request.Topics.SelectMany(t => t.Partitions), p => Assert.Empty(p.AcknowledgementBatches));
        Assert.Equal(ErrorCode.InvalidShareSessionEpoch, Assert.Single(state.TakeCompleted()).Error!.Error);
        Assert.Null(state.BuildAcknowledge(Node, close: true, out _)); // no session to close either
    }

    [Fact]
    public void Commit_sends_a_share_acknowledge_in_the_session_and_close_uses_epoch_minus_one()
    {
        var state = Create();
        Open(state, [(0, 3)], (0, 2, 1));
        Collect(state);
        Assert.Null(state.BuildAcknowledge(Node, close: false, out _)); // nothing acknowledged yet
        state.Acknowledge("t", 0, 0, AcknowledgeType.Accept);
        state.TakeAcknowledged();
        var commit = state.BuildAcknowledge(Node, close: false, out var acks)!;
        Assert.Equal(1, commit.ShareSessionEpoch);
        var batch = Assert.Single(Assert.Single(Assert.Single(commit.Topics).Partitions).AcknowledgementBatches);
        Assert.Equal((0L, 0L, "1"), (batch.FirstOffset, batch.LastOffset, string.Join("", batch.AcknowledgeTypes)));
        state.OnAcknowledgeResponse(Node, close: false, acks, new ShareAcknowledgeResponse
        {
            Responses = [new() { TopicId = T, Partitions = [new() { PartitionIndex = 0 }] }],
        });
        Assert.Null(Assert.Single(state.TakeCompleted()).Error);
        Assert.Equal(2, state.Session(Node).Epoch);

        // Close: what is held and unacknowledged is left to the broker, which releases it with the session.
        var close = state.BuildAcknowledge(Node, close: true, out acks)!;
        Assert.Equal(ShareSession.CloseEpoch, close.ShareSessionEpoch);
        Assert.Empty(close.Topics);
        state.OnAcknowledgeResponse(Node, close: true, acks, new ShareAcknowledgeResponse());
        Assert.False(state.Session(Node).IsOpen);
    }

    [Fact]
    public void Records_acquired_but_not_handed_out_are_released()
    {
        var state = Create();
        Open(state, [(0, 10)], (0, 9, 2));
        Collect(state, max: 3);
        state.ReleaseBuffered();
        Assert.False(state.HasBuffered);
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        var request = state.BuildFetch(Node, [P(T, 0)], out _)!;
        Assert.Equal([(0L, 9L, "1112222222")], Acks(request, T, 0));
    }

    [Fact]
    public void Records_acquired_again_for_a_partition_still_buffered_are_not_handed_out_twice()
    {
        var state = Create();
        Open(state, [(0, 10)], (0, 9, 1));
        Assert.Equal(3, Collect(state, max: 3).Count);
        // librdkafka's mock answers with everything the member holds (3-9 again), here plus 10-11.
        state.BuildFetch(Node, [P(T, 0)], out var acks);
        var frame = Frame((0, 12));
        state.OnFetchResponse(Node, acks, Response(T, 0, frame, (3, 11, 1)), frame, NameOf);
        frame.Release();
        Assert.Equal([3L, 4, 5, 6, 7, 8, 9], Collect(state).Select(r => r.Offset));
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        var request = state.BuildFetch(Node, [P(T, 0)], out _)!;
        Assert.Equal([(0L, 11L, "111111111122")], Acks(request, T, 0));
    }

    [Fact]
    public void A_record_that_cannot_be_deserialized_is_released_and_reported()
    {
        var state = new ShareFetchState<string?, int>(new ShareFetchSettings("g", 500, 1, 1 << 20, 500, ShareAcquireMode.BatchOptimized, true), "m",
            Deserializers.Utf8, Deserializers.BigEndianInt, NullLogger.Instance);
        state.BuildFetch(Node, [P(T, 0)], out var acks);
        var frame = Frame((0, 2)); // "v0" is not a 4-byte int
        state.OnFetchResponse(Node, acks, Response(T, 0, frame, (0, 1, 1)), frame, NameOf);
        frame.Release();
        var e = Assert.Throws<ShareDeserializationException>(() => state.Collect([], 500));
        Assert.Equal(0, e.Offset);
        var request = state.BuildFetch(Node, [P(T, 0)], out _)!;
        Assert.Equal([(0L, 0L, "2")], Acks(request, T, 0));
    }

    [Fact]
    public void Partition_errors_mark_metadata_stale_and_topic_authorization_throws()
    {
        var state = Create();
        state.BuildFetch(Node, [P(T, 0)], out var acks);
        var response = Response(T, 0, null);
        response.Responses[0].Partitions[0].ErrorCode = ErrorCode.NotLeaderOrFollower;
        state.OnFetchResponse(Node, acks, response, null, NameOf);
        Assert.True(state.MetadataStale);
        state.BuildFetch(Node, [P(T, 0)], out acks);
        response.Responses[0].Partitions[0].ErrorCode = ErrorCode.TopicAuthorizationFailed;
        Assert.Throws<Samsa.Client.Errors.TopicAuthorizationException>(() => state.OnFetchResponse(Node, acks, response, null, NameOf));
    }

    [Fact]
    public void Buffered_records_whose_lock_ran_out_are_dropped_unacknowledged_and_never_handed_out()
    {
        var time = new FakeTimeProvider();
        var state = Create(time: time);
        var request = state.BuildFetch(Node, [P(T, 0)], out var acks)!;
        long sentAt = time.GetTimestamp();
        time.Advance(TimeSpan.FromMilliseconds(200)); // the long poll: the broker acquired somewhere in here
        var frame = Frame((0, 10));
        var response = Response(T, 0, frame, (0, 9, 1));
        response.AcquisitionLockTimeoutMs = 1000;
        Assert.True(state.OnFetchResponse(Node, acks, response, frame, NameOf, sentAt));
        frame.Release();

        Assert.Equal([0L, 1, 2], Collect(state, max: 3).Select(r => r.Offset));
        time.Advance(TimeSpan.FromMilliseconds(799)); // 999 ms after sending: still ours
        Assert.Equal([3L, 4, 5], Collect(state, max: 3).Select(r => r.Offset));
        time.Advance(TimeSpan.FromMilliseconds(1)); // 1000 ms after sending: the broker may have let them go
        Assert.Empty(Collect(state, max: 3));
        Assert.False(state.HasBuffered);
        Assert.Equal(4, state.ExpiredDropped);

        // What the application had is still its to acknowledge (the broker may refuse it); the
        // dropped offsets are neither released nor reported as gaps.
        state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        state.TakeAcknowledged();
        var next = state.BuildFetch(Node, [P(T, 0)], out _)!;
        Assert.Equal([(0L, 5L, "1")], Acks(next, T, 0)); // 0-5 accepted, 6-9 absent
    }

    [Fact]
    public void A_fetch_with_no_lock_duration_keeps_its_records_buffered_however_long()
    {
        var time = new FakeTimeProvider();
        var state = Create(time: time);
        Open(state, [(0, 4)], (0, 3, 1)); // AcquisitionLockTimeoutMs 0: the broker did not say
        Assert.Equal([0L, 1], Collect(state, max: 2).Select(r => r.Offset));
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([2L, 3], Collect(state, max: 2).Select(r => r.Offset));
        Assert.Equal(0, state.ExpiredDropped);
    }

    [Fact]
    public void Close_releases_buffered_records_still_locked_but_not_those_whose_lock_ran_out()
    {
        var time = new FakeTimeProvider();
        var state = Create(time: time);
        var request = state.BuildFetch(Node, [P(T, 0), P(T, 1)], out var acks)!;
        var frame = Frame((0, 4));
        var response = Response(T, 0, frame, (0, 3, 1));
        response.AcquisitionLockTimeoutMs = 1000;
        state.OnFetchResponse(Node, acks, response, frame, NameOf, time.GetTimestamp());
        time.Advance(TimeSpan.FromMilliseconds(600));
        var second = Response(T, 1, frame, (0, 3, 1));
        second.AcquisitionLockTimeoutMs = 1000;
        state.BuildFetch(Node, [P(T, 0), P(T, 1)], out acks);
        state.OnFetchResponse(Node, acks, second, frame, NameOf, time.GetTimestamp());
        frame.Release();
        time.Advance(TimeSpan.FromMilliseconds(500)); // t-0's lock ran out, t-1's has 100 ms left

        state.ReleaseBuffered();
        var close = state.BuildAcknowledge(Node, close: true, out _)!;
        var partitions = close.Topics.Single().Partitions;
        var released = Assert.Single(partitions);
        Assert.Equal(1, released.PartitionIndex);
        Assert.Equal((0L, 3L, "2"), (released.AcknowledgementBatches[0].FirstOffset, released.AcknowledgementBatches[0].LastOffset, string.Join("", released.AcknowledgementBatches[0].AcknowledgeTypes)));
        Assert.Equal(4, state.ExpiredDropped);
    }

    [Fact]
    public void Handing_out_records_allocates_no_more_than_the_regular_consumer()
    {
        var frame = Frame(Enumerable.Range(0, 20).Select(b => ((long)b * 100, 100)).ToArray());
        long PerRecord()
        {
            using var records = new ShareRecords("t", 0, T, Node, frame.Memory, frame.AddReference(), [new AcquiredRange(0, 1999, 1)], checkCrcs: true);
            var output = new List<ConsumeResult<Ignore?, Ignore?>>(2000);
            var gaps = new List<(long, long)>();
            long before = GC.GetAllocatedBytesForCurrentThread();
            int n = records.Drain(output, 2000, Deserializers.Ignore, Deserializers.Ignore, gaps);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(2000, n);
            return allocated / n;
        }
        PerRecord(); // warm up
        long perRecord = PerRecord();
        Assert.True(perRecord <= 112, $"{perRecord} bytes per record"); // the ConsumeResult, as PartitionRecords
        frame.Release();
    }
}
