using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Records;
using static Samsa.Storage.Tests.PartitionLogTests;

namespace Samsa.Storage.Tests;

/// <summary>
/// CsCheck drives random sequences of appends, reads, DeleteRecords, size retention and restarts
/// (with segments small enough to roll every few batches) against a list-of-batches model; a
/// failing sequence is shrunk to a short one.
/// </summary>
public sealed class LogPropertyTests
{
    private enum Op { Append, Read, DeleteRecords, Retention, Restart }

    private readonly record struct Step(Op Op, int A, int B)
    {
        public override string ToString() => $"{Op}({A},{B})";
    }

    private static readonly Gen<Step> Steps = Gen.Frequency(
        (5, Gen.Int[1, 6].Select(n => new Step(Op.Append, n, 0))),
        (3, Gen.Select(Gen.Int[0, 1000], Gen.Int[1, 800], (f, max) => new Step(Op.Read, f, max))),
        (1, Gen.Int[0, 1000].Select(f => new Step(Op.DeleteRecords, f, 0))),
        (1, Gen.Int[0, 3000].Select(bytes => new Step(Op.Retention, bytes, 0))),
        (1, Gen.Const(new Step(Op.Restart, 0, 0))));

    [Fact]
    public void Random_operations_with_rolls_retention_and_restarts_match_the_model() =>
        Steps.Array[1, 80].Sample(Run, iter: 150);

    private static void Run(Step[] steps)
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-prop-" + Guid.NewGuid().ToString("N"));
        var config = new LogConfig { SegmentBytes = 600 };
        var model = new List<(long Base, int Count)>();
        long start = 0, end = 0;
        var log = PartitionLog.Open(dir, config, NullLogger.Instance);
        try
        {
            foreach (var step in steps)
            {
                switch (step.Op)
                {
                    case Op.Append:
                        Assert.Equal(end, log.Append(Batch(step.A)));
                        model.Add((end, step.A));
                        end += step.A;
                        break;
                    case Op.Read when end > start:
                    {
                        long offset = start + (end - start) * step.A / 1001;
                        using var read = log.Read(offset, step.B);
                        var first = model.First(b => b.Base + b.Count > offset);
                        Assert.Equal(first.Base, read.FirstOffset);
                        // Whole batches, dense offsets from the batch holding the offset; at least one batch.
                        long expected = first.Base;
                        ReadOnlyMemory<byte> buffer = read.Memory;
                        int batches = 0;
                        while (RecordBatch.TryReadNext(ref buffer, out var batch))
                        {
                            Assert.True(batch.CrcMatches);
                            foreach (var r in batch.GetRecords())
                                Assert.Equal(expected++, r.Offset);
                            batches++;
                        }
                        Assert.True(batches >= 1);
                        Assert.True(batches == 1 || read.Length <= step.B, "past maxBytes with more than one batch");
                        break;
                    }
                    case Op.DeleteRecords:
                    {
                        long offset = start + (end - start) * step.A / 1000;
                        log.DeleteRecordsBefore(offset);
                        start = Math.Max(start, offset);
                        break;
                    }
                    case Op.Retention:
                    {
                        long before = log.SizeInBytes;
                        log.EnforceRetention(0, -1, step.A);
                        long newStart = log.LogStartOffset;
                        Assert.True(newStart >= start, "retention moved the log start back");
                        Assert.True(newStart == start || model.Any(b => b.Base == newStart) || newStart == end, $"log start {newStart} is not a batch boundary");
                        Assert.True(log.SizeInBytes <= before);
                        start = newStart;
                        break;
                    }
                    case Op.Restart:
                        log.Dispose();
                        log = PartitionLog.Open(dir, config, NullLogger.Instance);
                        break;
                }
                Assert.Equal(end, log.LogEndOffset);
                Assert.Equal(start, log.LogStartOffset);
            }
        }
        finally
        {
            log.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }
}
