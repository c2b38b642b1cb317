using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Tests.Messages;

namespace Samsa.Protocol.Tests.Primitives;

/// <summary>Byte-exact encodings worked out by hand from the protocol guide.</summary>
public class WireVectorTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(63, new byte[] { 0x7E })]
    [InlineData(-64, new byte[] { 0x7F })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(int.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(int.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void Zigzag_varints(int value, byte[] expected)
    {
        var buffer = new byte[5];
        int n = Varint.Write(buffer, value);
        Assert.Equal(expected, buffer[..n]);
        Assert.Equal(expected.Length, Varint.SizeOf(value));
        Assert.Equal(n, Varint.TryRead(expected, out int back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void Varlong_extremes_round_trip()
    {
        foreach (long v in new[] { long.MinValue, long.MaxValue, 0L, -1L, 1L << 40 })
        {
            var buffer = new byte[10];
            int n = Varint.Write(buffer, v);
            Assert.Equal(Varint.SizeOf(v), n);
            Assert.Equal(n, Varint.TryRead(buffer.AsSpan(0, n), out long back));
            Assert.Equal(v, back);
        }
    }

    [Fact]
    public void Overlong_and_truncated_varints_are_reported()
    {
        Assert.Equal(0, Varint.TryReadUnsigned(new byte[] { 0x80, 0x80 }, out uint _));
        Assert.Equal(-1, Varint.TryReadUnsigned(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, out uint _));
    }

    [Fact]
    public void Heartbeat_v0_uses_int16_strings()
    {
        var message = new HeartbeatRequest { GroupId = "g", GenerationId = 3, MemberId = "m" };
        Assert.Equal(new byte[] { 0, 1, (byte)'g', 0, 0, 0, 3, 0, 1, (byte)'m' }, MessageCatalog.Encode(message, 0));
    }

    [Fact]
    public void Heartbeat_v4_uses_compact_strings_null_instance_id_and_an_empty_tag_section()
    {
        var message = new HeartbeatRequest { GroupId = "g", GenerationId = 3, MemberId = "m", GroupInstanceId = null };
        Assert.Equal(new byte[] { 2, (byte)'g', 0, 0, 0, 3, 2, (byte)'m', 0, 0 }, MessageCatalog.Encode(message, 4));
    }

    [Fact]
    public void Nullable_string_and_array_lengths()
    {
        using var buffer = new PooledBufferWriter();
        var writer = new ProtocolWriter(buffer);
        writer.WriteNullableString(null, compact: false);
        writer.WriteNullArray(compact: false);
        writer.WriteNullArray(compact: true);
        writer.WriteArrayLength(2, compact: true);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x03 }, buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_length_longer_than_the_buffer_is_refused_before_allocating()
    {
        var ex = Assert.Throws<ProtocolException>(() =>
        {
            var reader = new ProtocolReader(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, 1, 2 });
            reader.ReadArrayLength(compact: false);
        });
        Assert.Contains("exceeds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Uuids_are_big_endian_most_significant_first()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        using var buffer = new PooledBufferWriter();
        var writer = new ProtocolWriter(buffer);
        writer.WriteUuid(id);
        Assert.Equal(Convert.FromHexString("00112233445566778899AABBCCDDEEFF"), buffer.WrittenSpan.ToArray());
    }
}
