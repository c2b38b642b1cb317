using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Storage.Tests;

public sealed class PartitionLogTests : LogDirectoryTest
{
    private PartitionLog Open(long segmentBytes = 1 << 20) =>
        PartitionLog.Open(Dir, new LogConfig { SegmentBytes = segmentBytes }, NullLogger.Instance);

    internal static byte[] Batch(int records, long timestamp = 1000, int valueSize = 20)
    {
        using var builder = new RecordBatchBuilder();
        for (int i = 0; i < records; i++)
        {
            var value = new byte[valueSize];
            value[0] = (byte)i;
            builder.Add(timestamp + i, [(byte)i], false, value, false);
        }
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Every offset in the log, reading segment after segment (a read stops at a segment's end).</summary>
    internal static List<long> AllOffsets(PartitionLog log)
    {
        var offsets = new List<long>();
        while (offsets.Count < log.LogEndOffset)
        {
            using var read = log.Read(offsets.Count, 1 << 20);
            Assert.True(read.Length > 0);
            offsets.AddRange(OffsetsIn(read));
        }
        return offsets;
    }

    private static List<long> OffsetsIn(LogRead read)
    {
        var offsets = new List<long>();
        ReadOnlyMemory<byte> buffer = read.Memory;
        while (RecordBatch.TryReadNext(ref buffer, out var batch))
        {
            Assert.True(batch.CrcMatches);
            foreach (var r in batch.GetRecords())
                offsets.Add(r.Offset);
        }
        return offsets;
    }

    [Fact]
    public void Appends_assign_dense_offsets_and_reads_return_whole_batches_from_the_one_holding_the_offset()
    {
        using var log = Open();
        Assert.Equal(0, log.Append(Batch(3)));
        Assert.Equal(3, log.Append(Batch(2)));
        Assert.Equal(5, log.LogEndOffset);
        using var read = log.Read(4, 1 << 20);
        Assert.Equal(3, read.FirstOffset);
        Assert.Equal([3L, 4L], OffsetsIn(read));
        using var all = log.Read(0, 1);
        Assert.Equal([0L, 1L, 2L], OffsetsIn(all)); // at least one batch even past maxBytes
        using var none = log.Read(5, 1 << 20);
        Assert.Equal(0, none.Length);
    }

    [Fact]
    public void Segments_roll_and_everything_reloads_after_a_restart()
    {
        int batchSize = Batch(4).Length;
        using (var log = Open(segmentBytes: batchSize * 2))
        {
            for (int i = 0; i < 5; i++)
                log.Append(Batch(4));
        }
        Assert.Equal(3, Directory.GetFiles(Dir, "*.log").Length);
        using var reopened = Open(segmentBytes: batchSize * 2);
        Assert.Equal(20, reopened.LogEndOffset);
        var offsets = new List<long>();
        for (long o = 0; o < 20;)
        {
            using var read = reopened.Read(o, 1 << 20);
            var got = OffsetsIn(read);
            offsets.AddRange(got);
            o = got[^1] + 1;
        }
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), offsets);
        Assert.Equal(20, reopened.Append(Batch(1)));
    }

    [Fact]
    public void A_crash_that_cuts_the_last_batch_at_any_byte_keeps_every_earlier_batch()
    {
        byte[] first = Batch(3), second = Batch(2);
        int full = first.Length + second.Length;
        for (int cut = first.Length; cut < full; cut++)
        {
            Dispose();
            using (var log = Open())
            {
                log.Append(Batch(3));
                log.Append(Batch(2));
            }
            string segment = Directory.GetFiles(Dir, "*.log").Single();
            using (var f = new FileStream(segment, FileMode.Open))
                f.SetLength(cut);
            using var recovered = Open();
            Assert.Equal(3, recovered.LogEndOffset);
            Assert.Equal(first.Length, new FileInfo(segment).Length);
            Assert.Equal(3, recovered.Append(Batch(1)));
        }
    }

    [Fact]
    public void A_zeroed_or_corrupted_tail_is_truncated_at_the_first_bad_batch()
    {
        using (var log = Open())
        {
            log.Append(Batch(3));
            log.Append(Batch(3));
            log.Append(Batch(3));
        }
        string segment = Directory.GetFiles(Dir, "*.log").Single();
        var bytes = File.ReadAllBytes(segment);
        int one = Batch(3).Length;
        bytes[one + RecordBatchHeader.Size + 3] ^= 0xFF; // flip a byte inside the second batch's records
        var zeros = new byte[100];
        File.WriteAllBytes(segment, [.. bytes, .. zeros]);
        using var recovered = Open();
        Assert.Equal(3, recovered.LogEndOffset);
        Assert.Equal(one, new FileInfo(segment).Length);
    }

    [Fact]
    public void DeleteRecords_moves_the_log_start_and_survives_a_restart()
    {
        using (var log = Open())
        {
            log.Append(Batch(5));
            Assert.Equal(3, log.DeleteRecordsBefore(3));
            Assert.Throws<ArgumentOutOfRangeException>(() => log.DeleteRecordsBefore(99));
        }
        using var reopened = Open();
        Assert.Equal(3, reopened.LogStartOffset);
    }

    [Fact]
    public void Timestamps_find_the_first_batch_at_or_after_them()
    {
        using var log = Open();
        log.Append(Batch(2, timestamp: 1000));
        log.Append(Batch(2, timestamp: 5000));
        Assert.Equal(2, log.FindByTimestamp(1500)!.Value.BaseOffset);
        Assert.Equal(0, log.FindByTimestamp(0)!.Value.BaseOffset);
        Assert.Null(log.FindByTimestamp(9000));
    }

    [Fact]
    public void A_foreign_segment_name_is_an_error_naming_the_file()
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(Path.Combine(Dir, "not-a-segment.log"), "x");
        var ex = Assert.Throws<StorageException>(() => Open());
        Assert.Contains("not-a-segment.log", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_appends_reads_and_restarts_match_a_simple_model()
    {
        var random = new Random(7);
        var model = new List<(long Base, int Count)>();
        long end = 0;
        var log = Open(segmentBytes: 2000);
        try
        {
            for (int step = 0; step < 300; step++)
            {
                switch (random.Next(10))
                {
                    case < 6:
                        int n = 1 + random.Next(5);
                        Assert.Equal(end, log.Append(Batch(n)));
                        model.Add((end, n));
                        end += n;
                        break;
                    case < 9 when end > 0:
                        long offset = random.NextInt64(end);
                        using (var read = log.Read(offset, random.Next(1, 500)))
                        {
                            var expected = model.First(b => b.Base + b.Count > offset);
                            Assert.Equal(expected.Base, read.FirstOffset);
                        }
                        break;
                    default:
                        log.Dispose();
                        log = Open(segmentBytes: 2000);
                        Assert.Equal(end, log.LogEndOffset);
                        break;
                }
            }
        }
        finally
        {
            log.Dispose();
        }
    }

    [Fact]
    public void A_clean_close_lets_the_next_start_skip_the_scan_and_a_crash_after_it_does_not()
    {
        using (var log = Open())
        {
            log.Append(Batch(3));
            log.Append(Batch(2));
            log.Close();
        }
        using (var reopened = Open())
        {
            Assert.True(reopened.OpenedFromCheckpoint);
            Assert.Equal(5, reopened.LogEndOffset);
            using var read = reopened.Read(3, 1 << 20);
            Assert.Equal([3L, 4L], OffsetsIn(read));
            reopened.Append(Batch(1)); // then "crash": no Close
        }
        using (var afterCrash = Open())
        {
            Assert.False(afterCrash.OpenedFromCheckpoint);
            Assert.Equal(6, afterCrash.LogEndOffset);
            afterCrash.Close();
        }
        // A segment changed behind the checkpoint's back is scanned, not trusted.
        string segment = Directory.GetFiles(Dir, "*.log").Single();
        using (var f = new FileStream(segment, FileMode.Open))
            f.SetLength(f.Length - 3);
        using var tampered = Open();
        Assert.False(tampered.OpenedFromCheckpoint);
        Assert.Equal(5, tampered.LogEndOffset);
    }
}

public sealed class RetentionTests : LogDirectoryTest
{
    [Fact]
    public void Old_and_excess_segments_are_deleted_whole_but_never_the_active_one()
    {
        int size = PartitionLogTests.Batch(2).Length;
        using var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = size }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        log.Append(PartitionLogTests.Batch(2, timestamp: 1_000)); // segment 0: offsets 0-1
        log.Append(PartitionLogTests.Batch(2, timestamp: 2_000)); // segment 1: offsets 2-3
        log.Append(PartitionLogTests.Batch(2, timestamp: 9_000)); // segment 2 (active): 4-5
        Assert.Equal(3, Directory.GetFiles(Dir, "*.log").Length);

        // retention.ms = 5 s at t = 10 s: segments whose newest record is before t = 5 s go.
        Assert.Equal(2, log.EnforceRetention(10_000, 5_000, -1));
        Assert.Equal(4, log.LogStartOffset);
        Assert.Single(Directory.GetFiles(Dir, "*.log"));
        using (var read = log.Read(4, 1 << 20))
            Assert.Equal(4, read.FirstOffset);
        // The active segment stays even when it is past retention.
        Assert.Equal(0, log.EnforceRetention(1_000_000, 1, -1));

        log.Append(PartitionLogTests.Batch(2, timestamp: 9_500));
        log.Append(PartitionLogTests.Batch(2, timestamp: 9_600));
        // retention.bytes: keep at most two batches' worth.
        Assert.Equal(1, log.EnforceRetention(10_000, -1, size * 2));
        Assert.Equal(6, log.LogStartOffset);
        Assert.Equal(10, log.Append(PartitionLogTests.Batch(1)));
    }
}
