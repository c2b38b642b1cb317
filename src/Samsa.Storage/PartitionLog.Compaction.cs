using System.Buffers;
using Microsoft.Extensions.Logging;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.Storage.Internal;

namespace Samsa.Storage;

/// <summary>What one compaction pass did.</summary>
public readonly record struct CompactionResult(int SegmentsRewritten, long RecordsRemoved, long BytesBefore, long BytesAfter);

public sealed partial class PartitionLog
{
    private const string CleanedSuffix = ".cleaned";

    private const string CleanedOffsetFile = "cleaner-offset";

    // Offsets below this were cleaned by an earlier pass (min.cleanable.dirty.ratio's "clean" part);
    // kept in a file beside the segments, as Kafka keeps its cleaner-offset-checkpoint.
    private long _cleanedUpTo;

    /// <summary>
    /// Log compaction (cleanup.policy=compact), as Kafka's cleaner: in every segment but the active
    /// one, keep only the newest record of each key (newest among those segments), and drop
    /// tombstones (null values) whose batch is older than <paramref name="deleteRetentionMs"/>.
    /// Surviving records keep their offsets; a batch whose records all survive is copied byte for
    /// byte, one that lost some is re-encoded with the same offsets, producer fields and codec.
    /// Each segment is written to a ".cleaned" file, fsynced, then renamed over the original, so a
    /// crash leaves either the old or the new segment (leftover ".cleaned" files are deleted at
    /// start-up). Control batches and records without a key are kept; the records of aborted
    /// transactions are removed (and never count as a key's newest value), and nothing at or past
    /// the last stable offset is cleaned.
    /// As Kafka's topic configs: <paramref name="minCompactionLagMs"/> (min.compaction.lag.ms) keeps
    /// the cleaner off segments holding a record younger than that; <paramref name="minCleanableDirtyRatio"/>
    /// (min.cleanable.dirty.ratio) skips the pass until that share of the cleanable bytes was not
    /// cleaned before.
    /// </summary>
    public CompactionResult Compact(long nowMs, long deleteRetentionMs, long minCompactionLagMs = 0, double minCleanableDirtyRatio = 0)
    {
        lock (_writeLock)
        {
            var segments = _segments;
            int cleanable = 0;
            // As Kafka's firstUncleanableOffset: nothing at or past the last stable offset, whose fate is still open.
            long stable = LastStableOffset;
            while (cleanable < segments.Length - 1 && segments[cleanable].NextOffset <= stable
                && (minCompactionLagMs <= 0 || segments[cleanable].MaxTimestamp <= nowMs - minCompactionLagMs))
                cleanable++;
            if (cleanable == 0)
                return default;
            long cleanableBytes = 0, dirtyBytes = 0;
            for (int i = 0; i < cleanable; i++)
            {
                cleanableBytes += segments[i].Length;
                if (segments[i].NextOffset > _cleanedUpTo)
                    dirtyBytes += segments[i].Length;
            }
            if (cleanableBytes == 0 || (double)dirtyBytes / cleanableBytes < minCleanableDirtyRatio)
                return default;
            // Keys are looked up by span: a key is copied once, when first seen.
            var latest = new Dictionary<byte[], long>(ByteArrayComparer.Instance).GetAlternateLookup<ReadOnlySpan<byte>>();
            using var scratch = new PooledBufferWriter(64 * 1024);
            var aborted = AbortedRanges(segments);
            for (int s = 0; s < cleanable; s++)
            {
                foreach (var (position, header) in segments[s].Batches())
                {
                    if (header.IsControl || IsAborted(aborted, header))
                        continue;
                    foreach (var record in new RecordBatchFromBytes(ReadBatch(segments[s], position, header)).Records(scratch))
                    {
                        if (record.Key is { } key)
                            latest[key.Span] = record.Offset;
                    }
                }
            }

            long removed = 0, before = 0, after = 0;
            int rewritten = 0;
            using var output = new PooledBufferWriter(1 << 20);
            using var builder = new RecordBatchBuilder();
            var keep = new List<bool>();
            var replaced = (Segment[])segments.Clone();
            for (int s = 0; s < cleanable; s++)
            {
                var segment = segments[s];
                output.Clear();
                bool changed = false;
                foreach (var (position, header) in segment.Batches())
                {
                    var bytes = ReadBatch(segment, position, header);
                    if (header.IsControl)
                    {
                        output.Write(bytes);
                        continue;
                    }
                    if (IsAborted(aborted, header))
                    {
                        // As Kafka's cleaner: an aborted transaction's records go; its marker stays.
                        removed += header.RecordCount;
                        changed = true;
                        continue;
                    }
                    bool tombstonesExpired = header.MaxTimestamp < nowMs - deleteRetentionMs;
                    keep.Clear();
                    int kept = 0;
                    foreach (var record in new RecordBatchFromBytes(bytes).Records(scratch))
                    {
                        bool survives = record.Key is not { } key
                            || (latest.TryGetValue(key.Span, out long newest) && newest == record.Offset && !(record.Value is null && tombstonesExpired));
                        keep.Add(survives);
                        kept += survives ? 1 : 0;
                    }
                    removed += keep.Count - kept;
                    if (kept == keep.Count)
                    {
                        output.Write(bytes);
                        continue;
                    }
                    changed = true;
                    if (kept == 0)
                        continue;
                    // Only a batch that lost records is re-encoded (decompressed a second time).
                    builder.Reset();
                    builder.Compression = header.Compression;
                    builder.ProducerId = header.ProducerId;
                    builder.ProducerEpoch = header.ProducerEpoch;
                    builder.BaseSequence = header.BaseSequence;
                    builder.IsTransactional = header.IsTransactional;
                    int i = 0;
                    foreach (var record in new RecordBatchFromBytes(bytes).Records(scratch))
                    {
                        if (!keep[i++])
                            continue;
                        List<(string, byte[]?)>? headers = null;
                        if (record.HeaderCount > 0)
                        {
                            headers = [];
                            foreach (var h in record.GetHeaders())
                                headers.Add((System.Text.Encoding.UTF8.GetString(h.Key.Span), h.Value?.ToArray()));
                        }
                        builder.AddAt((int)(record.Offset - header.BaseOffset), record.Timestamp,
                            record.Key is { } k ? k.Span : default, record.Key is null, record.Value is { } v ? v.Span : default, record.Value is null, headers);
                    }
                    builder.ExtendLastOffsetDelta(header.LastOffsetDelta);
                    int start = output.WrittenCount;
                    builder.Build(output);
                    RecordBatchHeader.SetBaseOffset(output.WrittenSpanForUpdate[start..], header.BaseOffset);
                    RecordBatchHeader.SetPartitionLeaderEpoch(output.WrittenSpanForUpdate[start..], header.PartitionLeaderEpoch);
                }
                before += segment.Length;
                if (!changed)
                {
                    after += segment.Length;
                    continue;
                }
                string cleaned = segment.Path + CleanedSuffix;
                using (var file = new FileStream(cleaned, FileMode.Create, FileAccess.Write))
                {
                    file.Write(output.WrittenSpan);
                    file.Flush(flushToDisk: true);
                }
                segment.DeleteIndexFiles(); // they describe the old layout; written anew below
                File.Move(cleaned, segment.Path, overwrite: true);
                // Readers may still hold the old segment (its handle reads the old, unlinked file, with
                // the old index): leave it to the GC. The new file is checked as after a crash.
                var compacted = Segment.Open(segment.Path, segment.BaseOffset);
                compacted.Recover(s == 0 ? -1 : replaced[s - 1].NextOffset - 1, Config.IndexIntervalBytes);
                compacted.AdoptTxnIndex(segment.TxnIndex);
                compacted.Seal(_logger);
                replaced[s] = compacted;
                _segments = [.. replaced]; // at once: a failure further on must not hide this file's new layout
                after += output.WrittenCount;
                rewritten++;
            }
            SaveCleanedUpTo(replaced[cleanable - 1].NextOffset);
            if (rewritten > 0)
            {
                _logger.LogInformation("{Dir}: compaction removed {Records} record(s) from {Segments} segment(s), {Before} -> {After} bytes", Directory, removed, rewritten, before, after);
            }
            return new CompactionResult(rewritten, removed, before, after);
        }
    }

    /// <summary>Every aborted transaction's offset range, by producer, from the segments' aborted-transaction indexes.</summary>
    private static Dictionary<long, List<(long First, long Last)>> AbortedRanges(Segment[] segments)
    {
        var ranges = new Dictionary<long, List<(long, long)>>();
        foreach (var segment in segments)
        {
            foreach (var entry in segment.TxnIndex.Entries)
            {
                if (!ranges.TryGetValue(entry.ProducerId, out var list))
                    ranges[entry.ProducerId] = list = [];
                list.Add((entry.FirstOffset, entry.LastOffset));
            }
        }
        return ranges;
    }

    /// <summary>A transactional data batch inside one of its producer's aborted transactions (the rule of <see cref="AbortedTransaction.Covers"/>, on ranges grouped by producer).</summary>
    private static bool IsAborted(Dictionary<long, List<(long First, long Last)>> aborted, in RecordBatchHeader h)
    {
        if (!h.IsTransactional || h.IsControl || !aborted.TryGetValue(h.ProducerId, out var ranges))
            return false;
        foreach (var (first, last) in ranges)
        {
            if (h.BaseOffset >= first && h.BaseOffset < last)
                return true;
        }
        return false;
    }

    private void SaveCleanedUpTo(long offset)
    {
        _cleanedUpTo = offset;
        string path = Path.Combine(Directory, CleanedOffsetFile);
        try
        {
            File.WriteAllText(path + ".tmp", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without it the next start counts everything as dirty: one extra pass.
            _logger.LogWarning("{Path}: not written ({Message})", path, e.Message);
        }
    }

    private void LoadCleanedUpTo()
    {
        string path = Path.Combine(Directory, CleanedOffsetFile);
        _cleanedUpTo = File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture, out long offset) ? offset : 0;
    }

    private static byte[] ReadBatch(Segment segment, long position, in RecordBatchHeader header)
    {
        var bytes = new byte[header.TotalSize];
        segment.Read(bytes, position);
        return bytes;
    }

    /// <summary>A batch read from a segment, for compaction: its records, decompressed into <c>scratch</c> when needed.</summary>
    private readonly struct RecordBatchFromBytes(byte[] bytes)
    {
        public RecordEnumerator Records(PooledBufferWriter scratch)
        {
            ReadOnlyMemory<byte> memory = bytes;
            RecordBatch.TryReadNext(ref memory, out var batch);
            return batch.GetRecords(scratch);
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
