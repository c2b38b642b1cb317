using System.Buffers;
using Microsoft.Extensions.Logging;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>What one compaction pass did.</summary>
public readonly record struct CompactionResult(int SegmentsRewritten, long RecordsRemoved, long BytesBefore, long BytesAfter);

public sealed partial class PartitionLog
{
    private const string CleanedSuffix = ".cleaned";

    /// <summary>
    /// Log compaction (cleanup.policy=compact), as Kafka's cleaner: in every segment but the active
    /// one, keep only the newest record of each key (newest among those segments), and drop
    /// tombstones (null values) whose batch is older than <paramref name="deleteRetentionMs"/>.
    /// Surviving records keep their offsets; a batch whose records all survive is copied byte for
    /// byte, one that lost some is re-encoded with the same offsets, producer fields and codec.
    /// Each segment is written to a ".cleaned" file, fsynced, then renamed over the original, so a
    /// crash leaves either the old or the new segment (leftover ".cleaned" files are deleted at
    /// start-up). Control batches and records without a key are kept.
    /// </summary>
    public CompactionResult Compact(long nowMs, long deleteRetentionMs)
    {
        lock (_writeLock)
        {
            int cleanable = _segments.Count - 1;
            if (cleanable <= 0)
                return default;
            // Keys are looked up by span: a key is copied once, when first seen.
            var latest = new Dictionary<byte[], long>(ByteArrayComparer.Instance).GetAlternateLookup<ReadOnlySpan<byte>>();
            using var scratch = new PooledBufferWriter(64 * 1024);
            for (int e = 0; e < _count && _index[e].Segment < cleanable; e++)
            {
                var batch = ReadBatch(_index[e], out var header);
                if (header.IsControl)
                    continue;
                foreach (var record in new RecordBatchFromBytes(batch).Records(scratch))
                {
                    if (record.Key is { } key)
                        latest[key.Span] = record.Offset;
                }
            }

            long removed = 0, before = 0, after = 0;
            int rewritten = 0;
            using var output = new PooledBufferWriter(1 << 20);
            using var builder = new RecordBatchBuilder();
            var keep = new List<bool>();
            int next = 0; // the index is in segment order: one pass over it covers every segment
            for (int s = 0; s < cleanable; s++)
            {
                var segment = _segments[s];
                output.Clear();
                bool changed = false;
                for (; next < _count && _index[next].Segment == s; next++)
                {
                    int e = next;
                    var bytes = ReadBatch(_index[e], out var header);
                    if (header.IsControl)
                    {
                        output.Write(bytes);
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
                DeleteSegmentIndex(segment.Path); // describes the old layout; rewritten below
                File.Move(cleaned, segment.Path, overwrite: true);
                // Readers may still hold the old handle (it reads the old, unlinked file): leave it to the GC.
                _segments[s] = Segment.Open(segment.Path, segment.BaseOffset);
                after += output.WrittenCount;
                rewritten++;
            }
            if (rewritten > 0)
            {
                _count = 0;
                for (int s = 0; s < _segments.Count; s++)
                    Recover(_segments[s], s);
                WriteMissingSegmentIndexes();
                _logger.LogInformation("{Dir}: compaction removed {Records} record(s) from {Segments} segment(s), {Before} -> {After} bytes", Directory, removed, rewritten, before, after);
            }
            return new CompactionResult(rewritten, removed, before, after);
        }
    }

    private byte[] ReadBatch(BatchEntry entry, out RecordBatchHeader header)
    {
        var bytes = new byte[entry.Size];
        _segments[entry.Segment].Read(bytes, entry.Position);
        header = RecordBatchHeader.Read(bytes);
        return bytes;
    }

    private static void DeleteLeftoverCleanedFiles(string directory)
    {
        foreach (var path in System.IO.Directory.GetFiles(directory, "*" + SegmentSuffix + CleanedSuffix))
            File.Delete(path);
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
