using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Benchmarks;

/// <summary>Opening a 256 MiB partition log: every batch's header read and CRC checked (the start-up scan).</summary>
[MemoryDiagnoser]
public class RecoveryBenchmarks
{
    private string _dir = "";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "samsa-recovery-" + Guid.NewGuid().ToString("N"));
        using var builder = new RecordBatchBuilder();
        var value = new byte[1000];
        new Random(1).NextBytes(value);
        while (builder.EstimatedSize < 16 * 1024 - 1100)
            builder.Add(0, value.AsSpan(0, 8), false, value, false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        var batch = output.WrittenSpan.ToArray();
        using var log = PartitionLog.Open(_dir, new LogConfig(), NullLogger.Instance);
        for (long written = 0; written < 256L << 20; written += batch.Length)
            log.Append(batch);
    }

    [Benchmark]
    public long OpenAndScan()
    {
        using var log = PartitionLog.Open(_dir, new LogConfig(), NullLogger.Instance);
        return log.LogEndOffset;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);
}
