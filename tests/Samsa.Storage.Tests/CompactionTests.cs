using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>Compaction checked against a model: per key, the newest record survives at its offset.</summary>
public sealed class CompactionTests : LogDirectoryTest
{
    private sealed record Written(long Offset, string Key, string? Value, long Timestamp);

    private static byte[] Batch(IEnumerable<(string Key, string? Value)> records, long timestamp, CompressionType codec)
    {
        using var builder = new RecordBatchBuilder { Compression = codec, ProducerId = 42, ProducerEpoch = 1, BaseSequence = 0 };
        foreach (var (key, value) in records)
        {
            var k = System.Text.Encoding.UTF8.GetBytes(key);
            var v = value is null ? [] : System.Text.Encoding.UTF8.GetBytes(value);
            builder.Add(timestamp, k, false, v, value is null, [("h", [1, 2])]);
        }
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    private static List<Written> ReadAll(PartitionLog log)
    {
        var all = new List<Written>();
        using var scratch = new PooledBufferWriter();
        long next = log.LogStartOffset;
        while (next < log.LogEndOffset)
        {
            // A read stays within one segment: read on from the end of the last batch returned.
            using var read = log.Read(next, int.MaxValue);
            if (read.Length == 0)
                break;
            ReadOnlyMemory<byte> buffer = read.Memory;
            while (RecordBatch.TryReadNext(ref buffer, out var batch))
            {
                Assert.True(batch.CrcMatches);
                foreach (var r in batch.GetRecords(scratch))
                {
                    Assert.Equal(1, r.HeaderCount);
                    if (r.Offset >= next)
                        all.Add(new Written(r.Offset, System.Text.Encoding.UTF8.GetString(r.Key!.Value.Span),
                            r.Value is { } v ? System.Text.Encoding.UTF8.GetString(v.Span) : null, r.Timestamp));
                }
                next = Math.Max(next, batch.Header.LastOffset + 1);
            }
        }
        return all;
    }

    [Theory]
    [InlineData(1, CompressionType.None)]
    [InlineData(2, CompressionType.Lz4)]
    [InlineData(3, CompressionType.Zstd)]
    [InlineData(4, CompressionType.Gzip)]
    public void Random_appends_compactions_and_restarts_match_the_model(int seed, CompressionType codec)
    {
        var random = new Random(seed);
        var written = new List<Written>();
        long removed = 0;
        var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 2_000 }, NullLogger.Instance);
        try
        {
            long now = 1_000_000;
            for (int step = 0; step < 60; step++)
            {
                now += 1_000;
                var records = Enumerable.Range(0, 1 + random.Next(5))
                    .Select(_ => ($"k{random.Next(12)}", random.Next(6) == 0 ? null : $"v{step}-{random.Next(1000)}"))
                    .ToList();
                long baseOffset = log.Append(Batch(records, now, codec));
                written.AddRange(records.Select((r, i) => new Written(baseOffset + i, r.Item1, r.Item2, now)));
                if (random.Next(8) == 0)
                {
                    removed += log.Compact(now, deleteRetentionMs: 5_000).RecordsRemoved;
                    Check(log, written, now, 5_000);
                }
                if (random.Next(15) == 0)
                {
                    log.Close();
                    log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 2_000 }, NullLogger.Instance);
                }
            }
            var result = log.Compact(now, deleteRetentionMs: 5_000);
            Check(log, written, now, 5_000);
            log.Close();
            log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 2_000 }, NullLogger.Instance);
            Check(log, written, now, 5_000);
            Assert.True(result.BytesAfter <= result.BytesBefore);
            removed += result.RecordsRemoved;
            Assert.True(removed > written.Count / 3, $"only {removed} of {written.Count} records were compacted away");
            // Appends continue after the last offset.
            Assert.Equal(written[^1].Offset + 1, log.Append(Batch([("k0", "after")], now, codec)));
        }
        finally
        {
            log.Dispose();
        }
    }

    /// <summary>
    /// What must hold: every surviving record is one that was written, at its offset, in order; the
    /// newest record of every key is there (a tombstone only until its retention passes); records
    /// of the active segment are untouched; only superseded records or expired tombstones are gone.
    /// </summary>
    private static void Check(PartitionLog log, List<Written> written, long now, long deleteRetentionMs)
    {
        var survived = ReadAll(log);
        var byOffset = written.ToDictionary(w => w.Offset);
        Assert.Equal(survived.Select(s => s.Offset).Order(), survived.Select(s => s.Offset));
        foreach (var s in survived)
            Assert.Equal(byOffset[s.Offset], s);
        var newest = written.GroupBy(w => w.Key).Select(g => g.Last()).ToList();
        var kept = survived.Select(s => s.Offset).ToHashSet();
        foreach (var n in newest)
        {
            bool expiredTombstone = n.Value is null && n.Timestamp < now - deleteRetentionMs;
            if (!expiredTombstone)
                Assert.Contains(n.Offset, kept);
        }
        var newestOffsets = newest.Select(n => n.Offset).ToHashSet();
        foreach (var w in written.Where(w => !kept.Contains(w.Offset)))
        {
            // Removed: superseded by a newer record of its key, or a tombstone past its retention.
            Assert.True(!newestOffsets.Contains(w.Offset) || (w.Value is null && w.Timestamp < now - deleteRetentionMs), $"offset {w.Offset} ({w.Key}) was lost");
        }
        Assert.Equal(written[^1].Offset + 1, log.LogEndOffset);
    }

    [Fact]
    public void A_compaction_cut_short_leaves_the_original_segment_and_no_cleaned_file()
    {
        Directory.CreateDirectory(Dir);
        using (var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 500 }, NullLogger.Instance))
        {
            for (int i = 0; i < 20; i++)
                log.Append(Batch([("same", $"v{i}")], 1000 + i, CompressionType.None));
        }
        var first = Directory.GetFiles(Dir, "*.log").Order().First();
        File.WriteAllBytes(first + ".cleaned", [1, 2, 3]); // a crash after writing, before the rename
        using var reopened = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 500 }, NullLogger.Instance);
        Assert.Empty(Directory.GetFiles(Dir, "*.cleaned"));
        Assert.Equal(20, ReadAll(reopened).Count);
    }

    [Fact]
    public void Min_compaction_lag_spares_young_segments_and_the_dirty_ratio_waits_for_enough_new_data()
    {
        var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 300 }, NullLogger.Instance);
        try
        {
            CompactInSteps(ref log);
        }
        finally
        {
            log.Dispose();
        }
    }

    /// <summary>The steps of the test above; it may reopen the log (a restart), hence the ref.</summary>
    private void CompactInSteps(ref PartitionLog log)
    {
        for (int i = 0; i < 10; i++)
            log.Append(Batch([("k", $"v{i}")], 1000 * (i + 1), CompressionType.None));
        // Three batches per segment: [0-2] at 1-3 s, [3-5] at 4-6 s, [6-8] at 7-9 s, then the active [9].
        Assert.Equal(4, Directory.GetFiles(Dir, "*.log").Length);
        Offsets(log, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

        // At 5.5 s with a 2 s lag only the first segment (newest record 3 s) may be cleaned.
        Assert.Equal(2, log.Compact(5_500, deleteRetentionMs: 0, minCompactionLagMs: 2_000).RecordsRemoved);
        Offsets(log, [2, 3, 4, 5, 6, 7, 8, 9]);

        // Later, with no lag: two of the three cleanable segments were never cleaned, so the pass runs.
        Assert.Equal(6, log.Compact(100_000, 0, minCompactionLagMs: 0, minCleanableDirtyRatio: 0.5).RecordsRemoved);
        Offsets(log, [8, 9]);
        Assert.Equal(default, log.Compact(100_000, 0, 0, 0.5)); // nothing new: the pass is skipped (reads nothing)
        log.Dispose();
        log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 300 }, NullLogger.Instance);
        Assert.Equal(default, log.Compact(100_000, 0, 0, 0.5)); // the cleaned point survives a restart

        for (int i = 10; i < 13; i++)
            log.Append(Batch([("k", $"v{i}")], 1000 * (i + 1), CompressionType.None));
        // The segment [9-11] rolled: 3 of the 4 batches left in cleanable segments are dirty (75%).
        Assert.Equal(default, log.Compact(100_000, 0, 0, 0.9));
        Offsets(log, [8, 9, 10, 11, 12]);
        Assert.Equal(3, log.Compact(100_000, 0, 0, 0.5).RecordsRemoved);
        Offsets(log, [11, 12]);
    }

    private static void Offsets(PartitionLog log, long[] expected) => Assert.Equal(expected, ReadAll(log).Select(w => w.Offset));
}
