using Samsa.Client.Consumer;
using Samsa.Client.Internal.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Client.Serialization;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Client.Tests.Consumer;

/// <summary>The consumer's hot path allocates what it hands out (the result and the value) and nothing per record besides.</summary>
public class PartitionRecordsAllocationTests
{
    private static ResponseBuffer Batches(int batches, int perBatch, int valueSize)
    {
        using var output = new PooledBufferWriter();
        using var builder = new RecordBatchBuilder();
        var value = new byte[valueSize];
        long offset = 0;
        for (int b = 0; b < batches; b++)
        {
            builder.Reset();
            for (int i = 0; i < perBatch; i++)
                builder.Add(1_700_000_000_000, default, keyIsNull: true, value, valueIsNull: false);
            int start = output.WrittenCount;
            builder.Build(output);
            RecordBatchHeader.SetBaseOffset(output.WrittenSpanForUpdate[start..], offset);
            offset += perBatch;
        }
        var frame = new ResponseBuffer(output.WrittenCount);
        output.WrittenSpan.CopyTo(frame.Memory.Span);
        return frame;
    }

    private static long Drain<TKey, TValue>(ResponseBuffer frame, IDeserializer<TKey> keys, IDeserializer<TValue> values, int expected)
    {
        var output = new List<ConsumeResult<TKey, TValue>>(expected);
        using var records = new PartitionRecords("t", 0, 0, frame.Memory, frame.AddReference(), checkCrcs: true, readCommitted: false, aborted: null);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int n = records.Drain(0, output, expected, keys, values);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(expected, n);
        return allocated / n;
    }

    [Fact]
    public void Draining_records_allocates_only_the_results_and_their_values()
    {
        var frame = Batches(batches: 20, perBatch: 100, valueSize: 100);
        Drain(frame, Deserializers.Ignore, Deserializers.ByteArray, 2000); // warm up (JIT, first-use statics)

        long withIgnore = Drain(frame, Deserializers.Ignore, Deserializers.Ignore, 2000);
        long withBytes = Drain(frame, Deserializers.Ignore, Deserializers.ByteArray, 2000);
        // A ConsumeResult is about 100 bytes; the byte[] of a 100-byte value about 124.
        Assert.True(withIgnore <= 112, $"{withIgnore} bytes per record with nothing deserialized");
        Assert.True(withBytes - withIgnore <= 128, $"{withBytes - withIgnore} bytes per record for a 100-byte value");
    }
}
