using System.Buffers;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>
/// One partition's log: segment files of record batches exactly as they arrived (only the base
/// offset is rewritten), named by their first offset. On open every segment is scanned and each
/// batch's CRC checked; the log is cut at the first batch that is torn, zeroed or corrupt, so a
/// crash never leaves garbage that a reader could see, and everything before it is kept.
/// One writer at a time (appends take a lock); readers run concurrently and only ever see batches
/// whose bytes were fully written, because the batch index is published after the write.
/// </summary>
public sealed partial class PartitionLog : IDisposable
{
    private const string SegmentSuffix = ".log";
    private const string StartOffsetFile = "log-start-offset";

    private readonly Lock _writeLock = new();
    private readonly List<Segment> _segments = [];
    private readonly ILogger _logger;
    private BatchEntry[] _index = [];
    private int _count;
    private readonly TimeProvider _time;
    private LogConfig _config;
    private long _unflushed;
    private long _firstUnflushedMs;
    private long _activeSinceMs;
    private volatile bool _closed;

    private PartitionLog(string directory, LogConfig config, ILogger logger, TimeProvider time)
    {
        Directory = directory;
        _config = config;
        _logger = logger;
        _time = time;
    }

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

    public long SizeInBytes
    {
        get
        {
            lock (_writeLock)
                return _segments.Sum(s => s.Length);
        }
    }

    public static PartitionLog Open(string directory, LogConfig config, ILogger logger, TimeProvider? time = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var log = new PartitionLog(directory, config, logger, time ?? TimeProvider.System);
        log.Load();
        return log;
    }

    /// <summary>True when the last start used the clean-shutdown checkpoint instead of scanning.</summary>
    public bool OpenedFromCheckpoint { get; private set; }

    private void Load()
    {
        DeleteLeftoverCleanedFiles(Directory); // a compaction cut short: the original segment is intact
        var files = System.IO.Directory.GetFiles(Directory, "*" + SegmentSuffix).Order(StringComparer.Ordinal).ToList();
        foreach (var path in files)
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.Length != 20 || !long.TryParse(name, out long baseOffset))
                throw new StorageException($"{path}: not a segment file name (expected 20 digits, the segment's first offset).");
            _segments.Add(Segment.Open(path, baseOffset));
        }
        DeleteOrphanSegmentIndexes();
        OpenedFromCheckpoint = TryLoadCheckpoint();
        ScannedSegments = 0;
        if (!OpenedFromCheckpoint)
        {
            _count = 0;
            for (int i = 0; i < _segments.Count; i++)
            {
                // Rolled segments were fsynced with their index file; the active one may end torn.
                if (i < _segments.Count - 1)
                {
                    if (TryLoadSegmentIndex(_segments[i], i))
                        continue;
                    DeleteSegmentIndex(_segments[i].Path); // stale or corrupt: rewritten after the scan
                }
                ScannedSegments++;
                Recover(_segments[i], i);
            }
            WriteMissingSegmentIndexes(); // so the next crash trusts what was just checked
        }
        if (_segments.Count == 0)
            _segments.Add(Segment.Open(SegmentPath(0), 0));
        LogEndOffset = _count > 0 ? _index[_count - 1].LastOffset + 1 : _segments[^1].BaseOffset;
        string startFile = Path.Combine(Directory, StartOffsetFile);
        long start = File.Exists(startFile) && long.TryParse(File.ReadAllText(startFile).Trim(), out long s) ? s : 0;
        LogStartOffset = Math.Max(start, _count > 0 ? _index[0].BaseOffset : _segments[0].BaseOffset);
        _activeSinceMs = ActiveSegmentStart();
    }

    /// <summary>
    /// When the active segment began, so a restart does not reset segment.ms. As in Kafka, its
    /// first batch's timestamp — unless that is implausible (a producer's own old timestamps, which
    /// would make every restart roll): then the file's last write, the latest it can have begun.
    /// </summary>
    private long ActiveSegmentStart()
    {
        long now = NowMs;
        if (_count == 0 || _index[_count - 1].Segment != _segments.Count - 1)
            return now;
        long first = FirstEntryOf(_segments.Count - 1).MaxTimestamp;
        long lastWrite = new DateTimeOffset(File.GetLastWriteTimeUtc(_segments[^1].Path)).ToUnixTimeMilliseconds();
        return first <= now && first >= lastWrite - Config.SegmentMs ? first : Math.Min(now, lastWrite);
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private BatchEntry FirstEntryOf(int segment)
    {
        int i = _count - 1;
        while (i > 0 && _index[i - 1].Segment == segment)
            i--;
        return _index[i];
    }

    /// <summary>Scans a segment batch by batch, indexing the valid ones and truncating at the first bad one.</summary>
    private void Recover(Segment segment, int segmentIndex)
    {
        long position = 0;
        long length = segment.Length;
        var header = new byte[RecordBatchHeader.Size];
        while (position + RecordBatchHeader.Size <= length)
        {
            segment.Read(header, position);
            var h = RecordBatchHeader.Read(header);
            int size = h.TotalSize;
            bool valid = h.Magic == RecordBatchHeader.CurrentMagic && h.BatchLength >= RecordBatchHeader.Size - RecordBatchHeader.LogOverhead
                && position + size <= length && h.LastOffsetDelta >= 0
                && (_count == 0 || h.BaseOffset > _index[_count - 1].LastOffset);
            if (valid)
            {
                var batch = ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    segment.Read(batch.AsSpan(0, size), position);
                    valid = RecordBatchHeader.ComputeCrc(batch.AsSpan(0, size)) == h.Crc;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(batch);
                }
            }
            if (!valid)
                break;
            AddToIndex(new BatchEntry(h.BaseOffset, h.LastOffset, h.MaxTimestamp, segmentIndex, position, size));
            position += size;
        }
        if (position < length)
        {
            _logger.LogWarning("{Segment}: truncating {Bytes} byte(s) after offset {Position}: torn or corrupt batch after an unclean shutdown", segment.Path, length - position, position);
            segment.Truncate(position);
        }
    }

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
                _segments.RemoveAt(_segments.Count - 1);
                segment.Dispose();
                File.Delete(segment.Path);
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

    private void AddToIndex(BatchEntry entry)
    {
        if (_count == _index.Length)
            Array.Resize(ref _index, Math.Max(16, _index.Length * 2));
        _index[_count++] = entry;
    }

    private string SegmentPath(long baseOffset) => Path.Combine(Directory, baseOffset.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + SegmentSuffix);

    /// <summary>
    /// Appends one record batch, assigning its offsets from the log end. The batch must already be
    /// validated (magic 2, CRC, sizes); its base offset is rewritten in place. Returns the base offset.
    /// </summary>
    public long Append(Span<byte> batch)
    {
        var h = RecordBatchHeader.Read(batch);
        if (h.TotalSize != batch.Length)
            throw new ArgumentException($"Batch length field says {h.TotalSize} bytes but {batch.Length} were given.", nameof(batch));
        lock (_writeLock)
        {
            long baseOffset = LogEndOffset;
            RecordBatchHeader.SetBaseOffset(batch, baseOffset);
            var config = Config;
            long now = NowMs;
            var segment = _segments[^1];
            bool rolled = false;
            if (segment.Length > 0 && (segment.Length + batch.Length > config.SegmentBytes || now - _activeSinceMs >= config.SegmentMs))
            {
                segment.Flush();
                WriteSegmentIndex(_segments.Count - 1);
                segment = Segment.Open(SegmentPath(baseOffset), baseOffset);
                _segments.Add(segment);
                rolled = true;
            }
            long position = segment.Length;
            try
            {
                segment.Append(batch);
            }
            catch (IOException e)
            {
                // Disk full or similar: the log must stay a sequence of whole batches.
                string undo = UndoFailedAppend(segment, position, rolled);
                throw new StorageException($"{segment.Path}: append failed ({e.Message}); the log is unchanged{undo}.", e);
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
            var entry = new BatchEntry(baseOffset, baseOffset + h.LastOffsetDelta, h.MaxTimestamp, _segments.Count - 1, position, batch.Length);
            AddToIndex(entry);
            LogEndOffset = entry.LastOffset + 1;
            return baseOffset;
        }
    }

    /// <summary>fsyncs the active segment.</summary>
    public void Flush()
    {
        lock (_writeLock)
        {
            _segments[^1].Flush();
            _unflushed = 0;
        }
    }

    /// <summary>flush.ms for a log that stopped receiving appends: the broker calls this periodically.</summary>
    public bool FlushIfDue()
    {
        lock (_writeLock)
        {
            if (_unflushed == 0 || NowMs - _firstUnflushedMs < Config.FlushMs)
                return false;
            _segments[^1].Flush();
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
        LogStartOffset = offset;
        string path = Path.Combine(Directory, StartOffsetFile);
        File.WriteAllText(path + ".tmp", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public void Dispose()
    {
        lock (_writeLock)
        {
            _closed = true;
            foreach (var s in _segments)
                s.Dispose();
        }
    }

    /// <summary>
    /// Clean shutdown: fsync, then write the batch index and the segment lengths it describes, so
    /// the next start skips the scan. The checkpoint is deleted as soon as it is used: a crash after
    /// the next start leaves no checkpoint and forces the full, CRC-checked scan.
    /// </summary>
    public void Close()
    {
        lock (_writeLock)
        {
            try
            {
                WriteCheckpoint();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // No checkpoint just means a full scan at the next start.
                _logger.LogWarning("{Dir}: no clean-shutdown checkpoint written: {Message}", Directory, e.Message);
            }
            _closed = true;
            foreach (var s in _segments)
                s.Dispose();
        }
    }

    private void WriteCheckpoint()
    {
        _segments[^1].Flush();
        string path = Path.Combine(Directory, CheckpointFile);
        using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
        using (var w = new BinaryWriter(file))
        {
            w.Write(CheckpointVersion);
            w.Write(_segments.Count);
            foreach (var s in _segments)
            {
                w.Write(s.BaseOffset);
                w.Write(s.Length);
            }
            w.Write(_count);
            for (int i = 0; i < _count; i++)
            {
                var e = _index[i];
                w.Write(e.BaseOffset);
                w.Write(e.LastOffset);
                w.Write(e.MaxTimestamp);
                w.Write(e.Segment);
                w.Write(e.Position);
                w.Write(e.Size);
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private const string CheckpointFile = "index.checkpoint";
    private const int CheckpointVersion = 1;

    private bool TryLoadCheckpoint()
    {
        string path = Path.Combine(Directory, CheckpointFile);
        if (!File.Exists(path))
            return false;
        try
        {
            using (var r = new BinaryReader(File.OpenRead(path)))
            {
                if (r.ReadInt32() != CheckpointVersion || r.ReadInt32() != _segments.Count)
                    return false;
                foreach (var s in _segments)
                {
                    if (r.ReadInt64() != s.BaseOffset || r.ReadInt64() != s.Length)
                        return false; // written to after the checkpoint: scan
                }
                int count = r.ReadInt32();
                if (count < 0 || count > 100_000_000)
                    return false;
                _index = new BatchEntry[Math.Max(16, count)];
                _count = 0;
                for (int i = 0; i < count; i++)
                    AddToIndex(new BatchEntry(r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), r.ReadInt32()));
            }
            return true;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            _count = 0;
            _logger.LogWarning("{Path}: unreadable checkpoint ({Message}); scanning the log instead", path, e.Message);
            return false;
        }
        finally
        {
            // Used once: from here on only a clean Close writes a new one.
            File.Delete(path);
        }
    }
}
