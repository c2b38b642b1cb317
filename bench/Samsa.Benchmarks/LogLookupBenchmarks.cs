using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Benchmarks;

/// <summary>
/// The worst case of sparse indexes: 200,000 one-record batches of 100 B (about 170 B each, so an
/// index entry every 24 batches at the default index.interval.bytes) in 4 MiB segments, read at
/// random offsets (the batch holding the offset alone) and looked up at random timestamps. Each
/// lookup reads the headers between the nearest index entry and the batch.
/// </summary>
[MemoryDiagnoser]
public class LogLookupBenchmarks
{
    private const int Batches = 200_000;
    private const int Lookups = 1_000;
    private string _dir = "";
    private PartitionLog _log = null!;
    private long[] _offsets = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "samsa-lookup-" + Guid.NewGuid().ToString("N"));
        _log = PartitionLog.Open(_dir, new LogConfig { SegmentBytes = 4 << 20 }, NullLogger.Instance);
        var value = new byte[100];
        using var output = new PooledBufferWriter();
        for (int i = 0; i < Batches; i++)
        {
            using var builder = new RecordBatchBuilder();
            builder.Add(1_000_000 + i, default, true, value, false);
            output.Clear();
            builder.Build(output);
            _log.Append(output.WrittenSpanForUpdate);
        }
        var random = new Random(7);
        _offsets = [.. Enumerable.Range(0, Lookups).Select(_ => (long)random.Next(Batches))];
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long ReadAtRandomOffset()
    {
        long sum = 0;
        foreach (long offset in _offsets)
        {
            using var read = _log.Read(offset, 1);
            sum += read.FirstOffset;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long FindByRandomTimestamp()
    {
        long sum = 0;
        foreach (long offset in _offsets)
            sum += _log.FindByTimestamp(1_000_000 + offset)!.Value.BaseOffset;
        return sum;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _log.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
