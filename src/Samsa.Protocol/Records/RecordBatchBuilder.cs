using System.Buffers.Binary;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Records;

/// <summary>
/// Builds one magic-2 record batch: add records, then <see cref="Build"/> writes header, (compressed)
/// records and CRC32C. Records are encoded straight into a pooled buffer as they are added.
/// Reusable after <see cref="Reset"/>.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    private readonly PooledBufferWriter _records = new(1024);
    private readonly PooledBufferWriter _compressed = new(1024);
    private int _count;
    private long _baseTimestamp = -1;
    private long _maxTimestamp = -1;
    private int _lastOffsetDelta = -1;

    public CompressionType Compression { get; set; }

    public long ProducerId { get; set; } = -1;

    public short ProducerEpoch { get; set; } = -1;

    public int BaseSequence { get; set; } = -1;

    public bool IsTransactional { get; set; }

    public bool IsControl { get; set; }

    public int Count => _count;

    /// <summary>Bytes of records so far, before compression: what batch.size is measured against.</summary>
    public int EstimatedSize => RecordBatchHeader.Size + _records.WrittenCount;

    public void Add(long timestamp, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, IReadOnlyList<(string Key, byte[]? Value)>? headers = null) =>
        AddAt(_lastOffsetDelta + 1, timestamp, key, keyIsNull, value, valueIsNull, headers);

    /// <summary>
    /// Adds a record at a chosen offset delta (increasing, gaps allowed): how compaction rewrites a
    /// batch keeping its surviving records at their original offsets.
    /// </summary>
    public void AddAt(int offsetDelta, long timestamp, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, IReadOnlyList<(string Key, byte[]? Value)>? headers = null)
    {
        if (offsetDelta <= _lastOffsetDelta)
            throw new ArgumentOutOfRangeException(nameof(offsetDelta), $"Offset delta {offsetDelta} must be above the last one ({_lastOffsetDelta}).");
        if (_count == 0)
            _baseTimestamp = timestamp;
        long timestampDelta = timestamp - _baseTimestamp;
        int headerBytes = 0;
        if (headers is not null)
        {
            foreach (var (k, v) in headers)
            {
                int kl = System.Text.Encoding.UTF8.GetByteCount(k);
                headerBytes += Varint.SizeOf(kl) + kl + (v is null ? Varint.SizeOf(-1) : Varint.SizeOf(v.Length) + v.Length);
            }
        }
        int bodyLength = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(offsetDelta)
            + (keyIsNull ? Varint.SizeOf(-1) : Varint.SizeOf(key.Length) + key.Length)
            + (valueIsNull ? Varint.SizeOf(-1) : Varint.SizeOf(value.Length) + value.Length)
            + Varint.SizeOf(headers?.Count ?? 0) + headerBytes;
        var w = new ProtocolWriter(_records);
        w.WriteVarint(bodyLength);
        w.WriteInt8(0);
        w.WriteVarlong(timestampDelta);
        w.WriteVarint(offsetDelta);
        WriteField(w, key, keyIsNull);
        WriteField(w, value, valueIsNull);
        w.WriteVarint(headers?.Count ?? 0);
        if (headers is not null)
        {
            foreach (var (k, v) in headers)
            {
                var kb = System.Text.Encoding.UTF8.GetBytes(k);
                WriteField(w, kb, false);
                WriteField(w, v, v is null);
            }
        }
        _count++;
        _lastOffsetDelta = offsetDelta;
        _maxTimestamp = Math.Max(_maxTimestamp, timestamp);
    }

    private static void WriteField(ProtocolWriter w, ReadOnlySpan<byte> bytes, bool isNull)
    {
        if (isNull)
        {
            w.WriteVarint(-1);
            return;
        }
        w.WriteVarint(bytes.Length);
        w.WriteRaw(bytes);
    }

    /// <summary>
    /// Raises the batch's last offset delta above its last record's (compaction keeps a batch's
    /// original offset range, so the next batch still follows on, as Kafka's cleaner does).
    /// </summary>
    public void ExtendLastOffsetDelta(int lastOffsetDelta) => _lastOffsetDelta = Math.Max(_lastOffsetDelta, lastOffsetDelta);

    /// <summary>Appends the finished batch (base offset 0; the broker assigns offsets) to <paramref name="output"/>.</summary>
    public void Build(PooledBufferWriter output)
    {
        if (_count == 0)
            throw new InvalidOperationException("A record batch needs at least one record.");
        ReadOnlySpan<byte> records = _records.WrittenSpan;
        if (Compression != CompressionType.None)
        {
            _compressed.Clear();
            Codecs.Compress(Compression, records, _compressed);
            records = _compressed.WrittenSpan;
        }
        int total = RecordBatchHeader.Size + records.Length;
        var span = output.GetSpan(total)[..total];
        span.Clear();
        BinaryPrimitives.WriteInt64BigEndian(span, 0);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.LengthOffset..], total - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.PartitionLeaderEpochOffset..], -1);
        span[RecordBatchHeader.MagicOffset] = RecordBatchHeader.CurrentMagic;
        short attributes = (short)((int)Compression | (IsTransactional ? 0x10 : 0) | (IsControl ? 0x20 : 0));
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.LastOffsetDeltaOffset..], _lastOffsetDelta);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.BaseTimestampOffset..], _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.MaxTimestampOffset..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatchHeader.ProducerIdOffset..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatchHeader.ProducerEpochOffset..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.BaseSequenceOffset..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatchHeader.RecordCountOffset..], _count);
        records.CopyTo(span[RecordBatchHeader.Size..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[RecordBatchHeader.CrcOffset..], RecordBatchHeader.ComputeCrc(span));
        output.Advance(total);
    }

    public void Reset()
    {
        _records.Clear();
        _count = 0;
        _baseTimestamp = -1;
        _maxTimestamp = -1;
        _lastOffsetDelta = -1;
    }

    public void Dispose()
    {
        _records.Dispose();
        _compressed.Dispose();
    }
}
