using System.Numerics;

namespace Samsa.Protocol.Primitives;

/// <summary>
/// Kafka's variable-length integers: unsigned LEB128 for compact lengths and tagged fields,
/// zig-zag on top of it for record fields. Shared by message primitives and record batches.
/// Readers return the number of bytes consumed, or 0 when the span ends before the value
/// does, so callers can ask for more data instead of catching.
/// </summary>
public static class Varint
{
    public const int MaxVarintBytes = 5;
    public const int MaxVarlongBytes = 10;

    public static int SizeOfUnsigned(uint value) => (31 - BitOperations.LeadingZeroCount(value | 1)) / 7 + 1;

    public static int SizeOfUnsigned(ulong value) => (63 - BitOperations.LeadingZeroCount(value | 1)) / 7 + 1;

    public static int SizeOf(int value) => SizeOfUnsigned(ZigZag(value));

    public static int SizeOf(long value) => SizeOfUnsigned(ZigZag(value));

    public static uint ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    public static int UnZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);

    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>Writes an unsigned varint; the span must hold <see cref="SizeOfUnsigned(uint)"/> bytes.</summary>
    public static int WriteUnsigned(Span<byte> destination, uint value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static int WriteUnsigned(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static int Write(Span<byte> destination, int value) => WriteUnsigned(destination, ZigZag(value));

    public static int Write(Span<byte> destination, long value) => WriteUnsigned(destination, ZigZag(value));

    /// <summary>
    /// Reads an unsigned varint of at most 5 bytes. Returns bytes consumed, 0 when the span is
    /// too short, or -1 when the encoding is longer than 5 bytes (malformed).
    /// </summary>
    public static int TryReadUnsigned(ReadOnlySpan<byte> source, out uint value)
    {
        uint result = 0;
        for (int i = 0; i < MaxVarintBytes; i++)
        {
            if (i >= source.Length)
            {
                value = 0;
                return 0;
            }
            uint b = source[i];
            result |= (b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                value = result;
                return i + 1;
            }
        }
        value = 0;
        return -1;
    }

    /// <summary>As <see cref="TryReadUnsigned(ReadOnlySpan{byte}, out uint)"/>, up to 10 bytes.</summary>
    public static int TryReadUnsigned(ReadOnlySpan<byte> source, out ulong value)
    {
        ulong result = 0;
        for (int i = 0; i < MaxVarlongBytes; i++)
        {
            if (i >= source.Length)
            {
                value = 0;
                return 0;
            }
            ulong b = source[i];
            result |= (b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                value = result;
                return i + 1;
            }
        }
        value = 0;
        return -1;
    }

    public static int TryRead(ReadOnlySpan<byte> source, out int value)
    {
        int n = TryReadUnsigned(source, out uint raw);
        value = n > 0 ? UnZigZag(raw) : 0;
        return n;
    }

    public static int TryRead(ReadOnlySpan<byte> source, out long value)
    {
        int n = TryReadUnsigned(source, out ulong raw);
        value = n > 0 ? UnZigZag(raw) : 0;
        return n;
    }
}
