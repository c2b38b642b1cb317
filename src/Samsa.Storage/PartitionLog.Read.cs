using System.Buffers;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    private (BatchEntry[] Index, int Count, List<Segment> Segments) Snapshot()
    {
        lock (_writeLock)
            return (_index, _count, [.. _segments]);
    }

    private static int FindBatch(BatchEntry[] index, int count, long offset)
    {
        // First batch whose last offset is at or after the offset.
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (index[mid].LastOffset < offset)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    /// <summary>
    /// Whole batches starting with the one that holds <paramref name="offset"/>, up to
    /// <paramref name="maxBytes"/> (but at least one batch, as Kafka does, so a consumer can always
    /// make progress), within one segment. The caller returns the buffer with <see cref="LogRead.Dispose"/>.
    /// </summary>
    public LogRead Read(long offset, int maxBytes)
    {
        while (true)
        {
            try
            {
                return TryRead(offset, maxBytes);
            }
            catch (ObjectDisposedException) when (!_closed)
            {
                // Retention deleted the segment between the snapshot and the read: look again in
                // what is left (the caller checks the offset against the new log start). A closed
                // log (topic deleted, shutdown) stays an error, or this would spin.
            }
        }
    }

    private LogRead TryRead(long offset, int maxBytes)
    {
        var (index, count, segments) = Snapshot();
        int i = FindBatch(index, count, offset);
        if (i >= count)
            return LogRead.Empty;
        var first = index[i];
        long size = first.Size;
        int j = i + 1;
        while (j < count && index[j].Segment == first.Segment && size + index[j].Size <= maxBytes)
            size += index[j++].Size;
        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            segments[first.Segment].Read(buffer.AsSpan(0, (int)size), first.Position);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return new LogRead(buffer, (int)size, first.BaseOffset, index[j - 1].LastOffset);
    }

    /// <summary>The batch entries from the one holding <paramref name="offset"/>, for offset lookups.</summary>
    public IEnumerable<BatchEntry> Batches(long fromOffset = 0)
    {
        var (index, count, _) = Snapshot();
        for (int i = FindBatch(index, count, fromOffset); i < count; i++)
            yield return index[i];
    }

    /// <summary>The first batch whose max timestamp is at or after <paramref name="timestamp"/> (ListOffsets by time).</summary>
    public BatchEntry? FindByTimestamp(long timestamp)
    {
        foreach (var entry in Batches(LogStartOffset))
        {
            if (entry.MaxTimestamp >= timestamp)
                return entry;
        }
        return null;
    }
}

/// <summary>Bytes read from a log: whole batches in a pooled buffer.</summary>
public sealed class LogRead : IDisposable
{
    public static readonly LogRead Empty = new(null, 0, -1, -1);

    private byte[]? _buffer;

    internal LogRead(byte[]? buffer, int length, long firstOffset, long lastOffset)
    {
        _buffer = buffer;
        Length = length;
        FirstOffset = firstOffset;
        LastOffset = lastOffset;
    }

    public int Length { get; }

    public long FirstOffset { get; }

    public long LastOffset { get; }

    public ReadOnlyMemory<byte> Memory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, Length);

    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is not null)
            ArrayPool<byte>.Shared.Return(b);
    }
}
