using System.Buffers;
using Microsoft.Extensions.Logging;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Internal;

internal sealed partial class Segment
{
    /// <summary>
    /// Reads every batch, checking its CRC, and rebuilds the indexes from them; the file is cut at
    /// the first batch that is torn, zeroed, corrupt or out of order. Returns the bytes cut.
    /// </summary>
    public long Recover(long previousLastOffset, int indexIntervalBytes)
    {
        var index = new SegmentIndex(BaseOffset);
        long position = 0;
        long length = Length;
        while (position + RecordBatchHeader.Size <= length)
        {
            var h = ReadHeader(position);
            bool valid = IsPlausible(h, position, length, previousLastOffset);
            if (valid)
            {
                int size = h.TotalSize;
                var batch = ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    Read(batch.AsSpan(0, size), position);
                    valid = RecordBatchHeader.ComputeCrc(batch.AsSpan(0, size)) == h.Crc;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(batch);
                }
            }
            if (!valid)
                break;
            index.Add(h, position, indexIntervalBytes);
            previousLastOffset = h.LastOffset;
            position += h.TotalSize;
        }
        if (position < length)
            Truncate(position);
        Volatile.Write(ref _index, index);
        return length - position;
    }

    /// <summary>Whether a header can be a batch of this segment at this position (before its CRC is checked).</summary>
    private bool IsPlausible(in RecordBatchHeader h, long position, long length, long previousLastOffset) =>
        h.Magic == RecordBatchHeader.CurrentMagic
        && h.BatchLength >= RecordBatchHeader.Size - RecordBatchHeader.LogOverhead
        && position + h.TotalSize <= length
        && h.LastOffsetDelta >= 0
        && h.BaseOffset > previousLastOffset
        && h.BaseOffset >= BaseOffset
        && h.LastOffset - BaseOffset <= int.MaxValue;

    /// <summary>
    /// Takes the indexes from the <c>.index</c>/<c>.timeindex</c> files instead of reading the
    /// segment, as Kafka trusts segments below its recovery point. The files must be sane and the
    /// batches after the last offset entry (read header by header) must start at the batch that
    /// entry names and end exactly at the end of the file. False, and nothing changed, otherwise.
    /// </summary>
    public bool TryLoadIndexFiles(long previousLastOffset, int indexIntervalBytes, ILogger logger)
    {
        if (!File.Exists(OffsetIndexPath) || !File.Exists(TimeIndexPath))
            return false;
        long length = Length;
        try
        {
            var index = SegmentIndex.Parse(BaseOffset, File.ReadAllBytes(OffsetIndexPath), File.ReadAllBytes(TimeIndexPath), length, out string why);
            if (index is null)
            {
                logger.LogWarning("{Path}: index file refused ({Why}); scanning the segment", OffsetIndexPath, why);
                return false;
            }
            if (length == 0)
            {
                Volatile.Write(ref _index, index);
                return index.Offsets.Count == 0 && index.Times.Count == 0;
            }
            if (length < RecordBatchHeader.Size)
                return false;
            var first = ReadHeader(0);
            if (!IsPlausible(first, 0, length, previousLastOffset))
                return false;
            index.SetFirst(first);
            var offsets = index.Offsets.Items;
            long position = index.LastIndexedPosition < 0 ? 0 : index.LastIndexedPosition;
            long expected = offsets.Length > 0 ? BaseOffset + offsets[^1].RelativeOffset : -1;
            long previous = position == 0 ? previousLastOffset : -1;
            while (position + RecordBatchHeader.Size <= length)
            {
                var h = ReadHeader(position);
                if (expected >= 0 && h.LastOffset != expected)
                    return false;
                expected = -1;
                if (!IsPlausible(h, position, length, previous))
                    return false;
                index.Add(h, position, indexIntervalBytes);
                previous = h.LastOffset;
                position += h.TotalSize;
            }
            if (position != length || index.OffsetOfMaxTimestamp >= index.NextOffset)
                return false;
            Volatile.Write(ref _index, index);
            return true;
        }
        catch (Exception e) when (e is IOException or OverflowException)
        {
            logger.LogWarning("{Path}: index files unreadable ({Message}); scanning the segment", OffsetIndexPath, e.Message);
            return false;
        }
    }

    /// <summary>
    /// A segment that will not be appended to again: final time entry, then both index files
    /// (written beside, fsynced, renamed). Best effort: without them a crash costs a scan.
    /// </summary>
    public void Seal(ILogger logger)
    {
        _index.Seal();
        WriteIndexFiles(logger);
        TxnIndex.Flush(logger);
    }

    public void WriteIndexFiles(ILogger logger)
    {
        var index = Index;
        try
        {
            Write(OffsetIndexPath, index.OffsetFile());
            Write(TimeIndexPath, index.TimeFile());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("{Path}: index files not written ({Message}); a crash would cost a scan of the segment", Path, e.Message);
        }

        static void Write(string path, byte[] bytes)
        {
            using (var stream = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }

    /// <summary>
    /// Replaces an index found damaged while serving reads: rebuilt from the batch headers (the
    /// batches were checked when the log opened), then written out for a rolled segment.
    /// </summary>
    public void RebuildIndex(int indexIntervalBytes, bool rolled, ILogger logger)
    {
        var index = new SegmentIndex(BaseOffset);
        long length = Length;
        long previous = -1;
        long position = 0;
        while (position + RecordBatchHeader.Size <= length)
        {
            var h = ReadHeader(position);
            if (!IsPlausible(h, position, length, previous))
            {
                logger.LogError("{Path}: batch header at {Position} is damaged; reads past it fail", Path, position);
                break;
            }
            index.Add(h, position, indexIntervalBytes);
            previous = h.LastOffset;
            position += h.TotalSize;
        }
        if (rolled)
            index.Seal();
        Volatile.Write(ref _index, index);
        logger.LogWarning("{Path}: index rebuilt from the segment after an entry did not match its batch", OffsetIndexPath);
        if (rolled)
            WriteIndexFiles(logger);
    }
}
