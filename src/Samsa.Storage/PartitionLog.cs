using Microsoft.Extensions.Logging;
using Samsa.Protocol.Records;
using Samsa.Storage.Internal;

namespace Samsa.Storage;

/// <summary>
/// One partition's log: segment files of record batches exactly as they arrived (only the base
/// offset is rewritten), named by their first offset, each with Kafka's sparse offset and time
/// indexes. After a crash the active segment is read batch by batch and each CRC checked; the log
/// is cut at the first batch that is torn, zeroed or corrupt, so a crash never leaves garbage a
/// reader could see, and everything before it is kept.
/// One writer at a time (appends take a lock); readers run concurrently without it and only ever
/// see batches whose bytes were fully written (a segment's length is published after the write).
/// </summary>
public sealed partial class PartitionLog : IDisposable
{
    private const string StartOffsetFile = "log-start-offset";

    private readonly Lock _writeLock = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    // Replaced whole (never changed in place) on roll, retention and compaction: readers take it without the lock.
    private volatile Segment[] _segments = [];
    private LogConfig _config;
    private long _unflushed;
    private long _firstUnflushedMs;
    private long _activeSinceMs;
    private volatile bool _closed;
    private bool _appendsFailing;

    private PartitionLog(string directory, LogConfig config, ILogger logger, TimeProvider time)
    {
        Directory = directory;
        _config = config;
        _logger = logger;
        _time = time;
    }

    /// <summary>The partition's directory (topic-partition).</summary>
    public string Directory { get; }

    /// <summary>Swapped whole when the topic's configs change; the next append uses the new one.</summary>
    public LogConfig Config
    {
        get => Volatile.Read(ref _config);
        set => Volatile.Write(ref _config, value);
    }

    /// <summary>First offset a reader may fetch (advanced by DeleteRecords and retention).</summary>
    public long LogStartOffset { get; private set; }

    /// <summary>Offset the next appended record gets. Single node: also the high watermark.</summary>
    public long LogEndOffset { get; private set; }

    /// <summary>The bytes of every segment, for retention.bytes and the console.</summary>
    public long SizeInBytes
    {
        get
        {
            long total = 0;
            foreach (var s in _segments)
                total += s.Length;
            return total;
        }
    }

    /// <summary>Opens (or creates) the log in <paramref name="directory"/>, recovering the active segment after a crash.</summary>
    /// <param name="directory">The partition's directory.</param>
    /// <param name="config">The topic's configs.</param>
    /// <param name="logger">Where recovery and retention log.</param>
    /// <param name="time">The clock; null for the system clock.</param>
    /// <returns>The open log.</returns>
    public static PartitionLog Open(string directory, LogConfig config, ILogger logger, TimeProvider? time = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var log = new PartitionLog(directory, config, logger, time ?? TimeProvider.System);
        log.Load();
        return log;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private Segment ActiveSegment => _segments[^1];

    /// <summary>Where the segment being appended to begins: compaction and retention stop below it.</summary>
    internal long ActiveSegmentBaseOffset => ActiveSegment.BaseOffset;

    private string SegmentPath(long baseOffset) => Path.Combine(Directory, Segment.FileName(baseOffset) + Segment.LogSuffix);

    /// <summary>
    /// Takes back a failed append: a segment rolled for it is dropped again (so the next append
    /// tries a fresh roll, perhaps after space was freed); otherwise the partial write is cut.
    /// Returns what could not be undone, for the error message.
    /// </summary>
    private string UndoFailedAppend(Segment segment, long position, bool rolled)
    {
        try
        {
            if (rolled)
            {
                _segments = _segments[..^1];
                segment.Dispose();
                segment.DeleteFiles();
            }
            else
            {
                segment.Truncate(position);
            }
            return "";
        }
        catch (IOException e)
        {
            // Whatever stayed behind past the last whole batch is cut by recovery at the next start.
            return $"; cleaning up failed too ({e.Message}), the next start will cut the partial batch";
        }
    }

    /// <summary>
    /// Appends one record batch, assigning its offsets from the log end. The batch must already be
    /// validated (magic 2, CRC, sizes); its base offset is rewritten in place. Returns the base offset.
    /// No producer checks (the broker's own logs); a transaction marker still ends its producer's
    /// transaction, so a coordinator writing its own partition keeps the last stable offset moving.
    /// </summary>
    public long Append(Span<byte> batch)
    {
        var h = RecordBatchHeader.Read(batch);
        long offset;
        lock (_writeLock)
            offset = AppendLocked(batch, h);
        if (h.IsControl)
            MarkerAppended?.Invoke(this);
        return offset;
    }

    private long AppendLocked(Span<byte> batch, RecordBatchHeader h)
    {
        if (h.TotalSize != batch.Length)
            throw new ArgumentException($"Batch length field says {h.TotalSize} bytes but {batch.Length} were given.", nameof(batch));
        ObjectDisposedException.ThrowIf(_closed, this);
        long baseOffset = LogEndOffset;
        RecordBatchHeader.SetBaseOffset(batch, baseOffset);
        h = h with { BaseOffset = baseOffset };
        var config = Config;
        long now = NowMs;
        var segment = ActiveSegment;
        bool rolled = false;
        if (segment.Length > 0 && MustRoll(segment, h, config, now))
        {
            segment.Flush();
            segment.Seal(_logger);
            // The state of every producer up to the new segment, so a start replays at most that segment.
            TryWriteProducerSnapshot(baseOffset);
            segment = Segment.Open(SegmentPath(baseOffset), baseOffset);
            segment.TxnIndex.Delete(); // one left by a segment a crash took back must not be read as this one's
            _segments = [.. _segments, segment];
            rolled = true;
        }
        long position = segment.Length;
        try
        {
            segment.Append(batch, h, config.IndexIntervalBytes);
        }
        catch (IOException e)
        {
            // Disk full or similar: the log must stay a sequence of whole batches.
            string undo = UndoFailedAppend(segment, position, rolled);
            var failure = new StorageException($"{segment.Path}: append failed ({e.Message}); the log is unchanged{undo}.", e);
            // Once per outage, not once per produce request: a full disk fails every append.
            if (!_appendsFailing)
                _logger.LogError("{Message}", failure.Message);
            _appendsFailing = true;
            throw failure;
        }
        if (_appendsFailing)
        {
            _appendsFailing = false;
            _logger.LogInformation("{Dir}: appends succeed again", Directory);
        }
        if (rolled)
            _activeSinceMs = now;
        if (_unflushed++ == 0)
            _firstUnflushedMs = now;
        if (_unflushed >= config.FlushMessages || now - _firstUnflushedMs >= config.FlushMs)
        {
            segment.Flush();
            _unflushed = 0;
        }
        LogEndOffset = h.LastOffset + 1;
        if (ProducerStateTable.IsIdempotent(h))
            _producers.Update(h);
        else if (h.IsControl && h.IsTransactional && h.ProducerId >= 0 && TryReadMarker(batch, out var type, out int coordinatorEpoch))
            ApplyMarker(segment, h, type, coordinatorEpoch); // unchecked appends too: a coordinator's own log must not stay unstable
        UpdateLastStableOffset();
        return baseOffset;
    }

    /// <summary>
    /// segment.bytes, segment.ms, and the limits of Kafka's index format: positions and offsets
    /// relative to the segment are 32-bit.
    /// </summary>
    private bool MustRoll(Segment segment, in RecordBatchHeader h, LogConfig config, long now) =>
        segment.Length + h.TotalSize > Math.Min(config.SegmentBytes, int.MaxValue)
        || now - _activeSinceMs >= config.SegmentMs
        || h.LastOffset - segment.BaseOffset > int.MaxValue;

    /// <summary>Batches appended since the last fsync (Kafka's unflushed-messages gauge counts records; this counts batches).</summary>
    public long UnflushedBatches
    {
        get
        {
            lock (_writeLock)
                return _unflushed;
        }
    }

    /// <summary>fsyncs the active segment.</summary>
    public void Flush()
    {
        lock (_writeLock)
        {
            ActiveSegment.Flush();
            _unflushed = 0;
        }
    }

    /// <summary>flush.ms for a log that stopped receiving appends: the broker calls this periodically.</summary>
    public bool FlushIfDue()
    {
        lock (_writeLock)
        {
            if (_closed || _unflushed == 0 || NowMs - _firstUnflushedMs < Config.FlushMs)
                return false;
            ActiveSegment.Flush();
            _unflushed = 0;
            return true;
        }
    }

    /// <summary>DeleteRecords: offsets below <paramref name="offset"/> become unreadable; persisted.</summary>
    public long DeleteRecordsBefore(long offset)
    {
        lock (_writeLock)
        {
            if (offset < 0 || offset > LogEndOffset)
                throw new ArgumentOutOfRangeException(nameof(offset), $"Offset {offset} is outside [0, {LogEndOffset}].");
            DeleteRecordsBeforeLocked(offset);
            return LogStartOffset;
        }
    }

    private void DeleteRecordsBeforeLocked(long offset)
    {
        if (offset <= LogStartOffset)
            return;
        // Persisted first: a write that fails (full disk) leaves the log start where it was.
        string path = Path.Combine(Directory, StartOffsetFile);
        File.WriteAllText(path + ".tmp", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(path + ".tmp", path, overwrite: true);
        LogStartOffset = offset;
        UpdateLastStableOffset();
    }

    /// <summary>Closes the segment files.</summary>
    public void Dispose()
    {
        lock (_writeLock)
        {
            _closed = true;
            foreach (var s in _segments)
                s.Dispose();
        }
    }
}
