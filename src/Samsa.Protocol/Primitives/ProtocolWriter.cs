using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Samsa.Protocol.Primitives;

/// <summary>
/// Writes Kafka primitives into an <see cref="IBufferWriter{T}"/>. Generated messages pass a
/// <c>compact</c> flag (flexible versions) instead of choosing between method pairs.
/// Null written where a version cannot carry null goes out as empty, like an absent value.
/// </summary>
public readonly ref struct ProtocolWriter
{
    private readonly IBufferWriter<byte> _output;

    public ProtocolWriter(IBufferWriter<byte> output) => _output = output;

    public IBufferWriter<byte> Output => _output;

    public void WriteBool(bool value) => WriteInt8(value ? (sbyte)1 : (sbyte)0);

    public void WriteInt8(sbyte value)
    {
        _output.GetSpan(1)[0] = (byte)value;
        _output.Advance(1);
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_output.GetSpan(2), value);
        _output.Advance(2);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_output.GetSpan(2), value);
        _output.Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_output.GetSpan(4), value);
        _output.Advance(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_output.GetSpan(4), value);
        _output.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_output.GetSpan(8), value);
        _output.Advance(8);
    }

    public void WriteFloat64(double value)
    {
        BinaryPrimitives.WriteDoubleBigEndian(_output.GetSpan(8), value);
        _output.Advance(8);
    }

    public void WriteUuid(Guid value)
    {
        value.TryWriteBytes(_output.GetSpan(16), bigEndian: true, out _);
        _output.Advance(16);
    }

    public void WriteUnsignedVarint(uint value)
    {
        int n = Varint.WriteUnsigned(_output.GetSpan(Varint.MaxVarintBytes), value);
        _output.Advance(n);
    }

    public void WriteVarint(int value) => WriteUnsignedVarint(Varint.ZigZag(value));

    public void WriteVarlong(long value)
    {
        int n = Varint.Write(_output.GetSpan(Varint.MaxVarlongBytes), value);
        _output.Advance(n);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        bytes.CopyTo(_output.GetSpan(bytes.Length));
        _output.Advance(bytes.Length);
    }

    private void WriteLength(int length, bool compact, bool int16)
    {
        if (compact)
            WriteUnsignedVarint((uint)(length + 1));
        else if (int16)
            WriteInt16((short)length);
        else
            WriteInt32(length);
    }

    public void WriteString(string? value, bool compact) => WriteNullableString(value ?? string.Empty, compact);

    public void WriteNullableString(string? value, bool compact)
    {
        if (value is null)
        {
            WriteLength(-1, compact, int16: true);
            return;
        }

        int byteCount = Encoding.UTF8.GetByteCount(value);
        if (byteCount > short.MaxValue)
            throw new ProtocolException($"String of {byteCount} UTF-8 bytes is longer than Kafka's limit of {short.MaxValue}.");
        WriteLength(byteCount, compact, int16: true);
        int written = Encoding.UTF8.GetBytes(value, _output.GetSpan(byteCount));
        _output.Advance(written);
    }

    public void WriteBytes(ReadOnlySpan<byte> value, bool compact)
    {
        WriteLength(value.Length, compact, int16: false);
        WriteRaw(value);
    }

    public void WriteNullableBytes(byte[]? value, bool compact)
    {
        if (value is null)
            WriteLength(-1, compact, int16: false);
        else
            WriteBytes(value, compact);
    }

    public void WriteRecords(ReadOnlyMemory<byte>? value, bool compact)
    {
        if (value is null)
        {
            WriteLength(-1, compact, int16: false);
            return;
        }
        WriteLength(value.Value.Length, compact, int16: false);
        // A fetch response's record sets are the bulk of it: a writer that allows it sends them from where they are.
        if (_output is PooledBufferWriter pooled && value.Value.Length >= pooled.ReferenceThreshold && pooled.TryReference(value.Value))
            return;
        WriteRaw(value.Value.Span);
    }

    public void WriteArrayLength(int count, bool compact) => WriteLength(count, compact, int16: false);

    public void WriteNullArray(bool compact) => WriteLength(-1, compact, int16: false);

    public void WriteStructPresent(bool present) => WriteInt8(present ? (sbyte)1 : (sbyte)-1);

    /// <summary>
    /// Presence marker of a nullable struct inside a tagged field. Kafka's generated code writes an
    /// unsigned varint there (0 null, 1 present), not the int8 -1/1 of an untagged struct.
    /// </summary>
    public void WriteTaggedStructPresent(bool present) => WriteUnsignedVarint(present ? 1u : 0u);

    public void WriteTaggedField(int tag, ReadOnlySpan<byte> value)
    {
        WriteUnsignedVarint((uint)tag);
        WriteUnsignedVarint((uint)value.Length);
        WriteRaw(value);
    }
}
