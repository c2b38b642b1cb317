using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Deletes whole segments, oldest first, never the active one: those whose newest record is older
    /// than <paramref name="retentionMs"/> (-1 = no time limit), and those that keep the log above
    /// <paramref name="retentionBytes"/> (-1 = no size limit), as Kafka's retention does. Segments
    /// entirely below the log start offset (DeleteRecords) go too. Returns the segments deleted.
    /// </summary>
    public int EnforceRetention(long nowMs, long retentionMs, long retentionBytes)
    {
        lock (_writeLock)
        {
            int deletable = 0;
            long total = _segments.Sum(s => s.Length);
            // One pass over the index: newest timestamp and last offset of every segment.
            var maxTimestamps = new long[_segments.Count];
            var lastOffsets = new long[_segments.Count];
            for (int i = 0; i < _segments.Count; i++)
                (maxTimestamps[i], lastOffsets[i]) = (-1, _segments[i].BaseOffset - 1);
            for (int e = 0; e < _count; e++)
            {
                var entry = _index[e];
                maxTimestamps[entry.Segment] = Math.Max(maxTimestamps[entry.Segment], entry.MaxTimestamp);
                lastOffsets[entry.Segment] = entry.LastOffset;
            }
            for (int i = 0; i < _segments.Count - 1; i++)
            {
                var segment = _segments[i];
                long maxTimestamp = maxTimestamps[i], lastOffset = lastOffsets[i];
                bool expired = retentionMs >= 0 && maxTimestamp < nowMs - retentionMs;
                bool tooBig = retentionBytes >= 0 && total - segment.Length >= retentionBytes;
                bool deleted = lastOffset < LogStartOffset;
                if (!(expired || tooBig || deleted))
                    break;
                deletable++;
                total -= segment.Length;
            }
            if (deletable == 0)
                return 0;

            long newStart = _segments[deletable].BaseOffset;
            for (int i = 0; i < deletable; i++)
            {
                _segments[i].Dispose();
                File.Delete(_segments[i].Path);
                DeleteSegmentIndex(_segments[i].Path);
            }
            _segments.RemoveRange(0, deletable);
            // Drop their index entries and renumber the rest: segment numbers are list positions.
            var kept = new BatchEntry[Math.Max(16, _index.Length)];
            int n = 0;
            for (int e = 0; e < _count; e++)
            {
                if (_index[e].Segment >= deletable)
                    kept[n++] = _index[e] with { Segment = _index[e].Segment - deletable };
            }
            _index = kept;
            _count = n;
            if (newStart > LogStartOffset)
                DeleteRecordsBeforeLocked(newStart);
            _logger.LogInformation("{Dir}: retention deleted {Count} segment(s); log now starts at {Start}", Directory, deletable, LogStartOffset);
            return deletable;
        }
    }
}
