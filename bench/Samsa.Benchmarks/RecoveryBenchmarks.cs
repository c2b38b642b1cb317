using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
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
        var batch = BenchmarkData.SixteenKiBBatchOfOneKiBRecords();
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
