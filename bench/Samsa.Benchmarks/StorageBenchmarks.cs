using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Storage;

namespace Samsa.Benchmarks;

/// <summary>
/// Appending 64 MiB as 16 KiB batches of 1 KiB records to a partition log, next to writing the same
/// bytes sequentially with a plain FileStream in the same run; then reading them all back.
/// </summary>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    private const int TotalBytes = 64 << 20;
    private byte[] _batch = [];
    private int _batches;
    private string _dir = "";

    [GlobalSetup]
    public void Setup()
    {
        _batch = BenchmarkData.SixteenKiBBatchOfOneKiBRecords();
        _batches = TotalBytes / _batch.Length;
        _dir = Path.Combine(Path.GetTempPath(), "samsa-bench-" + Guid.NewGuid().ToString("N"));
    }

    [IterationSetup]
    public void Clean()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
        Directory.CreateDirectory(_dir);
    }

    [Benchmark(Baseline = true)]
    public long PlainSequentialWrite()
    {
        using var file = new FileStream(Path.Combine(_dir, "plain.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 0);
        for (int i = 0; i < _batches; i++)
            file.Write(_batch);
        return file.Length;
    }

    [Benchmark]
    public long PartitionLogAppend()
    {
        using var log = PartitionLog.Open(Path.Combine(_dir, "t-0"), new LogConfig(), NullLogger.Instance);
        var copy = (byte[])_batch.Clone();
        for (int i = 0; i < _batches; i++)
            log.Append(copy);
        return log.LogEndOffset;
    }

    [Benchmark]
    public long PartitionLogAppendThenReadAll()
    {
        using var log = PartitionLog.Open(Path.Combine(_dir, "t-0"), new LogConfig(), NullLogger.Instance);
        var copy = (byte[])_batch.Clone();
        for (int i = 0; i < _batches; i++)
            log.Append(copy);
        long offset = 0, bytes = 0;
        while (offset < log.LogEndOffset)
        {
            using var read = log.Read(offset, 1 << 20);
            bytes += read.Length;
            offset = read.LastOffset + 1;
        }
        return bytes;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }
}
