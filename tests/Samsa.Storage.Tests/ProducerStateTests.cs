using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Protocol;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>
/// Idempotent producers across restarts: a retry is recognised whether the log was closed cleanly
/// (Dispose without Close is a crash: no snapshot, no clean-shutdown marker) and whatever retention
/// removed; only the log after the newest snapshot is read at a start.
/// </summary>
public sealed class ProducerStateTests : LogDirectoryTest
{
    private const long Pid = 4242;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));

    private PartitionLog Open(long segmentBytes = 1 << 20, long expirationMs = 24L * 60 * 60 * 1000) =>
        PartitionLog.Open(Dir, new LogConfig { SegmentBytes = segmentBytes, ProducerIdExpirationMs = expirationMs }, NullLogger.Instance, _time);

    private byte[] Batch(int firstSequence, int records = 5, short epoch = 0, long producerId = Pid)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = firstSequence };
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < records; i++)
            builder.Add(now, [(byte)i], false, new byte[20], false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    private static AppendResult Append(PartitionLog log, byte[] batch) => log.AppendChecked(batch.AsSpan().ToArray());

    [Fact]
    public void Retries_are_recognised_gaps_refused_and_old_epochs_fenced()
    {
        using var log = Open();
        Assert.Equal(new AppendResult(ErrorCode.None, 0, false), Append(log, Batch(0)));
        Assert.Equal(new AppendResult(ErrorCode.None, 5, false), Append(log, Batch(5)));
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(log, Batch(0)));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(log, Batch(12)).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, Append(log, Batch(10, epoch: -1)).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(log, Batch(3, epoch: 1)).Error); // a new epoch starts at 0
        Assert.Equal(10, log.LogEndOffset);
        Assert.Equal(new AppendResult(ErrorCode.None, 10, false), Append(log, Batch(0, epoch: 1)));
        Assert.Equal(new AppendResult(ErrorCode.None, 15, false), Append(log, Batch(42, producerId: 7))); // unknown: any sequence
        Assert.Equal(new AppendResult(ErrorCode.None, 20, false), Append(log, Batch(0, records: 1, producerId: -1)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Each_of_the_last_five_batches_is_recognised_after_a_restart(bool clean)
    {
        using (var log = Open())
        {
            for (int i = 0; i < 7; i++)
                Append(log, Batch(i * 5));
            if (clean)
                log.Close();
        }
        using var reopened = Open();
        Assert.Equal(35, reopened.LogEndOffset);
        for (int i = 2; i < 7; i++)
            Assert.Equal(new AppendResult(ErrorCode.None, i * 5, true), Append(reopened, Batch(i * 5)));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(reopened, Batch(5)).Error); // older than five batches: not a retry
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(reopened, Batch(40)).Error);
        Assert.Equal(new AppendResult(ErrorCode.None, 35, false), Append(reopened, Batch(35)));
        Assert.Equal(clean ? 0 : 7, reopened.ProducerBatchesReplayed);
    }

    [Fact]
    public void A_crash_replays_only_the_batches_after_the_last_roll()
    {
        int size = Batch(0).Length;
        using (var log = Open(segmentBytes: size * 3))
        {
            for (int i = 0; i < 20; i++)
                Append(log, Batch(i * 5));
        }
        using var reopened = Open(segmentBytes: size * 3);
        Assert.Equal(100, reopened.LogEndOffset);
        Assert.True(reopened.ProducerSnapshotLoaded > 0, "a roll wrote a snapshot");
        Assert.InRange(reopened.ProducerBatchesReplayed, 1, 3);
        Assert.Equal(new AppendResult(ErrorCode.None, 95, true), Append(reopened, Batch(95)));
        Assert.Equal(new AppendResult(ErrorCode.None, 100, false), Append(reopened, Batch(100)));
        Assert.True(Directory.GetFiles(Dir, "*.snapshot").Length <= 2, "old snapshots are dropped");
    }

    [Fact]
    public void The_state_survives_retention_deleting_the_segments_it_came_from()
    {
        int size = Batch(0).Length;
        using (var log = Open(segmentBytes: size))
        {
            Append(log, Batch(0, producerId: 1));
            Append(log, Batch(0, producerId: 2));
            for (int i = 1; i < 4; i++)
                Append(log, Batch(i * 5, producerId: 2));
            // Every segment but the active one goes; producer 1's only batch with it.
            Assert.Equal(4, log.EnforceRetention(_time.GetUtcNow().ToUnixTimeMilliseconds(), retentionMs: -1, retentionBytes: 1));
            Assert.Equal(20, log.LogStartOffset);
        }
        using var reopened = Open(segmentBytes: size);
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(reopened, Batch(0, producerId: 1)));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(reopened, Batch(9, producerId: 1)).Error);
        Assert.Equal(new AppendResult(ErrorCode.None, 25, false), Append(reopened, Batch(5, producerId: 1)));
        Assert.Equal(new AppendResult(ErrorCode.None, 20, true), Append(reopened, Batch(15, producerId: 2)));
    }

    [Fact]
    public void The_state_survives_compaction_removing_the_batches_it_came_from()
    {
        int size = Batch(0).Length;
        using (var log = Open(segmentBytes: size * 2))
        {
            Append(log, Batch(0, producerId: 1));
            for (int i = 0; i < 5; i++)
                Append(log, Batch(i * 5, producerId: 2)); // the same five keys again and again
            var result = log.Compact(_time.GetUtcNow().ToUnixTimeMilliseconds(), deleteRetentionMs: 0);
            Assert.True(result.RecordsRemoved >= 5, $"compaction removed {result.RecordsRemoved} records");
        }
        using var reopened = Open(segmentBytes: size * 2);
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(reopened, Batch(0, producerId: 1)));
        Assert.Equal(new AppendResult(ErrorCode.None, 25, true), Append(reopened, Batch(20, producerId: 2)));
        Assert.Equal(new AppendResult(ErrorCode.None, 30, false), Append(reopened, Batch(25, producerId: 2)));
    }

    [Fact]
    public void A_corrupt_snapshot_falls_back_to_replaying_the_log()
    {
        using (var log = Open())
        {
            for (int i = 0; i < 3; i++)
                Append(log, Batch(i * 5));
            log.Close();
        }
        var snapshot = Assert.Single(Directory.GetFiles(Dir, "*.snapshot"));
        var bytes = File.ReadAllBytes(snapshot);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(snapshot, bytes);
        using var reopened = Open();
        Assert.Equal(-1, reopened.ProducerSnapshotLoaded);
        Assert.Equal(3, reopened.ProducerBatchesReplayed);
        Assert.Equal(new AppendResult(ErrorCode.None, 10, true), Append(reopened, Batch(10)));
    }

    [Fact]
    public void A_producer_silent_past_the_expiration_is_forgotten_and_may_start_anywhere()
    {
        using (var log = Open(expirationMs: 60_000))
        {
            Append(log, Batch(0));
            _time.Advance(TimeSpan.FromSeconds(59));
            Assert.Equal(0, log.RemoveExpiredProducers(_time.GetUtcNow().ToUnixTimeMilliseconds()));
            Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(log, Batch(50)).Error);
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, log.RemoveExpiredProducers(_time.GetUtcNow().ToUnixTimeMilliseconds()));
            Assert.Equal(0, log.ProducerCount);
            Append(log, Batch(0, producerId: 9));
            log.Close();
        }
        _time.Advance(TimeSpan.FromSeconds(61));
        using var reopened = Open(expirationMs: 60_000);
        Assert.Equal(0, reopened.ProducerCount); // expired while the broker was down
        Assert.Equal(new AppendResult(ErrorCode.None, 10, false), Append(reopened, Batch(77, producerId: 9)));
    }

    [Fact]
    public void Sequences_wrap_from_int_max_to_zero()
    {
        using var log = Open();
        Assert.Equal(ErrorCode.None, Append(log, Batch(int.MaxValue - 4)).Error);
        Assert.Equal(new AppendResult(ErrorCode.None, 5, false), Append(log, Batch(0)));
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(log, Batch(int.MaxValue - 4)));
    }
}
