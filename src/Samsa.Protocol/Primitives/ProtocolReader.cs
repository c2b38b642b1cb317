using System.Buffers.Binary;
using System.Text;

namespace Samsa.Protocol.Primitives;

/// <summary>
/// Reads Kafka primitives from one whole frame. It never trusts a length: every length is checked
/// against the bytes that remain before anything is allocated, and every failure is a
/// <see cref="ProtocolException"/>. <c>records</c> fields come back as slices of the frame (no
/// copy), so they are valid only while the frame's buffer is.
/// </summary>
public ref struct ProtocolReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private int _position;

    public ProtocolReader(ReadOnlyMemory<byte> memory)
    {
        _memory = memory;
        _span = memory.Span;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _span.Length - _position;

    public readonly bool End => _position >= _span.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)Remaining)
            throw Truncated(count);
        var slice = _span.Slice(_position, count);
        _position += count;
        return slice;
    }

    private readonly ProtocolException Truncated(int needed) =>
        new($"Truncated message: needed {needed} byte(s) at offset {_position}, {Remaining} left.");

    public bool ReadBool() => Take(1)[0] != 0;

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public uint ReadUnsignedVarint()
    {
        int n = Varint.TryReadUnsigned(_span[_position..], out uint value);
        if (n == 0)
            throw Truncated(1);
        if (n < 0)
            throw new ProtocolException($"Malformed varint at offset {_position}: longer than 5 bytes.");
        _position += n;
        return value;
    }

    public int ReadVarint() => Varint.UnZigZag(ReadUnsignedVarint());

    public long ReadVarlong()
    {
        int n = Varint.TryReadUnsigned(_span[_position..], out ulong value);
        if (n == 0)
            throw Truncated(1);
        if (n < 0)
            throw new ProtocolException($"Malformed varlong at offset {_position}: longer than 10 bytes.");
        _position += n;
        return Varint.UnZigZag(value);
    }

    /// <summary>A length prefix: int16 (strings) or int32 (bytes/arrays), or compact (unsigned varint, +1).
    /// Returns -1 for null. Never returns a length larger than the bytes left.</summary>
    private int ReadLength(bool compact, bool int16, string what)
    {
        int length;
        if (compact)
        {
            uint raw = ReadUnsignedVarint();
            if (raw > int.MaxValue)
                throw new ProtocolException($"Invalid {what} length {raw} at offset {_position}.");
            length = (int)raw - 1;
        }
        else
        {
            length = int16 ? ReadInt16() : ReadInt32();
        }

        if (length < -1)
            throw new ProtocolException($"Invalid {what} length {length} at offset {_position}.");
        if (length > Remaining)
            throw new ProtocolException($"{what} length {length} at offset {_position} exceeds the {Remaining} byte(s) left.");
        return length;
    }

    /// <summary>
    /// A non-nullable string. A null on the wire reads as empty rather than failing: librdkafka's
    /// mock cluster (and some brokers) send null hosts and messages in error responses, and the
    /// field's meaning is the same.
    /// </summary>
    public string ReadString(bool compact) => ReadNullableString(compact) ?? string.Empty;

    public string? ReadNullableString(bool compact)
    {
        int length = ReadLength(compact, int16: true, "string");
        if (length < 0)
            return null;
        try
        {
            return Encoding.UTF8.GetString(Take(length));
        }
        catch (DecoderFallbackException e)
        {
            throw new ProtocolException($"Invalid UTF-8 in string ending at offset {_position}.", e);
        }
    }

    /// <summary>Non-nullable bytes; a null reads as empty for the same reason as <see cref="ReadString"/>
    /// (the mock cluster's SyncGroup error responses carry a null assignment).</summary>
    public byte[] ReadBytes(bool compact) => ReadNullableBytes(compact) ?? [];

    public byte[]? ReadNullableBytes(bool compact)
    {
        int length = ReadLength(compact, int16: false, "bytes");
        return length < 0 ? null : Take(length).ToArray();
    }

    /// <summary>A <c>records</c> field, as a slice of the frame.</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool compact)
    {
        int length = ReadLength(compact, int16: false, "records");
        if (length < 0)
            return null;
        var slice = _memory.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>An array's element count, -1 for a null array. A count larger than the bytes left is
    /// refused here, before a collection of that size is allocated (each element takes a byte or more).</summary>
    public int ReadArrayLength(bool compact) => ReadLength(compact, int16: false, "array");

    /// <summary>Marker of a nullable struct: -1 null, 1 present.</summary>
    public bool ReadStructPresent()
    {
        sbyte marker = ReadInt8();
        return marker switch
        {
            -1 => false,
            1 => true,
            _ => throw new ProtocolException($"Invalid struct presence marker {marker} at offset {_position - 1}."),
        };
    }

    /// <summary>
    /// Marker of a nullable struct inside a tagged field: an unsigned varint, 0 null. Kafka writes
    /// only 0 and 1; anything else is taken as present rather than refused, so a writer's quirk
    /// there does not make the whole record unreadable.
    /// </summary>
    public bool ReadTaggedStructPresent() => ReadUnsignedVarint() != 0;

    /// <summary>Takes the next <paramref name="size"/> bytes as a reader of their own (a tagged field's value).</summary>
    public ProtocolReader ReadSubReader(int size)
    {
        if ((uint)size > (uint)Remaining)
            throw new ProtocolException($"Tagged field size {size} at offset {_position} exceeds the {Remaining} byte(s) left.");
        var sub = new ProtocolReader(_memory.Slice(_position, size));
        _position += size;
        return sub;
    }

    public int ReadTaggedFieldSize()
    {
        uint size = ReadUnsignedVarint();
        if (size > (uint)Remaining)
            throw new ProtocolException($"Tagged field size {size} at offset {_position} exceeds the {Remaining} byte(s) left.");
        return (int)size;
    }

    /// <summary>The bytes not yet read, without consuming them.</summary>
    public readonly ReadOnlySpan<byte> PeekRemaining() => _span[_position..];

    public byte[] ReadRemaining() => Take(Remaining).ToArray();

    public void Skip(int count) => Take(count);
}
