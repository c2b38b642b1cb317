using Microsoft.Extensions.Logging.Abstractions;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>Readers that run beside the writer, without its lock, always find what the log end says is there (the log end is published after the data and the index).</summary>
public sealed class ConcurrentReadTests : LogDirectoryTest
{
    [Fact]
    public async Task A_reader_finds_every_offset_below_the_log_end_it_saw_while_appends_add_index_entries()
    {
        // An index entry for almost every batch and small segments: every append touches the index, many roll.
        using var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 8 * 1024, IndexIntervalBytes = 1 }, NullLogger.Instance);
        const int Batches = 20_000;
        var batch = Batch(1);
        long misses = 0, reads = 0;
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                long end = log.LogEndOffset;
                if (end == 0)
                    continue;
                using var read = log.Read(end - 1, 1);
                Interlocked.Increment(ref reads);
                if (read.Length == 0 || read.LastOffset < end - 1)
                    Interlocked.Increment(ref misses);
            }
        })).ToList();
        // On a busy machine the readers may not be scheduled before the writer is done: start
        // appending in earnest only once they read (this test once failed with no reads at all).
        log.Append((byte[])batch.Clone());
        while (Interlocked.Read(ref reads) == 0)
            Thread.Yield();
        for (int i = 1; i < Batches; i++)
            log.Append((byte[])batch.Clone());
        await done.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Equal(0, Interlocked.Read(ref misses));
        Assert.True(Interlocked.Read(ref reads) > 0);
    }
}
