using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Records;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>
/// A log with rolled segments and index entries, its active segment cut at every byte of its last
/// three batches and at random points: the batches before the cut all read back, every offset and
/// timestamp is found through the indexes, and the log takes appends and restarts again.
/// </summary>
public sealed class CrashCutTests : LogDirectoryTest
{
    private static readonly LogConfig Config = new() { SegmentBytes = 1500, IndexIntervalBytes = 200 };

    /// <summary>Batch i holds 1 + i % 3 records at timestamp 1000 i; returns where each batch of the active segment lies.</summary>
    private (string Active, List<(long Base, long Position, long FileEnd, long NextOffset)> Batches) Fill()
    {
        Dispose();
        var batches = new List<(long, long, long, long)>();
        using var log = PartitionLog.Open(Dir, Config, NullLogger.Instance);
        for (int i = 0; i < 46; i++)
            log.Append(Batch(1 + i % 3, timestamp: 1000 * i));
        string active = Directory.GetFiles(Dir, "*.log").Max(StringComparer.Ordinal)!;
        var data = File.ReadAllBytes(active);
        for (int p = 0; p < data.Length;)
        {
            var h = RecordBatchHeader.Read(data.AsSpan(p));
            batches.Add((h.BaseOffset, p, p + h.TotalSize, h.LastOffset + 1));
            p += h.TotalSize;
        }
        Assert.True(Directory.GetFiles(Dir, "*.log").Length >= 3);
        Assert.True(batches.Count >= 4);
        return (active, batches); // no Close: a crash
    }

    [Fact]
    public void Every_cut_in_the_last_three_batches_keeps_every_batch_before_it()
    {
        var (active, batches) = Fill();
        long from = batches[^3].Position, to = new FileInfo(active).Length;
        var random = new Random(5);
        var cuts = Enumerable.Range((int)from, (int)(to - from)).Concat(Enumerable.Range(0, 20).Select(_ => random.Next((int)to))).ToList();
        foreach (int cut in cuts)
        {
            (active, batches) = Fill();
            using (var f = new FileStream(active, FileMode.Open))
                f.SetLength(cut);
            // The batches wholly before the cut survive; the one it tore and the rest go.
            var kept = batches.Where(b => b.FileEnd <= cut).ToList();
            long end = kept.Count > 0 ? kept[^1].NextOffset : batches[0].Base;
            using (var log = PartitionLog.Open(Dir, Config, NullLogger.Instance))
            {
                Assert.Equal(end, log.LogEndOffset);
                Assert.Equal(Enumerable.Range(0, (int)end).Select(i => (long)i), AllOffsets(log));
                for (long offset = 0; offset < end; offset += 3)
                {
                    using var read = log.Read(offset, 1);
                    Assert.InRange(offset, read.FirstOffset, read.LastOffset);
                }
                Assert.Equal(end, log.Append(Batch(2, timestamp: 100_000)));
                Assert.Equal(end, log.FindByTimestamp(100_000)!.Value.BaseOffset);
            }
            using var again = PartitionLog.Open(Dir, Config, NullLogger.Instance);
            Assert.Equal(end + 2, again.LogEndOffset);
        }
    }
}
