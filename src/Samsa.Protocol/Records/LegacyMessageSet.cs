using System.Buffers.Binary;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Records;

/// <summary>
/// Message sets of magic 0 and 1 (Produce v0-2, Kafka before 0.11), turned into one magic-2 record
/// batch as Kafka 3.x's LogValidator up-converts them. Each message: offset (8), size (4), CRC-32
/// (4), magic (1), attributes (1; the codec in the low 3 bits, bit 3 LogAppendTime on magic 1),
/// timestamp (8, magic 1 only), key and value as int32-length bytes (-1 = null). A compressed
/// message is a wrapper whose value is a compressed message set; its inner messages take the
/// wrapper's timestamp when the wrapper says LogAppendTime. Magic 0 has no timestamps (-1).
/// </summary>
public static class LegacyMessageSet
{
    private const int OffsetAndSize = 12;
    private const int MinMessage = 4 + 1 + 1 + 4 + 4; // CRC, magic, attributes, key and value lengths

    /// <summary>True when the records field starts with a magic 0 or 1 message.</summary>
    public static bool IsLegacy(ReadOnlySpan<byte> records) =>
        records.Length > RecordBatchHeader.MagicOffset && records[RecordBatchHeader.MagicOffset] < RecordBatchHeader.CurrentMagic;

    /// <summary>
    /// Writes one uncompressed magic-2 batch (base offset 0) with every message of
    /// <paramref name="messageSet"/>, in order. Throws ProtocolException for a truncated message, a
    /// CRC that does not match, nested compression or more than <paramref name="maxBytes"/> decompressed.
    /// </summary>
    public static void ToRecordBatch(ReadOnlySpan<byte> messageSet, PooledBufferWriter output, int maxBytes)
    {
        using var builder = new RecordBatchBuilder();
        Walk(messageSet, builder, maxBytes, inner: false, wrapperLogAppendTime: -1);
        if (builder.Count == 0)
            throw new ProtocolException("The message set holds no message.");
        builder.Build(output);
    }

    private static void Walk(ReadOnlySpan<byte> set, RecordBatchBuilder builder, int maxBytes, bool inner, long wrapperLogAppendTime)
    {
        while (set.Length > 0)
        {
            if (set.Length < OffsetAndSize)
                throw new ProtocolException("Truncated message set.");
            int size = BinaryPrimitives.ReadInt32BigEndian(set[8..]);
            if (size < MinMessage || size > set.Length - OffsetAndSize)
                throw new ProtocolException($"Message size {size} does not fit the {set.Length - OffsetAndSize} bytes sent.");
            var message = set.Slice(OffsetAndSize, size);
            set = set[(OffsetAndSize + size)..];

            uint crc = BinaryPrimitives.ReadUInt32BigEndian(message);
            if (Crc32.Compute(message[4..]) != crc)
                throw new ProtocolException("Message CRC does not match its contents.");
            byte magic = message[4];
            byte attributes = message[5];
            if (magic > 1)
                throw new ProtocolException($"Message magic {magic} inside a magic 0/1 message set.");
            var rest = message[6..];
            long timestamp = -1;
            if (magic == 1)
            {
                if (rest.Length < 8 + 8)
                    throw new ProtocolException("Truncated magic 1 message.");
                timestamp = BinaryPrimitives.ReadInt64BigEndian(rest);
                rest = rest[8..];
            }
            var key = ReadBytes(ref rest, out bool keyIsNull);
            var value = ReadBytes(ref rest, out bool valueIsNull);
            var codec = (CompressionType)(attributes & 0x07);
            if (codec == CompressionType.None)
            {
                builder.Add(wrapperLogAppendTime >= 0 ? wrapperLogAppendTime : timestamp, key, keyIsNull, value, valueIsNull);
                continue;
            }
            if (inner)
                throw new ProtocolException("A compressed message inside a compressed message.");
            if (valueIsNull)
                throw new ProtocolException("A compressed message without a value.");
            // Decompressed into a buffer of its own: the inner messages are views into it until added.
            using var decompressed = new PooledBufferWriter();
            Codecs.Decompress(codec, value, decompressed, maxBytes);
            bool logAppendTime = magic == 1 && (attributes & 0x08) != 0;
            Walk(decompressed.WrittenSpan, builder, maxBytes, inner: true, logAppendTime ? timestamp : -1);
        }
    }

    private static ReadOnlySpan<byte> ReadBytes(ref ReadOnlySpan<byte> rest, out bool isNull)
    {
        if (rest.Length < 4)
            throw new ProtocolException("Truncated message.");
        int length = BinaryPrimitives.ReadInt32BigEndian(rest);
        rest = rest[4..];
        isNull = length < 0;
        if (isNull)
            return default;
        if (length > rest.Length)
            throw new ProtocolException($"Message field of {length} bytes does not fit the {rest.Length} left.");
        var bytes = rest[..length];
        rest = rest[length..];
        return bytes;
    }
}

/// <summary>CRC-32 (IEEE 802.3, reflected 0xEDB88320), the checksum of magic 0/1 messages.</summary>
public static class Crc32
{
    private static readonly uint[] Table = Build();

    private static uint[] Build()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
