using Microsoft.Extensions.Logging.Abstractions;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>
/// A real ENOSPC: the next segment's file name is a link to /dev/full, where every write fails
/// with "No space left on device", as on a full disk.
/// </summary>
public sealed class DiskFullTests : LogDirectoryTest
{
    private PartitionLog Open() => PartitionLog.Open(Dir, new LogConfig { SegmentBytes = 200 }, NullLogger.Instance);

    private string NextSegment(long offset) => Path.Combine(Dir, offset.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + ".log");

    [Fact]
    public void A_full_disk_fails_the_append_with_the_file_named_keeps_what_was_written_and_recovers_when_space_returns()
    {
        using (var log = Open())
        {
            log.Append(Batch(3));
            log.Append(Batch(3)); // over 200 bytes: the next batch rolls
            File.CreateSymbolicLink(NextSegment(6), "/dev/full");

            var error = Assert.Throws<StorageException>(() => log.Append(Batch(2)));
            Assert.Contains(NextSegment(6), error.Message, StringComparison.Ordinal);
            Assert.Contains("unchanged", error.Message, StringComparison.Ordinal);
            Assert.Equal(6, log.LogEndOffset);
            Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), AllOffsets(log));
            Assert.False(File.Exists(NextSegment(6)), "the failed roll is taken back");

            // Space is back: the same log appends again without a restart.
            Assert.Equal(6, log.Append(Batch(2)));
            Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), AllOffsets(log));
        }
        using (var log = Open())
            Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), AllOffsets(log));
    }
}
