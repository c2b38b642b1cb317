using Microsoft.Extensions.Logging.Abstractions;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>After a crash, rolled segments come back from their index files; only the active segment is scanned.</summary>
public sealed class SegmentIndexTests : LogDirectoryTest
{
    private PartitionLog Open() => PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 400 }, NullLogger.Instance);

    private void Fill()
    {
        using var log = Open();
        for (int i = 0; i < 12; i++)
            log.Append(Batch(2, timestamp: 1000 * i));
        // no Close: a crash
    }

    [Fact]
    public void A_crash_scans_only_the_active_segment_and_everything_reads_back()
    {
        Fill();
        int segments = Directory.GetFiles(Dir, "*.log").Length;
        Assert.True(segments >= 4);
        Assert.Equal(segments - 1, Directory.GetFiles(Dir, "*.batchindex").Length);
        using var log = Open();
        Assert.False(log.OpenedFromCheckpoint);
        Assert.Equal(1, log.ScannedSegments);
        Assert.Equal(24, log.LogEndOffset);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (long)i), AllOffsets(log));
        Assert.Equal(10, log.FindByTimestamp(5000)!.Value.BaseOffset); // timestamps come from the index files too
    }

    [Fact]
    public void A_corrupt_or_stale_index_file_costs_a_scan_of_its_segment_never_data_and_is_rewritten()
    {
        Fill();
        var indexes = Directory.GetFiles(Dir, "*.batchindex").Order(StringComparer.Ordinal).ToList();
        var bytes = File.ReadAllBytes(indexes[0]);
        bytes[20] ^= 0xFF; // inside an entry: the CRC no longer matches
        File.WriteAllBytes(indexes[0], bytes);
        File.Delete(indexes[1]);
        using (var log = Open())
        {
            Assert.Equal(3, log.ScannedSegments); // two index files refused or missing, plus the active segment
            Assert.Equal(Enumerable.Range(0, 24).Select(i => (long)i), AllOffsets(log));
        }
        using (var again = Open())
            Assert.Equal(1, again.ScannedSegments); // the scan wrote them anew

        // A segment cut behind its index's back (a length the index does not describe) is scanned and cut at its last whole batch.
        string rolled = Directory.GetFiles(Dir, "*.log").Order(StringComparer.Ordinal).First();
        using (var f = new FileStream(rolled, FileMode.Open))
            f.SetLength(f.Length - 5);
        using var cut = Open();
        Assert.Equal(2, cut.ScannedSegments);
        Assert.Equal(11, cut.Batches().Count()); // the torn batch went; every other one is there
        Assert.Equal(24, cut.LogEndOffset);
    }
}
