using Microsoft.Extensions.Logging.Abstractions;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

public sealed class RetentionWhileReadingTests : LogDirectoryTest
{
    [Fact]
    public void Reads_racing_retention_return_whole_batches_or_later_ones_never_an_error()
    {
        // Retention closes the files of the segments it deletes; a read that took its snapshot just
        // before must look again, not fail with ObjectDisposedException.
        using var log = PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 400 }, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        long reads = 0;
        var reader = new Thread(() =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    long offset = log.LogStartOffset;
                    using var read = log.Read(offset, 1 << 16);
                    Assert.True(read.Length == 0 || read.LastOffset >= offset);
                    Interlocked.Increment(ref reads);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        reader.Start();
        for (int i = 0; i < 3000 && failure is null; i++)
        {
            log.Append(Batch(3));
            log.EnforceRetention(0, -1, 800);
        }
        stop.Cancel();
        reader.Join();
        Assert.Null(failure);
        Assert.True(Interlocked.Read(ref reads) > 0);
    }

    [Fact]
    public void A_read_of_a_closed_log_is_an_error_not_an_endless_retry()
    {
        var log = PartitionLog.Open(Dir, new LogConfig(), NullLogger.Instance);
        log.Append(Batch(1));
        log.Dispose();
        Assert.Throws<ObjectDisposedException>(() => log.Read(0, 1 << 16));
    }
}
