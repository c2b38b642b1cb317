namespace Samsa.Storage;

/// <summary>Per-log settings, named after Kafka's topic configs.</summary>
public sealed record LogConfig
{
    /// <summary>segment.bytes: roll to a new segment file past this size.</summary>
    public long SegmentBytes { get; init; } = 1L << 30;

    /// <summary>
    /// segment.ms: roll the active segment once it has been written for this long, even if it is
    /// small, so that retention and compaction (which never touch the active segment) reach its records.
    /// </summary>
    public long SegmentMs { get; init; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>flush.messages: fsync after this many batches (Kafka's default: never; the OS flushes).</summary>
    public long FlushMessages { get; init; } = long.MaxValue;

    /// <summary>flush.ms: fsync when the oldest unflushed batch is this old (checked on append and by <c>FlushIfDue</c>).</summary>
    public long FlushMs { get; init; } = long.MaxValue;

    /// <summary>index.interval.bytes: how many bytes of batches between two offset index entries (Kafka's default, 4 KiB).</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>
    /// producer.id.expiration.ms (a broker setting in Kafka): a producer whose last batch is older
    /// than this is forgotten, and may then start again at any sequence. Kafka's default, one day.
    /// </summary>
    public long ProducerIdExpirationMs { get; init; } = 24L * 60 * 60 * 1000;
}

/// <summary>A batch's header fields that lookups answer with.</summary>
public readonly record struct BatchEntry(long BaseOffset, long LastOffset, long MaxTimestamp, int Size);

/// <summary>A storage failure that names the file it concerns.</summary>
public sealed class StorageException(string message, Exception? inner = null) : IOException(message, inner);
