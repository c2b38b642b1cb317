using BenchmarkDotNet.Attributes;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Benchmarks;

/// <summary>
/// The broker's side of a 1 MiB fetch (8 partitions × 128 KiB of record batches, fetch v12):
/// encoding the response frame by copying the record sets in, as before, against referencing them
/// and handing the socket a list of pieces (what the broker does now).
/// </summary>
[MemoryDiagnoser]
public class FetchResponseBenchmarks
{
    private FetchResponse _response = null!;
    private readonly List<ArraySegment<byte>> _segments = [];

    [GlobalSetup]
    public void Setup()
    {
        var topic = new FetchResponse.FetchableTopicResponse { Topic = "t" };
        var records = new byte[128 * 1024];
        new Random(3).NextBytes(records);
        for (int p = 0; p < 8; p++)
            topic.Partitions.Add(new FetchResponse.PartitionData { PartitionIndex = p, HighWatermark = 1000, Records = records, AbortedTransactions = null });
        _response = new FetchResponse();
        _response.Responses.Add(topic);
    }

    [Benchmark(Baseline = true)]
    public int CopyRecordsIntoFrame()
    {
        using var output = new PooledBufferWriter(512);
        KafkaFrame.WriteResponse(output, _response, 12, 1);
        return output.WrittenMemory.Length;
    }

    [Benchmark]
    public int ReferenceRecordsInFrame()
    {
        using var output = new PooledBufferWriter(512) { ReferenceThreshold = 4096 };
        KafkaFrame.WriteResponse(output, _response, 12, 1);
        output.GetSegments(_segments);
        return _segments.Count;
    }
}
