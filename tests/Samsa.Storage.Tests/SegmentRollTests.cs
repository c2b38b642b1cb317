using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>segment.ms, flush.ms and settings swapped on a live log.</summary>
public sealed class SegmentRollTests : LogDirectoryTest
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow); // near the segment files' real write times


    private PartitionLog Open(LogConfig config) => PartitionLog.Open(Dir, config, NullLogger.Instance, _time);

    private int Segments => Directory.GetFiles(Dir, "*.log").Length;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public void The_active_segment_rolls_once_it_is_segment_ms_old_and_a_restart_keeps_its_age()
    {
        var config = new LogConfig { SegmentMs = 1000 };
        using (var log = Open(config))
        {
            log.Append(Batch(1, timestamp: Now));
            _time.Advance(TimeSpan.FromMilliseconds(999));
            log.Append(Batch(1, timestamp: Now));
            Assert.Equal(1, Segments);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            log.Append(Batch(1, timestamp: Now)); // the segment turned 1000 ms old: this batch starts a new one
            Assert.Equal(2, Segments);
            _time.Advance(TimeSpan.FromMilliseconds(600));
        }
        // The new segment's first batch is 600 ms old; after a restart it rolls 400 ms later, not 1000.
        using (var log = Open(config))
        {
            _time.Advance(TimeSpan.FromMilliseconds(399));
            log.Append(Batch(1, timestamp: Now));
            Assert.Equal(2, Segments);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            log.Append(Batch(1, timestamp: Now));
            Assert.Equal(3, Segments);
            Assert.Equal(5, log.LogEndOffset);
        }
    }

    [Fact]
    public void An_empty_active_segment_never_rolls()
    {
        using var log = Open(new LogConfig { SegmentMs = 1000 });
        _time.Advance(TimeSpan.FromHours(1));
        log.Append(Batch(1, timestamp: Now));
        Assert.Equal(1, Segments);
    }

    [Fact]
    public void A_new_config_takes_effect_on_the_next_append()
    {
        using var log = Open(new LogConfig());
        log.Append(Batch(5));
        log.Append(Batch(5));
        Assert.Equal(1, Segments);
        log.Config = log.Config with { SegmentBytes = 100 };
        log.Append(Batch(5));
        Assert.Equal(2, Segments);
        Assert.Equal(15, log.LogEndOffset);
    }

    [Fact]
    public void Flush_ms_is_due_once_the_oldest_unflushed_batch_is_that_old()
    {
        using var log = Open(new LogConfig { FlushMs = 1000 });
        Assert.False(log.FlushIfDue()); // nothing unflushed
        log.Append(Batch(1));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        log.Append(Batch(1));
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(log.FlushIfDue());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(log.FlushIfDue());
        Assert.False(log.FlushIfDue()); // flushed: nothing left to do
        log.Append(Batch(1));
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        log.Append(Batch(1)); // the append itself flushes when due
        Assert.False(log.FlushIfDue());
    }
}
