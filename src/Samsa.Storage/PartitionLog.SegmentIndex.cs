using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Storage;

/// <summary>
/// Per-segment batch index files (<c>&lt;base offset&gt;.batchindex</c>), written when a segment rolls,
/// after the segment is fsynced. After a crash, a rolled segment whose index file is intact (CRC,
/// version, and the segment length it describes) is trusted without reading it, as Kafka trusts
/// segments below its recovery point; only the active segment, the one that can hold an unflushed
/// tail, is scanned batch by batch. A missing, stale or corrupt index file only costs a scan.
/// </summary>
/// <remarks>
/// Dense rather than Kafka's sparse <c>.index</c>/<c>.timeindex</c>: one 36-byte entry per batch
/// (offsets, max timestamp, position, size), the same entries the in-memory index holds, so offset
/// and timestamp lookups need nothing else. Layout: version (int32), segment length (int64), count
/// (int32), the entries, then a CRC32C of everything before it; little-endian.
/// </remarks>
public sealed partial class PartitionLog
{
    private const string SegmentIndexSuffix = ".batchindex";
    private const int SegmentIndexVersion = 1;
    private const int SegmentIndexEntrySize = 36;
    private const int SegmentIndexHeaderSize = 16;

    /// <summary>Segments read batch by batch (CRC-checked) at the last open; the rest came from index files or the checkpoint.</summary>
    public int ScannedSegments { get; private set; }

    private static string SegmentIndexPath(string segmentPath) => Path.ChangeExtension(segmentPath, SegmentIndexSuffix);

    /// <summary>Writes the index file of a segment that will not be appended to again. Best effort: without it, a crash costs a scan.</summary>
    private void WriteSegmentIndex(int segment)
    {
        var file = _segments[segment];
        int first = 0;
        while (first < _count && _index[first].Segment < segment)
            first++;
        int end = first;
        while (end < _count && _index[end].Segment == segment)
            end++;
        var bytes = new byte[SegmentIndexHeaderSize + (end - first) * SegmentIndexEntrySize + 4];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, SegmentIndexVersion);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], end - first);
        int at = SegmentIndexHeaderSize;
        for (int i = first; i < end; i++, at += SegmentIndexEntrySize)
        {
            var e = _index[i];
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], e.BaseOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], e.LastOffset);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], e.MaxTimestamp);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 24)..], e.Position);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 32)..], e.Size);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        string path = SegmentIndexPath(file.Path);
        try
        {
            using (var stream = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("{Path}: index not written ({Message}); a crash would cost a scan of its segment", path, e.Message);
        }
    }

    /// <summary>Index files for rolled segments that have none (scanned at open, or rewritten by compaction).</summary>
    private void WriteMissingSegmentIndexes()
    {
        for (int i = 0; i < _segments.Count - 1; i++)
        {
            if (!File.Exists(SegmentIndexPath(_segments[i].Path)))
                WriteSegmentIndex(i);
        }
    }

    /// <summary>Adds a rolled segment's entries from its index file; false (nothing added) when the file cannot be trusted.</summary>
    private bool TryLoadSegmentIndex(Segment segment, int segmentIndex)
    {
        string path = SegmentIndexPath(segment.Path);
        if (!File.Exists(path))
            return false;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return false;
        }
        var span = bytes.AsSpan();
        if (span.Length < SegmentIndexHeaderSize + 4
            || BinaryPrimitives.ReadInt32LittleEndian(span) != SegmentIndexVersion
            || BinaryPrimitives.ReadInt64LittleEndian(span[4..]) != segment.Length)
            return false;
        int count = BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        int crcAt = SegmentIndexHeaderSize + count * SegmentIndexEntrySize;
        if (count < 0 || crcAt + 4 != span.Length || BinaryPrimitives.ReadUInt32LittleEndian(span[crcAt..]) != Crc32C.Compute(span[..crcAt]))
            return false;
        // The entries must tile the segment and continue the offsets of the segments before it.
        long position = 0;
        long previous = _count > 0 ? _index[_count - 1].LastOffset : segment.BaseOffset - 1;
        var entries = new BatchEntry[count];
        for (int i = 0, at = SegmentIndexHeaderSize; i < count; i++, at += SegmentIndexEntrySize)
        {
            var e = new BatchEntry(
                BinaryPrimitives.ReadInt64LittleEndian(span[at..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 8)..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 16)..]),
                segmentIndex,
                BinaryPrimitives.ReadInt64LittleEndian(span[(at + 24)..]),
                BinaryPrimitives.ReadInt32LittleEndian(span[(at + 32)..]));
            if (e.Position != position || e.Size <= 0 || e.BaseOffset <= previous || e.LastOffset < e.BaseOffset)
                return false;
            position += e.Size;
            previous = e.LastOffset;
            entries[i] = e;
        }
        if (position != segment.Length)
            return false;
        foreach (var e in entries)
            AddToIndex(e);
        return true;
    }

    private static void DeleteSegmentIndex(string segmentPath)
    {
        try
        {
            File.Delete(SegmentIndexPath(segmentPath));
        }
        catch (IOException)
        {
            // A stale index file is refused at load (its length or CRC no longer matches).
        }
    }

    /// <summary>Index files left by segments that no longer exist (a crash between deleting the two).</summary>
    private void DeleteOrphanSegmentIndexes()
    {
        var live = _segments.Select(s => SegmentIndexPath(s.Path)).ToHashSet(StringComparer.Ordinal);
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*" + SegmentIndexSuffix))
        {
            if (!live.Contains(path))
                File.Delete(path);
        }
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*" + SegmentIndexSuffix + ".tmp"))
            File.Delete(path);
    }
}
