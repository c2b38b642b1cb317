using System.Buffers.Binary;

namespace Samsa.Protocol.Records;

/// <summary>
/// The fixed 61-byte header of a record batch (magic 2), read in place. Storage uses it to walk,
/// validate and rebase batches without touching the records inside.
/// </summary>
public readonly struct RecordBatchHeader
{
    // Byte offsets inside a batch, from Kafka's DefaultRecordBatch layout.
    public const int BaseOffsetOffset = 0;
    public const int LengthOffset = 8;
    public const int PartitionLeaderEpochOffset = 12;
    public const int MagicOffset = 16;
    public const int CrcOffset = 17;
    public const int AttributesOffset = 21;
    public const int LastOffsetDeltaOffset = 23;
    public const int BaseTimestampOffset = 27;
    public const int MaxTimestampOffset = 35;
    public const int ProducerIdOffset = 43;
    public const int ProducerEpochOffset = 51;
    public const int BaseSequenceOffset = 53;
    public const int RecordCountOffset = 57;

    /// <summary>Size of the header, up to the first record.</summary>
    public const int Size = 61;

    /// <summary>baseOffset + batchLength: the bytes not counted by batchLength.</summary>
    public const int LogOverhead = 12;

    public const byte CurrentMagic = 2;

    public long BaseOffset { get; init; }
    public int BatchLength { get; init; }
    public int PartitionLeaderEpoch { get; init; }
    public byte Magic { get; init; }
    public uint Crc { get; init; }
    public short Attributes { get; init; }
    public int LastOffsetDelta { get; init; }
    public long BaseTimestamp { get; init; }
    public long MaxTimestamp { get; init; }
    public long ProducerId { get; init; }
    public short ProducerEpoch { get; init; }
    public int BaseSequence { get; init; }
    public int RecordCount { get; init; }

    /// <summary>Total size of the batch on the wire and on disk.</summary>
    public int TotalSize => BatchLength + LogOverhead;

    public long LastOffset => BaseOffset + LastOffsetDelta;

    public CompressionType Compression => (CompressionType)(Attributes & 0x07);
    public TimestampType TimestampType => (Attributes & 0x08) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool IsControl => (Attributes & 0x20) != 0;

    /// <summary>Reads the header; the span must hold at least <see cref="Size"/> bytes. Does not validate.</summary>
    public static RecordBatchHeader Read(ReadOnlySpan<byte> batch) => new()
    {
        BaseOffset = BinaryPrimitives.ReadInt64BigEndian(batch),
        BatchLength = BinaryPrimitives.ReadInt32BigEndian(batch[LengthOffset..]),
        PartitionLeaderEpoch = BinaryPrimitives.ReadInt32BigEndian(batch[PartitionLeaderEpochOffset..]),
        Magic = batch[MagicOffset],
        Crc = BinaryPrimitives.ReadUInt32BigEndian(batch[CrcOffset..]),
        Attributes = BinaryPrimitives.ReadInt16BigEndian(batch[AttributesOffset..]),
        LastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(batch[LastOffsetDeltaOffset..]),
        BaseTimestamp = BinaryPrimitives.ReadInt64BigEndian(batch[BaseTimestampOffset..]),
        MaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(batch[MaxTimestampOffset..]),
        ProducerId = BinaryPrimitives.ReadInt64BigEndian(batch[ProducerIdOffset..]),
        ProducerEpoch = BinaryPrimitives.ReadInt16BigEndian(batch[ProducerEpochOffset..]),
        BaseSequence = BinaryPrimitives.ReadInt32BigEndian(batch[BaseSequenceOffset..]),
        RecordCount = BinaryPrimitives.ReadInt32BigEndian(batch[RecordCountOffset..]),
    };

    /// <summary>CRC32C over attributes..end, the range the batch's crc field covers.</summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> batch) => Crc32C.Compute(batch[AttributesOffset..]);

    /// <summary>
    /// Rewrites baseOffset in place. The CRC does not cover baseOffset, so records and CRC stay as they are:
    /// this is how the broker assigns offsets without re-encoding.
    /// </summary>
    public static void SetBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);

    /// <summary>
    /// Stamps the batch with the broker's clock (topics with message.timestamp.type=LogAppendTime):
    /// sets the timestamp-type bit and max timestamp, then recomputes the CRC, since both lie inside
    /// the range it covers. Records keep their deltas; readers use max timestamp for every record.
    /// </summary>
    public static void SetLogAppendTime(Span<byte> batch, long timestamp)
    {
        short attributes = BinaryPrimitives.ReadInt16BigEndian(batch[AttributesOffset..]);
        BinaryPrimitives.WriteInt16BigEndian(batch[AttributesOffset..], (short)(attributes | 0x08));
        BinaryPrimitives.WriteInt64BigEndian(batch[MaxTimestampOffset..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcOffset..], ComputeCrc(batch));
    }

    /// <summary>Sets partitionLeaderEpoch in place (also outside the CRC).</summary>
    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochOffset..], epoch);
}

public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

public enum TimestampType : byte
{
    CreateTime = 0,
    LogAppendTime = 1,
}
