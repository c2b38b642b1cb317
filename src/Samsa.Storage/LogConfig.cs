namespace Samsa.Storage;

/// <summary>Per-log settings, named after Kafka's topic configs.</summary>
public sealed record LogConfig
{
    /// <summary>segment.bytes: roll to a new segment file past this size.</summary>
    public long SegmentBytes { get; init; } = 1L << 30;

    /// <summary>flush.messages: fsync after this many batches (Kafka's default: never; the OS flushes).</summary>
    public long FlushMessages { get; init; } = long.MaxValue;
}

/// <summary>Where a batch sits: enough to read it back or find an offset without touching the file.</summary>
public readonly record struct BatchEntry(long BaseOffset, long LastOffset, long MaxTimestamp, int Segment, long Position, int Size);

/// <summary>A storage failure that names the file it concerns.</summary>
public sealed class StorageException(string message, Exception? inner = null) : IOException(message, inner);
