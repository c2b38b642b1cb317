using Microsoft.Extensions.Logging;
using Samsa.Storage.Internal;

namespace Samsa.Storage;

/// <summary>
/// Opening a log. Rolled segments were fsynced with their index files when they rolled, so they
/// come back from those files (checked, and the batches after the last entry walked) without being
/// read, as Kafka trusts what lies below its recovery point; a missing or refused index file costs
/// a CRC-checked scan of that segment and is written anew. The active segment is the one that can
/// end in a torn write: it is scanned unless the last shutdown was clean.
/// </summary>
public sealed partial class PartitionLog
{
    private const string CleanShutdownFile = "clean-shutdown";
    private const int CleanShutdownVersion = 1;

    /// <summary>True when the last start followed a clean shutdown and scanned nothing.</summary>
    public bool OpenedFromCheckpoint { get; private set; }

    /// <summary>Segments read batch by batch (CRC-checked) at the last open; the rest came from their index files.</summary>
    public int ScannedSegments { get; private set; }

    private void Load()
    {
        DeleteLeftovers();
        var segments = new List<Segment>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*" + Segment.LogSuffix).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.Length != 20 || !long.TryParse(name, out long baseOffset))
                throw new StorageException($"{path}: not a segment file name (expected 20 digits, the segment's first offset).");
            segments.Add(Segment.Open(path, baseOffset));
        }
        DeleteOrphanIndexFiles(segments);
        OpenedFromCheckpoint = TryUseCleanShutdownMarker(segments);
        ScannedSegments = 0;
        int interval = Config.IndexIntervalBytes;
        long previous = -1;
        for (int i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            bool active = i == segments.Count - 1;
            if ((!active || OpenedFromCheckpoint) && segment.TryLoadIndexFiles(previous, interval, _logger))
            {
                previous = Math.Max(previous, segment.NextOffset - 1);
                continue;
            }
            ScannedSegments++;
            long length = segment.Length;
            long cut = segment.Recover(previous, interval);
            if (cut > 0)
                _logger.LogWarning("{Segment}: truncated {Bytes} byte(s) at position {Position}: torn or corrupt batch after an unclean shutdown", segment.Path, cut, length - cut);
            if (!active)
                segment.Seal(_logger); // so the next crash trusts what was just checked
            previous = Math.Max(previous, segment.NextOffset - 1);
        }
        if (segments.Count == 0)
            segments.Add(Segment.Open(SegmentPath(0), 0));
        foreach (var segment in segments)
            segment.LoadTxnIndex(_logger);
        _segments = [.. segments];
        LogEndOffset = Math.Max(previous + 1, ActiveSegment.NextOffset);
        string startFile = Path.Combine(Directory, StartOffsetFile);
        long start = File.Exists(startFile) && long.TryParse(File.ReadAllText(startFile).Trim(), out long s) ? s : 0;
        // As in Kafka, a segment's base offset bounds the log start even when compaction emptied its start.
        LogStartOffset = Math.Max(start, _segments[0].BaseOffset);
        _activeSinceMs = ActiveSegmentStart();
        LoadCleanedUpTo();
        LoadProducerState();
    }

    /// <summary>
    /// When the active segment began, so a restart does not reset segment.ms. As in Kafka, its
    /// first batch's timestamp — unless that is implausible (a producer's own old timestamps, which
    /// would make every restart roll): then the file's last write, the latest it can have begun.
    /// </summary>
    private long ActiveSegmentStart()
    {
        long now = NowMs;
        var index = ActiveSegment.Index;
        if (!index.HasBatches)
            return now;
        long first = index.FirstTimestamp;
        long lastWrite = new DateTimeOffset(File.GetLastWriteTimeUtc(ActiveSegment.Path)).ToUnixTimeMilliseconds();
        return first <= now && first >= lastWrite - Config.SegmentMs ? first : Math.Min(now, lastWrite);
    }

    /// <summary>
    /// Clean shutdown: fsync, write the active segment's index files, then a marker with the active
    /// segment's length, so the next start reads no segment. The marker is deleted as soon as it is
    /// used: a crash after the next start finds none and scans the active segment.
    /// </summary>
    public void Close()
    {
        lock (_writeLock)
        {
            if (_closed)
                return;
            try
            {
                var active = ActiveSegment;
                active.Flush();
                active.WriteIndexFiles(_logger);
                TryWriteProducerSnapshot(LogEndOffset);
                string path = Path.Combine(Directory, CleanShutdownFile);
                using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
                using (var w = new BinaryWriter(file))
                {
                    w.Write(CleanShutdownVersion);
                    w.Write(active.BaseOffset);
                    w.Write(active.Length);
                    w.Flush();
                    file.Flush(flushToDisk: true);
                }
                File.Move(path + ".tmp", path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // No marker just means a scan of the active segment at the next start.
                _logger.LogWarning("{Dir}: no clean-shutdown marker written: {Message}", Directory, e.Message);
            }
            _closed = true;
            foreach (var s in _segments)
                s.Dispose();
        }
    }

    private bool TryUseCleanShutdownMarker(List<Segment> segments)
    {
        string path = Path.Combine(Directory, CleanShutdownFile);
        if (!File.Exists(path))
            return false;
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            // The active segment must be exactly as it was closed; anything else is scanned.
            return segments.Count > 0 && r.ReadInt32() == CleanShutdownVersion
                && r.ReadInt64() == segments[^1].BaseOffset && r.ReadInt64() == segments[^1].Length;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            _logger.LogWarning("{Path}: unreadable clean-shutdown marker ({Message}); scanning the active segment", path, e.Message);
            return false;
        }
        finally
        {
            // Used once: from here on only a clean Close writes a new one.
            File.Delete(path);
        }
    }

    /// <summary>
    /// Files a start never needs: a compaction cut short (its original segment is intact), index
    /// files half written, and the files of the format before Kafka's indexes (a scan replaces them).
    /// </summary>
    private void DeleteLeftovers()
    {
        foreach (string pattern in (string[])["*" + Segment.LogSuffix + CleanedSuffix, "*.tmp", "*.batchindex", "index.checkpoint"])
        {
            foreach (var path in System.IO.Directory.GetFiles(Directory, pattern))
                File.Delete(path);
        }
    }

    /// <summary>Index files left by segments that no longer exist (a crash between deleting the files).</summary>
    private void DeleteOrphanIndexFiles(List<Segment> segments)
    {
        var live = segments.SelectMany(s => (string[])[s.OffsetIndexPath, s.TimeIndexPath, s.TxnIndexPath]).ToHashSet(StringComparer.Ordinal);
        foreach (string suffix in (string[])[Segment.OffsetIndexSuffix, Segment.TimeIndexSuffix, TransactionIndex.Suffix])
        {
            foreach (var path in System.IO.Directory.GetFiles(Directory, "*" + suffix))
            {
                if (!live.Contains(path))
                    File.Delete(path);
            }
        }
    }
}
