using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Records;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>
/// Kafka's sparse <c>.index</c>/<c>.timeindex</c> files: their layout, lookups through them, and
/// that after a crash rolled segments come back from them while only the active segment is scanned.
/// </summary>
public sealed class SegmentIndexTests : LogDirectoryTest
{
    private static readonly LogConfig Config = new() { SegmentBytes = 2000, IndexIntervalBytes = 250 };

    private PartitionLog Open() => PartitionLog.Open(Dir, Config, NullLogger.Instance);

    private string[] Files(string extension) => [.. Directory.GetFiles(Dir, "*" + extension).Order(StringComparer.Ordinal)];

    /// <summary>60 batches of 2 records (about 120 bytes each), timestamps rising by 1000 per batch; no Close: a crash.</summary>
    private void Fill()
    {
        using var log = Open();
        for (int i = 0; i < 60; i++)
            log.Append(Batch(2, timestamp: 1000 * i));
    }

    [Fact]
    public void Index_files_have_Kafkas_layout_and_name_the_batches_at_their_positions()
    {
        Fill();
        var logs = Files(".log");
        Assert.True(logs.Length >= 4);
        foreach (var segment in logs[..^1])
        {
            long baseOffset = long.Parse(Path.GetFileNameWithoutExtension(segment));
            var data = File.ReadAllBytes(segment);
            var index = File.ReadAllBytes(Path.ChangeExtension(segment, ".index"));
            Assert.Equal(0, index.Length % 8);
            int entries = index.Length / 8;
            int batches = Headers(data).Count;
            Assert.InRange(entries, 1, batches / 2); // sparse: one entry per index.interval.bytes, not per batch
            int previous = 0;
            for (int e = 0; e < entries; e++)
            {
                int relative = BinaryPrimitives.ReadInt32BigEndian(index.AsSpan(e * 8));
                int position = BinaryPrimitives.ReadInt32BigEndian(index.AsSpan(e * 8 + 4));
                var h = RecordBatchHeader.Read(data.AsSpan(position));
                Assert.Equal(baseOffset + relative, h.LastOffset); // the batch's last offset, as Kafka indexes it
                Assert.True(position - previous > Config.IndexIntervalBytes);
                previous = position;
            }
            var time = File.ReadAllBytes(Path.ChangeExtension(segment, ".timeindex"));
            Assert.Equal(0, time.Length % 12);
            long lastTimestamp = BinaryPrimitives.ReadInt64BigEndian(time.AsSpan(time.Length - 12));
            int lastRelative = BinaryPrimitives.ReadInt32BigEndian(time.AsSpan(time.Length - 4));
            // A rolled segment's last time entry is its largest timestamp (here its last batch's).
            Assert.Equal(lastTimestamp, Headers(data).Max(h => h.MaxTimestamp));
            Assert.Equal(baseOffset + lastRelative, Headers(data)[^1].LastOffset);
        }
    }

    /// <summary>The batch headers of a segment file, in order.</summary>
    private static List<RecordBatchHeader> Headers(byte[] data)
    {
        var headers = new List<RecordBatchHeader>();
        for (int p = 0; p < data.Length; p += headers[^1].TotalSize)
            headers.Add(RecordBatchHeader.Read(data.AsSpan(p)));
        return headers;
    }

    [Fact]
    public void A_crash_scans_only_the_active_segment_and_every_offset_and_timestamp_is_found()
    {
        Fill();
        Assert.Equal(Files(".log").Length - 1, Files(".index").Length);
        Assert.Equal(Files(".log").Length - 1, Files(".timeindex").Length);
        using var log = Open();
        Assert.False(log.OpenedFromCheckpoint);
        Assert.Equal(1, log.ScannedSegments);
        Assert.Equal(120, log.LogEndOffset);
        for (long offset = 0; offset < 120; offset++)
        {
            using var read = log.Read(offset, 1);
            Assert.Equal(offset - offset % 2, read.FirstOffset); // the batch holding it, alone (maxBytes 1)
        }
        for (int i = 0; i < 60; i++)
        {
            Assert.Equal(2 * i, log.FindByTimestamp(1000 * i)!.Value.BaseOffset); // batch i's records are at 1000i and 1000i+1
            Assert.Equal(2 * (i + 1), log.FindByTimestamp(1000 * i + 2)?.BaseOffset ?? 120);
        }
        Assert.Null(log.FindByTimestamp(60_000));
        Assert.Equal(118, log.FindMaxTimestamp()!.Value.BaseOffset);
    }

    [Fact]
    public void Unreadable_or_missing_index_files_cost_a_scan_of_their_segment_never_data_and_are_written_anew()
    {
        Fill();
        var indexes = Files(".index");
        var bytes = File.ReadAllBytes(indexes[0]);
        File.WriteAllBytes(indexes[0], bytes[..^3]); // not whole entries
        File.Delete(Files(".timeindex")[1]);
        bytes = File.ReadAllBytes(indexes[2]);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), 1 << 30); // a position past the segment's end
        File.WriteAllBytes(indexes[2], bytes);
        using (var log = Open())
        {
            Assert.Equal(4, log.ScannedSegments); // three refused, plus the active segment
            Assert.Equal(Enumerable.Range(0, 120).Select(i => (long)i), AllOffsets(log));
        }
        using (var again = Open())
            Assert.Equal(1, again.ScannedSegments); // the scans wrote them anew

        // A segment cut behind its index's back (a length the index does not describe) is scanned and cut at its last whole batch.
        string rolled = Files(".log")[0];
        using (var f = new FileStream(rolled, FileMode.Open))
            f.SetLength(f.Length - 5);
        using var cut = Open();
        Assert.Equal(2, cut.ScannedSegments);
        Assert.Equal(59, cut.Batches().Count()); // the torn batch went; every other one is there
        Assert.Equal(120, cut.LogEndOffset);
    }

    [Fact]
    public void An_index_that_looks_sane_but_points_at_the_wrong_batches_is_caught_by_the_first_read_through_it_and_rebuilt()
    {
        Fill();
        string index = Files(".index")[1];
        var bytes = File.ReadAllBytes(index);
        Assert.True(bytes.Length >= 24);
        // Shift the offsets of all entries but the last (which the load checks) by one: still
        // ordered and inside the segment, so the file is loaded, but they name no batch's last offset.
        for (int e = 0; e < bytes.Length - 8; e += 8)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(e), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(e)) + 1);
        File.WriteAllBytes(index, bytes);
        using (var log = Open())
        {
            Assert.Equal(1, log.ScannedSegments);
            Assert.Equal(Enumerable.Range(0, 120).Select(i => (long)i), AllOffsets(log));
            for (long offset = 0; offset < 120; offset++)
            {
                using var read = log.Read(offset, 1);
                Assert.Equal(offset - offset % 2, read.FirstOffset);
            }
        }
        Assert.NotEqual(bytes, File.ReadAllBytes(index)); // the rebuilt index replaced the damaged file
        using var again = Open();
        Assert.Equal(1, again.ScannedSegments);
    }

    [Fact]
    public void A_clean_shutdown_writes_the_active_segments_index_so_nothing_is_scanned()
    {
        Fill();
        using (var log = Open())
            log.Close();
        Assert.Equal(Files(".log").Length, Files(".index").Length);
        using (var log = Open())
        {
            Assert.True(log.OpenedFromCheckpoint);
            Assert.Equal(0, log.ScannedSegments);
            Assert.Equal(120, log.LogEndOffset);
            Assert.Equal(118, log.FindByTimestamp(59_000)!.Value.BaseOffset);
            log.Append(Batch(2, timestamp: 60_000)); // then a crash
        }
        using var crashed = Open();
        Assert.Equal(1, crashed.ScannedSegments);
        Assert.Equal(Enumerable.Range(0, 122).Select(i => (long)i), AllOffsets(crashed));
    }

    [Fact]
    public void A_batch_header_damaged_after_the_start_is_an_error_naming_the_segment_never_a_hang()
    {
        Fill();
        string first = Files(".log")[0];
        var data = File.ReadAllBytes(first);
        int position = 0;
        for (int i = 0; i < 5; i++)
            position += RecordBatchHeader.Read(data.AsSpan(position)).TotalSize;
        long damagedBase = RecordBatchHeader.Read(data.AsSpan(position)).BaseOffset;
        long segmentEnd = Headers(File.ReadAllBytes(first)).Count * 2; // two records per batch
        using var log = Open(); // the rolled segment is trusted from its index files, as after any crash
        using (var f = new FileStream(first, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            f.Position = position + RecordBatchHeader.LengthOffset;
            f.Write([0, 0, 0, 0]); // a batch length of zero: a scan that trusted it would never move on
        }
        for (long offset = damagedBase; offset < segmentEnd; offset++)
        {
            try
            {
                using var read = log.Read(offset, 1);
                Assert.True(read.LastOffset >= offset); // reached through an index entry past the damage
            }
            catch (StorageException e)
            {
                Assert.Contains(Path.GetFileName(first), e.Message);
            }
        }
        using (var before = log.Read(0, 1))
            Assert.Equal(0, before.FirstOffset); // the batches before the damage still read
        using var next = log.Read(segmentEnd, 1);
        Assert.Equal(segmentEnd, next.FirstOffset); // and so does the next segment
    }
}
