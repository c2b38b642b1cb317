using System.Buffers.Binary;
using System.Numerics;

namespace Samsa.Protocol;

/// <summary>CRC-32C (Castagnoli), the checksum of record batches (magic 2).</summary>
/// <remarks>BitOperations.Crc32C uses SSE4.2/ARM CRC instructions where present, so no package is needed.</remarks>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>Continues a running CRC; start with <c>~0u</c> and finish with <c>~crc</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}
