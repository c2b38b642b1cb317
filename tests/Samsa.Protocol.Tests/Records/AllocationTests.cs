using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Protocol.Tests.Records;

/// <summary>Allocation gates for the hot paths (speed is measured by benchmarks, not tests).</summary>
public class AllocationTests
{
    [Fact]
    public void Decoding_an_uncompressed_batch_allocates_nothing_per_record()
    {
        using var builder = new RecordBatchBuilder();
        var value = new byte[100];
        for (int i = 0; i < 1000; i++)
            builder.Add(i, value.AsSpan(0, 8), false, value, false, [("h", [1])]);
        using var output = new PooledBufferWriter(200_000);
        builder.Build(output);
        byte[] batchBytes = output.WrittenSpan.ToArray();

        long Walk()
        {
            ReadOnlyMemory<byte> buffer = batchBytes;
            long sum = 0;
            while (RecordBatch.TryReadNext(ref buffer, out var batch))
            {
                foreach (var record in batch.GetRecords())
                {
                    sum += record.Value!.Value.Length;
                    foreach (var header in record.GetHeaders())
                        sum += header.Key.Length;
                }
            }
            return sum;
        }

        Walk(); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = Walk();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000 * 101, total);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Encoding_into_a_reused_builder_allocates_nothing_per_record()
    {
        using var builder = new RecordBatchBuilder();
        using var output = new PooledBufferWriter(200_000);
        var value = new byte[100];
        void Encode()
        {
            builder.Reset();
            output.Clear();
            for (int i = 0; i < 1000; i++)
                builder.Add(i, value.AsSpan(0, 8), false, value, false);
            builder.Build(output);
        }

        Encode();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Encode();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
