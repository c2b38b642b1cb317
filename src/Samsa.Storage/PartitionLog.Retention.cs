using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Deletes whole segments, oldest first, never the active one: those whose newest record is older
    /// than <paramref name="retentionMs"/> (-1 = no time limit), and those that keep the log above
    /// <paramref name="retentionBytes"/> (-1 = no size limit), as Kafka's retention does. Segments
    /// entirely below the log start offset (DeleteRecords) go too. Each segment's newest timestamp
    /// is its time index's last entry, so nothing is read. Returns the segments deleted.
    /// </summary>
    public int EnforceRetention(long nowMs, long retentionMs, long retentionBytes)
    {
        lock (_writeLock)
        {
            var segments = _segments;
            int deletable = 0;
            long total = SizeInBytes;
            for (int i = 0; i < segments.Length - 1; i++)
            {
                var segment = segments[i];
                bool expired = retentionMs >= 0 && segment.MaxTimestamp < nowMs - retentionMs;
                bool tooBig = retentionBytes >= 0 && total - segment.Length >= retentionBytes;
                bool deleted = segment.NextOffset <= LogStartOffset;
                if (!(expired || tooBig || deleted))
                    break;
                deletable++;
                total -= segment.Length;
            }
            if (deletable == 0)
                return 0;

            // Readers holding the old array get ObjectDisposedException and look again.
            _segments = segments[deletable..];
            for (int i = 0; i < deletable; i++)
            {
                segments[i].Dispose();
                segments[i].DeleteFiles();
            }
            long newStart = segments[deletable].BaseOffset;
            try
            {
                DeleteRecordsBeforeLocked(newStart);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The segments are gone either way, and a start takes the log start from the first one.
                LogStartOffset = Math.Max(LogStartOffset, newStart);
                UpdateLastStableOffset();
                _logger.LogWarning("{Dir}: new log start {Start} not persisted: {Message}", Directory, newStart, e.Message);
            }
            _logger.LogInformation("{Dir}: retention deleted {Count} segment(s); log now starts at {Start}", Directory, deletable, LogStartOffset);
            return deletable;
        }
    }
}
