using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Storage;

namespace Samsa.Benchmarks;

/// <summary>
/// Opening a 256 MiB partition log after a crash. As one segment, every batch's header is read and
/// CRC checked (the start-up scan of an active segment); as 16 MiB segments, the 15 rolled ones come
/// back from their index files and only the active one is scanned.
/// </summary>
[MemoryDiagnoser]
public class RecoveryBenchmarks
{
    private static readonly LogConfig Rolling = new() { SegmentBytes = 16 << 20 };
    private string _dir = "";
    private string _rolledDir = "";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "samsa-recovery-" + Guid.NewGuid().ToString("N"));
        _rolledDir = _dir + "-rolled";
        Fill(_dir, new LogConfig());
        Fill(_rolledDir, Rolling);
    }

    private static void Fill(string dir, LogConfig config)
    {
        var batch = BenchmarkData.SixteenKiBBatchOfOneKiBRecords();
        using var log = PartitionLog.Open(dir, config, NullLogger.Instance);
        for (long written = 0; written < 256L << 20; written += batch.Length)
            log.Append(batch);
        // Disposed without Close: every open below is a start after a crash.
    }

    [Benchmark]
    public long OpenAndScan()
    {
        using var log = PartitionLog.Open(_dir, new LogConfig(), NullLogger.Instance);
        return log.LogEndOffset;
    }

    [Benchmark]
    public long OpenFromIndexFiles()
    {
        using var log = PartitionLog.Open(_rolledDir, Rolling, NullLogger.Instance);
        if (log.ScannedSegments != 1)
            throw new InvalidOperationException($"{log.ScannedSegments} segments scanned; only the active one should be");
        return log.LogEndOffset;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_rolledDir, recursive: true);
    }
}
