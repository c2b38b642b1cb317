using System.Buffers.Binary;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Internal;

/// <summary>
/// What a segment knows about its batches without reading them: Kafka's two sparse indexes and the
/// segment's summary (next offset, largest timestamp, first batch). As in Kafka's LogSegment, an
/// offset entry (the batch's last offset, the batch's position) is added once more than
/// index.interval.bytes were appended since the last one, and a time entry (the largest timestamp
/// so far, the offset where it was reached) with it when that timestamp grew. A lookup starts at
/// the nearest entry below and reads batch headers forward from there.
/// One writer; readers use it without locks. A rebuilt index is a new object, swapped in whole.
/// </summary>
internal sealed class SegmentIndex(long baseOffset)
{
    public const int OffsetEntrySize = 8;
    public const int TimeEntrySize = 12;

    private long _nextOffset = baseOffset;
    private long _maxTimestamp = -1;
    private long _offsetOfMaxTimestamp = baseOffset;
    private long _bytesSinceEntry;

    public long BaseOffset { get; } = baseOffset;

    public AppendOnlyArray<OffsetEntry> Offsets { get; } = new();

    public AppendOnlyArray<TimeEntry> Times { get; } = new();

    /// <summary>Last offset + 1; the base offset while empty.</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>Largest batch timestamp in the segment; -1 when it has none (Kafka's NoTimestamp).</summary>
    public long MaxTimestamp => Volatile.Read(ref _maxTimestamp);

    /// <summary>Last offset of the first batch that reached <see cref="MaxTimestamp"/>.</summary>
    public long OffsetOfMaxTimestamp => Volatile.Read(ref _offsetOfMaxTimestamp);

    public bool HasBatches { get; private set; }

    /// <summary>The first batch's largest timestamp: when the segment began, for segment.ms (Kafka's rollingBasedTimestamp).</summary>
    public long FirstTimestamp { get; private set; } = -1;

    /// <summary>Accounts for a batch appended (or found by a scan) at <paramref name="position"/>.</summary>
    public void Add(in RecordBatchHeader h, long position, int indexIntervalBytes)
    {
        if (!HasBatches)
        {
            HasBatches = true;
            FirstTimestamp = h.MaxTimestamp;
        }
        if (h.MaxTimestamp > _maxTimestamp)
        {
            Volatile.Write(ref _offsetOfMaxTimestamp, h.LastOffset);
            Volatile.Write(ref _maxTimestamp, h.MaxTimestamp);
        }
        // The batch the last entry points at is seen again when a loaded index's tail is walked.
        if (_bytesSinceEntry > indexIntervalBytes && position > LastIndexedPosition)
        {
            Offsets.Add(new OffsetEntry(Relative(h.LastOffset), checked((int)position)));
            AddTimeEntryIfGrown();
            _bytesSinceEntry = 0;
        }
        _bytesSinceEntry += h.TotalSize;
        Volatile.Write(ref _nextOffset, h.LastOffset + 1);
    }

    /// <summary>A segment that rolled gets a final time entry, so its largest timestamp is the last entry (as Kafka does on roll).</summary>
    public void Seal() => AddTimeEntryIfGrown();

    private void AddTimeEntryIfGrown()
    {
        var times = Times.Items;
        if (_maxTimestamp >= 0 && (times.Length == 0 || _maxTimestamp > times[^1].Timestamp))
            Times.Add(new TimeEntry(_maxTimestamp, Relative(_offsetOfMaxTimestamp)));
    }

    private int Relative(long offset) => checked((int)(offset - BaseOffset));

    /// <summary>
    /// Where to start reading headers for <paramref name="offset"/>: the indexed batch with the largest
    /// last offset at or below it, or the start of the file. <paramref name="indexedLastOffset"/> is
    /// that entry's offset (-1 for the start of the file), for checking the header found there.
    /// </summary>
    public long PositionFor(long offset, out long indexedLastOffset)
    {
        var entries = Offsets.Items;
        int lo = 0, hi = entries.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (BaseOffset + entries[mid].RelativeOffset <= offset)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
        {
            indexedLastOffset = -1;
            return 0;
        }
        indexedLastOffset = BaseOffset + entries[lo - 1].RelativeOffset;
        return entries[lo - 1].Position;
    }

    /// <summary>An offset at or before the first batch whose timestamp reaches <paramref name="timestamp"/> (Kafka's TimeIndex.lookup).</summary>
    public long OffsetForTimestamp(long timestamp)
    {
        var entries = Times.Items;
        int lo = 0, hi = entries.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].Timestamp <= timestamp)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo == 0 ? BaseOffset : BaseOffset + entries[lo - 1].RelativeOffset;
    }

    /// <summary>Kafka's .index layout: big-endian (int32 relative offset, int32 position) per entry.</summary>
    public byte[] OffsetFile()
    {
        var entries = Offsets.Items;
        var bytes = new byte[entries.Length * OffsetEntrySize];
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * OffsetEntrySize), entries[i].RelativeOffset);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * OffsetEntrySize + 4), entries[i].Position);
        }
        return bytes;
    }

    /// <summary>Kafka's .timeindex layout: big-endian (int64 timestamp, int32 relative offset) per entry.</summary>
    public byte[] TimeFile()
    {
        var entries = Times.Items;
        var bytes = new byte[entries.Length * TimeEntrySize];
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(i * TimeEntrySize), entries[i].Timestamp);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * TimeEntrySize + 8), entries[i].RelativeOffset);
        }
        return bytes;
    }

    /// <summary>
    /// The entries of index files, checked as far as they can be without the segment: whole entries,
    /// offsets, positions and timestamps strictly increasing, positions inside the segment. The
    /// caller walks the batches after the last entry to finish (and to check that entry).
    /// Null, with the reason, when the files cannot be trusted.
    /// </summary>
    public static SegmentIndex? Parse(long baseOffset, ReadOnlySpan<byte> offsetFile, ReadOnlySpan<byte> timeFile, long segmentLength, out string why)
    {
        var index = new SegmentIndex(baseOffset);
        why = "";
        if (offsetFile.Length % OffsetEntrySize != 0 || timeFile.Length % TimeEntrySize != 0)
        {
            why = "not a whole number of entries";
            return null;
        }
        int previousOffset = -1, previousPosition = -1;
        for (int at = 0; at < offsetFile.Length; at += OffsetEntrySize)
        {
            int relative = BinaryPrimitives.ReadInt32BigEndian(offsetFile[at..]);
            int position = BinaryPrimitives.ReadInt32BigEndian(offsetFile[(at + 4)..]);
            if (relative <= previousOffset || position <= previousPosition || position >= segmentLength)
            {
                why = $"offset index entry {at / OffsetEntrySize} is out of order or outside the segment";
                return null;
            }
            index.Offsets.Add(new OffsetEntry(relative, position));
            (previousOffset, previousPosition) = (relative, position);
        }
        long previousTimestamp = -1;
        int previousTimeOffset = 0;
        for (int at = 0; at < timeFile.Length; at += TimeEntrySize)
        {
            long timestamp = BinaryPrimitives.ReadInt64BigEndian(timeFile[at..]);
            int relative = BinaryPrimitives.ReadInt32BigEndian(timeFile[(at + 8)..]);
            if (timestamp <= previousTimestamp || relative < previousTimeOffset)
            {
                why = $"time index entry {at / TimeEntrySize} is out of order";
                return null;
            }
            index.Times.Add(new TimeEntry(timestamp, relative));
            (previousTimestamp, previousTimeOffset) = (timestamp, relative);
        }
        if (index.Times.Count > 0)
        {
            index._maxTimestamp = previousTimestamp;
            index._offsetOfMaxTimestamp = baseOffset + previousTimeOffset;
        }
        return index;
    }

    /// <summary>Where the walk over the batches not covered by loaded entries starts.</summary>
    public long LastIndexedPosition => Offsets.Count > 0 ? Offsets.Items[^1].Position : -1;

    /// <summary>For a loaded index: the first batch, read separately (the walk starts at the last entry).</summary>
    public void SetFirst(in RecordBatchHeader first)
    {
        HasBatches = true;
        FirstTimestamp = first.MaxTimestamp;
    }
}
