using System.Buffers;
using Samsa.Protocol.Records;
using Samsa.Storage.Internal;

namespace Samsa.Storage;

/// <summary>
/// Reads, without the write lock: a reader takes the segment array once, finds the segment by base
/// offset, starts at the nearest offset index entry below the offset and reads batch headers
/// forward to the batch that holds it (Kafka's lookup: at most about index.interval.bytes of headers).
/// </summary>
public sealed partial class PartitionLog
{
    /// <summary>Index of the segment that would hold <paramref name="offset"/>: the last one whose base offset is not above it.</summary>
    private static int SegmentFor(Segment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset)
                lo = mid + 1;
            else
                hi = mid;
        }
        return Math.Max(lo - 1, 0);
    }

    /// <summary>
    /// The first batch, from the segment holding <paramref name="offset"/> onwards, whose last offset
    /// reaches the offset and whose largest timestamp reaches <paramref name="timestamp"/>. A segment
    /// can end before the next one begins (compaction), so the search moves on to the next segment.
    /// </summary>
    private bool TryFind(Segment[] segments, long offset, long timestamp, out int segment, out long position, out RecordBatchHeader header)
    {
        for (segment = SegmentFor(segments, offset); segment < segments.Length; segment++)
        {
            var s = segments[segment];
            if (s.MaxTimestamp < timestamp)
                continue;
            while (true)
            {
                try
                {
                    if (s.TryFind(offset, timestamp, out position, out header))
                        return true;
                    break;
                }
                catch (CorruptIndexException e)
                {
                    RebuildIndex(e.Segment);
                }
            }
        }
        position = 0;
        header = default;
        return false;
    }

    private void RebuildIndex(Segment segment)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            // A segment that retention deleted or compaction replaced since the reader took the array
            // must not write its index files over its successor's: the reader starts again instead.
            ObjectDisposedException.ThrowIf(Array.IndexOf(_segments, segment) < 0, segment);
            segment.RebuildIndex(Config.IndexIntervalBytes, rolled: segment != ActiveSegment, _logger);
        }
    }

    /// <summary>
    /// Runs a lookup until it is not cut short by retention or compaction, which close or replace
    /// segments a reader may hold (it then looks again in the current array). A closed log (topic
    /// deleted, shutdown) stays an error, or this would spin.
    /// </summary>
    private T Retrying<TState, T>(TState state, Func<PartitionLog, TState, T> lookup)
    {
        while (true)
        {
            try
            {
                return lookup(this, state);
            }
            catch (ObjectDisposedException) when (!_closed)
            {
            }
        }
    }

    /// <summary>
    /// Whole batches starting with the one that holds <paramref name="offset"/>, up to
    /// <paramref name="maxBytes"/> (but at least one batch, as Kafka does, so a consumer can always
    /// make progress), within one segment. The caller returns the buffer with <see cref="LogRead.Dispose"/>.
    /// With <paramref name="minOneBatch"/> false a first batch larger than <paramref name="maxBytes"/>
    /// gives an empty read instead: a fetch lets only its first partition with data exceed the limit.
    /// Only batches wholly below <paramref name="maxOffset"/> are read (read_committed passes the
    /// last stable offset, a batch boundary): a cut of the byte range, nothing is copied or parsed.
    /// </summary>
    public LogRead Read(long offset, int maxBytes, bool minOneBatch = true, long maxOffset = long.MaxValue) =>
        Retrying((offset, maxBytes, minOneBatch, maxOffset), static (log, s) => log.TryRead(s.offset, s.maxBytes, s.minOneBatch, s.maxOffset));

    private LogRead TryRead(long offset, int maxBytes, bool minOneBatch, long maxOffset)
    {
        var segments = _segments;
        if (!TryFind(segments, offset, long.MinValue, out int s, out long position, out var first))
            return LogRead.Empty;
        if ((!minOneBatch && first.TotalSize > maxBytes) || first.LastOffset >= maxOffset)
            return LogRead.Empty;
        var segment = segments[s];
        // Read as much as may be wanted in one go, then keep the whole batches in it.
        long available = segment.Length - position;
        int size = (int)Math.Min(available, Math.Max(maxBytes, first.TotalSize));
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            segment.Read(buffer.AsSpan(0, size), position);
            int used = 0;
            long lastOffset = first.LastOffset;
            while (used + RecordBatchHeader.Size <= size)
            {
                var h = RecordBatchHeader.Read(buffer.AsSpan(used));
                if (used + h.TotalSize > size || h.LastOffset >= maxOffset)
                    break;
                used += h.TotalSize;
                lastOffset = h.LastOffset;
            }
            return new LogRead(buffer, used, first.BaseOffset, lastOffset);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// Bytes from the batch holding <paramref name="fromOffset"/> to the log end, or to the batch
    /// holding <paramref name="upTo"/> (read_committed: the last stable offset), counted until
    /// <paramref name="enough"/> (a fetch's min.bytes).
    /// </summary>
    public long BytesAfter(long fromOffset, long enough, long upTo = long.MaxValue) =>
        Retrying((fromOffset, enough, upTo), static (log, s) => log.TryBytesAfter(s.fromOffset, s.enough, s.upTo));

    private long TryBytesAfter(long fromOffset, long enough, long upTo)
    {
        var segments = _segments;
        if (fromOffset >= upTo || !TryFind(segments, fromOffset, long.MinValue, out int s, out long position, out _))
            return 0;
        int last = segments.Length - 1;
        long end = segments[last].Length;
        if (upTo < LogEndOffset && TryFind(segments, upTo, long.MinValue, out int s2, out long p2, out _))
            (last, end) = (s2, p2);
        if (last < s)
            return 0;
        long total = 0;
        for (int i = s; i <= last && total < enough; i++)
            total += (i == last ? end : segments[i].Length) - (i == s ? position : 0);
        return Math.Max(total, 0);
    }

    /// <summary>The batches from the one holding <paramref name="fromOffset"/> to the log end (each header is read).</summary>
    public IEnumerable<BatchEntry> Batches(long fromOffset = 0)
    {
        var segments = _segments;
        if (!TryFind(segments, fromOffset, long.MinValue, out int s, out long position, out _))
            yield break;
        for (; s < segments.Length; s++, position = 0)
        {
            foreach (var (_, h) in segments[s].Batches(position))
                yield return new BatchEntry(h.BaseOffset, h.LastOffset, h.MaxTimestamp, h.TotalSize);
        }
    }

    /// <summary>
    /// The first batch at or after the log start whose largest timestamp is at or after
    /// <paramref name="timestamp"/> (ListOffsets by time): the first segment whose largest timestamp
    /// reaches it, then its time index, then its offset index, then headers.
    /// </summary>
    public BatchEntry? FindByTimestamp(long timestamp) =>
        Retrying(timestamp, static (log, t) => log.TryFindByTimestamp(t));

    private BatchEntry? TryFindByTimestamp(long timestamp)
    {
        var segments = _segments;
        long start = LogStartOffset;
        for (int s = SegmentFor(segments, start); s < segments.Length; s++)
        {
            var segment = segments[s];
            if (segment.MaxTimestamp < timestamp)
                continue;
            // The search goes on into later segments by itself: the first candidate decides.
            long from = Math.Max(start, segment.Index.OffsetForTimestamp(timestamp));
            return TryFind(segments, from, timestamp, out _, out _, out var h)
                ? new BatchEntry(h.BaseOffset, h.LastOffset, h.MaxTimestamp, h.TotalSize)
                : null;
        }
        return null;
    }

    /// <summary>The first batch holding the log's largest timestamp (ListOffsets MAX_TIMESTAMP, KIP-734); null when empty.</summary>
    public BatchEntry? FindMaxTimestamp() =>
        Retrying(0, static (log, _) => log.TryFindMaxTimestamp());

    private BatchEntry? TryFindMaxTimestamp()
    {
        var segments = _segments;
        Segment? best = null;
        for (int s = SegmentFor(segments, LogStartOffset); s < segments.Length; s++)
        {
            var segment = segments[s];
            if (segment.Index.HasBatches && (best is null || segment.MaxTimestamp > best.MaxTimestamp))
                best = segment;
        }
        if (best is null)
            return null;
        long start = LogStartOffset;
        if (best.Index.OffsetOfMaxTimestamp >= start)
        {
            return TryFind(segments, best.Index.OffsetOfMaxTimestamp, best.MaxTimestamp, out _, out _, out var h)
                ? new BatchEntry(h.BaseOffset, h.LastOffset, h.MaxTimestamp, h.TotalSize)
                : null;
        }
        // DeleteRecords hid the batch that holds the segment's largest timestamp: read the headers.
        BatchEntry? found = null;
        foreach (var batch in Batches(start))
        {
            if (found is null || batch.MaxTimestamp > found.Value.MaxTimestamp)
                found = batch;
        }
        return found;
    }
}

/// <summary>Bytes read from a log: whole batches in a pooled buffer.</summary>
public sealed class LogRead : IDisposable
{
    /// <summary>A read that found nothing.</summary>
    public static readonly LogRead Empty = new(null, 0, -1, -1);

    private byte[]? _buffer;

    internal LogRead(byte[]? buffer, int length, long firstOffset, long lastOffset)
    {
        _buffer = buffer;
        Length = length;
        FirstOffset = firstOffset;
        LastOffset = lastOffset;
    }

    /// <summary>How many bytes were read.</summary>
    public int Length { get; }

    /// <summary>The first batch's base offset; -1 when empty.</summary>
    public long FirstOffset { get; }

    /// <summary>The last batch's last offset; -1 when empty.</summary>
    public long LastOffset { get; }

    /// <summary>The batches, valid until Dispose returns the buffer to its pool.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, Length);

    /// <summary>Returns the buffer to its pool.</summary>
    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is not null)
            ArrayPool<byte>.Shared.Return(b);
    }
}
