using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Benchmarks;

internal static class BenchmarkData
{
    /// <summary>One uncompressed batch of 1 KiB records (random values) filling about 16 KiB.</summary>
    public static byte[] SixteenKiBBatchOfOneKiBRecords()
    {
        using var builder = new RecordBatchBuilder();
        var value = new byte[1000];
        new Random(1).NextBytes(value);
        while (builder.EstimatedSize < 16 * 1024 - 1100)
            builder.Add(0, value.AsSpan(0, 8), false, value, false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }
}
