using Microsoft.Win32.SafeHandles;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Internal;

/// <summary>
/// One segment: a file of record batches laid out as Kafka's <c>.log</c> files are, named by its
/// base offset, with Kafka's sparse offset and time indexes (held in memory, written to
/// <c>.index</c> and <c>.timeindex</c> when the segment rolls and at a clean shutdown).
/// Writes go straight to the OS (no user-space buffer), so a process crash loses nothing that was
/// acknowledged; Flush is an fsync. One writer, under the log's lock; readers see only the bytes
/// below <see cref="Length"/>, which is published after a batch is wholly written.
/// </summary>
internal sealed partial class Segment : IDisposable
{
    public const string LogSuffix = ".log";
    public const string OffsetIndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";

    private const int ScanWindow = 8 * 1024;

    private readonly SafeFileHandle _handle;
    private long _length;
    private SegmentIndex _index;

    private Segment(string path, long baseOffset, SafeFileHandle handle)
    {
        Path = path;
        BaseOffset = baseOffset;
        _handle = handle;
        _length = RandomAccess.GetLength(handle);
        _index = new SegmentIndex(baseOffset);
        TxnIndex = new TransactionIndex(TxnIndexPath);
    }

    public string Path { get; }

    public long BaseOffset { get; }

    public long Length => Volatile.Read(ref _length);

    /// <summary>Swapped whole when rebuilt; a reader takes it once per lookup.</summary>
    public SegmentIndex Index => Volatile.Read(ref _index);

    public long NextOffset => Index.NextOffset;

    public long MaxTimestamp => Index.MaxTimestamp;

    /// <summary>The aborted transactions whose markers are in this segment (Kafka's .txnindex).</summary>
    public TransactionIndex TxnIndex { get; private set; }

    /// <summary>At open, once the segment's batches are known: entries for markers a crash took back are dropped.</summary>
    public void LoadTxnIndex(Microsoft.Extensions.Logging.ILogger logger) => TxnIndex = TransactionIndex.Load(TxnIndexPath, NextOffset, logger);

    /// <summary>Compaction's rewritten segment keeps the offsets, so it keeps the aborted transactions too.</summary>
    public void AdoptTxnIndex(TransactionIndex index) => TxnIndex = index;

    public static string FileName(long baseOffset) => baseOffset.ToString("D20", System.Globalization.CultureInfo.InvariantCulture);

    public static Segment Open(string path, long baseOffset)
    {
        try
        {
            var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            return new Segment(path, baseOffset, handle);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StorageException($"{path}: cannot open for writing ({e.Message}). Is the data directory read-only?", e);
        }
        catch (IOException e)
        {
            throw new StorageException($"{path}: cannot open: {e.Message}", e);
        }
    }

    public void Read(Span<byte> destination, long position)
    {
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[read..], position + read);
            if (n == 0)
                throw new StorageException($"{Path}: unexpected end of file at {position + read}.");
            read += n;
        }
    }

    public RecordBatchHeader ReadHeader(long position)
    {
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        Read(header, position);
        return RecordBatchHeader.Read(header);
    }

    /// <summary>Writes a whole batch at the end, publishes it, then indexes it. A failed write publishes nothing.</summary>
    public void Append(ReadOnlySpan<byte> batch, in RecordBatchHeader header, int indexIntervalBytes)
    {
        long position = _length;
        RandomAccess.Write(_handle, batch, position);
        // Length first: an index entry never points past what readers may read.
        Volatile.Write(ref _length, position + batch.Length);
        _index.Add(header, position, indexIntervalBytes);
    }

    public void Truncate(long length)
    {
        RandomAccess.SetLength(_handle, length);
        Volatile.Write(ref _length, length);
    }

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    /// <summary>
    /// The first batch at or after <paramref name="position"/>'s lookup whose last offset reaches
    /// <paramref name="offset"/> and whose largest timestamp reaches <paramref name="timestamp"/>.
    /// Starts from the offset index; the header found at an index entry must be the batch it names,
    /// or the index is corrupt (<see cref="CorruptIndexException"/>: the caller rebuilds it).
    /// </summary>
    public bool TryFind(long offset, long timestamp, out long position, out RecordBatchHeader header)
    {
        // The entry first, then the length: an append publishes the length before the entry, so
        // the batch of any entry seen is below the length read after it.
        position = Index.PositionFor(offset, out long indexed);
        long end = Length;
        // Headers are read through a window: one read usually covers the index interval (4 KiB by default).
        Span<byte> window = stackalloc byte[ScanWindow];
        long windowStart = 0;
        int windowLength = 0;
        while (position < end)
        {
            if (position < windowStart || position + RecordBatchHeader.Size > windowStart + windowLength)
            {
                windowStart = position;
                windowLength = (int)Math.Min(ScanWindow, end - position);
                if (windowLength < RecordBatchHeader.Size)
                    throw indexed >= 0 ? new CorruptIndexException(this) : Damaged(position);
                Read(window[..windowLength], position);
            }
            header = RecordBatchHeader.Read(window[(int)(position - windowStart)..]);
            if (indexed >= 0)
            {
                // The header at an index entry must be the batch the entry names.
                if (header.LastOffset != indexed || !IsWhole(header, position, end))
                    throw new CorruptIndexException(this);
                indexed = -1;
            }
            else if (!IsWhole(header, position, end))
            {
                throw Damaged(position);
            }
            if (header.LastOffset >= offset && header.MaxTimestamp >= timestamp)
                return true;
            position += header.TotalSize;
        }
        header = default;
        return false;
    }

    /// <summary>Every batch header in file order, for compaction and tests (reads each header).</summary>
    public IEnumerable<(long Position, RecordBatchHeader Header)> Batches(long fromPosition = 0)
    {
        long end = Length;
        for (long position = fromPosition; position < end;)
        {
            if (end - position < RecordBatchHeader.Size)
                throw Damaged(position);
            var header = ReadHeader(position);
            if (!IsWhole(header, position, end))
                throw Damaged(position);
            yield return (position, header);
            position += header.TotalSize;
        }
    }

    private static bool IsWhole(in RecordBatchHeader header, long position, long end) =>
        header.Magic == RecordBatchHeader.CurrentMagic && header.TotalSize >= RecordBatchHeader.Size && position + header.TotalSize <= end;

    /// <summary>
    /// A header that cannot start a batch where one must start: the file was damaged after it was
    /// checked (bit rot, or an edit behind the broker's back). An error naming the place, never a loop.
    /// </summary>
    private StorageException Damaged(long position) => new($"{Path}: no valid batch header at position {position}; the segment is damaged.");

    public string OffsetIndexPath => System.IO.Path.ChangeExtension(Path, OffsetIndexSuffix);

    public string TimeIndexPath => System.IO.Path.ChangeExtension(Path, TimeIndexSuffix);

    public string TxnIndexPath => System.IO.Path.ChangeExtension(Path, TransactionIndex.Suffix);

    /// <summary>Deletes the segment, its index files and its aborted-transaction index (retention). The handle must be disposed first.</summary>
    public void DeleteFiles()
    {
        File.Delete(Path);
        DeleteIndexFiles();
        TxnIndex.Delete();
    }

    public void DeleteIndexFiles()
    {
        try
        {
            File.Delete(OffsetIndexPath);
            File.Delete(TimeIndexPath);
        }
        catch (IOException)
        {
            // A stale index file is refused at load (its last entry no longer matches the segment).
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>An index entry that does not name the batch found at its position: the index file was damaged after it was checked.</summary>
internal sealed class CorruptIndexException(Segment segment) : Exception($"{segment.OffsetIndexPath}: an entry does not match the batch at its position")
{
    public Segment Segment { get; } = segment;
}
