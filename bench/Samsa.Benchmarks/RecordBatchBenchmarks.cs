using BenchmarkDotNet.Attributes;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Benchmarks;

/// <summary>
/// Record batch encode and decode: one batch of 1 MiB-ish of records per operation, so MB/s is
/// (batch bytes / mean time). Decoding walks every record and touches key and value.
/// </summary>
[MemoryDiagnoser]
#pragma warning disable CA1063 // BenchmarkDotNet needs an unsealed class; Dispose is its GlobalCleanup
public class RecordBatchBenchmarks : IDisposable
{
    private const int TargetBytes = 1 << 20;
    private byte[] _batch = [];
    private byte[] _value = [];
    private int _records;
    private PooledBufferWriter _scratch = null!;
    private PooledBufferWriter _output = null!;
    private RecordBatchBuilder _builder = null!;

    [Params(100, 1024)]
    public int RecordSize { get; set; }

    [Params(CompressionType.None, CompressionType.Lz4, CompressionType.Zstd, CompressionType.Snappy, CompressionType.Gzip)]
    public CompressionType Compression { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _records = TargetBytes / RecordSize;
        _value = new byte[RecordSize];
        var random = new Random(1);
        // Half random, half repetitive: compressible like typical JSON payloads, not trivially so.
        random.NextBytes(_value.AsSpan(0, RecordSize / 2));
        _scratch = new PooledBufferWriter(TargetBytes * 2);
        _output = new PooledBufferWriter(TargetBytes * 2);
        _builder = new RecordBatchBuilder { Compression = Compression };
        Encode();
        _batch = _output.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int Encode()
    {
        _builder.Reset();
        _output.Clear();
        for (int i = 0; i < _records; i++)
            _builder.Add(1_700_000_000_000 + i, _value.AsSpan(0, 8), false, _value, false);
        _builder.Build(_output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public long Decode()
    {
        ReadOnlyMemory<byte> buffer = _batch;
        long sum = 0;
        while (RecordBatch.TryReadNext(ref buffer, out var batch))
        {
            foreach (var record in batch.GetRecords(_scratch))
                sum += record.Value!.Value.Length + record.Key!.Value.Length;
        }
        return sum;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _builder.Dispose();
        _scratch.Dispose();
        _output.Dispose();
        GC.SuppressFinalize(this);
    }
}
