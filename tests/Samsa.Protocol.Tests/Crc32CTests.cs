using System.Text;

namespace Samsa.Protocol.Tests;

public class Crc32CTests
{
    [Fact]
    public void Check_value_matches_the_crc32c_catalogue() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void Appending_in_pieces_equals_one_pass()
    {
        var data = Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog, twice over.");
        var crc = ~0u;
        crc = Crc32C.Append(crc, data.AsSpan(0, 13));
        crc = Crc32C.Append(crc, data.AsSpan(13));
        Assert.Equal(Crc32C.Compute(data), ~crc);
    }
}
