using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>
/// CsCheck drives random interleavings of three transactional producers and a plain one (data,
/// commits, aborts, markers with nothing open), clean restarts, crashes and torn last batches, with
/// segments that roll every few batches, against a model that is the list of batches: after every
/// step the last stable offset, the aborted transactions of random ranges and read_committed reads
/// must be what the model derives. A failing sequence is shrunk.
/// </summary>
public sealed class TransactionPropertyTests
{
    private enum Op { Data, Plain, Commit, Abort, CleanRestart, Crash, TornCrash, Lookup }

    private readonly record struct Step(Op Op, int A, int B)
    {
        public override string ToString() => $"{Op}({A},{B})";
    }

    private static readonly Gen<Step> Steps = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 2], Gen.Int[1, 4], (p, n) => new Step(Op.Data, p, n))),
        (2, Gen.Int[1, 4].Select(n => new Step(Op.Plain, 0, n))),
        (2, Gen.Int[0, 2].Select(p => new Step(Op.Commit, p, 0))),
        (2, Gen.Int[0, 2].Select(p => new Step(Op.Abort, p, 0))),
        (1, Gen.Const(new Step(Op.CleanRestart, 0, 0))),
        (1, Gen.Const(new Step(Op.Crash, 0, 0))),
        (1, Gen.Int[1, 1000].Select(at => new Step(Op.TornCrash, at, 0))),
        (3, Gen.Select(Gen.Int[0, 200], Gen.Int[0, 200], (a, b) => new Step(Op.Lookup, a, b))));

    [Fact]
    public void Random_transactions_restarts_and_crashes_match_the_model() =>
        Steps.Array[1, 60].Sample(steps => new Run().Execute(steps), iter: 150);

    private const long PlainProducer = 99;

    /// <summary>A batch as the model knows it: producer, offsets, and what it is.</summary>
    private sealed record ModelBatch(long ProducerId, long Base, long Last, bool Transactional, ControlRecordType? Marker, int Size);

    private sealed class Run
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-txnprop-" + Guid.NewGuid().ToString("N"));
        private readonly LogConfig _config = new() { SegmentBytes = 500, IndexIntervalBytes = 150 };
        private readonly List<ModelBatch> _model = [];
        private PartitionLog _log = null!;

        private long End => _model.Count == 0 ? 0 : _model[^1].Last + 1;

        public void Execute(Step[] steps)
        {
            _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
            try
            {
                foreach (var step in steps)
                {
                    Apply(step);
                    Assert.Equal(End, _log.LogEndOffset);
                    var (stable, aborted) = Derive();
                    Assert.Equal(stable, _log.LastStableOffset);
                    if (step.Op == Op.Lookup)
                        CheckLookups(step, stable, aborted);
                }
            }
            finally
            {
                _log.Dispose();
                Directory.Delete(_dir, recursive: true);
            }
        }

        /// <summary>The LSO and the aborted transactions, from the batches alone.</summary>
        private (long Stable, List<(long Producer, long First, long Last)> Aborted) Derive()
        {
            var open = new Dictionary<long, long>();
            var aborted = new List<(long, long, long)>();
            foreach (var b in _model)
            {
                if (b.Marker is { } type)
                {
                    if (open.Remove(b.ProducerId, out long first) && type == ControlRecordType.Abort)
                        aborted.Add((b.ProducerId, first, b.Base));
                }
                else if (b.Transactional)
                {
                    open.TryAdd(b.ProducerId, b.Base);
                }
            }
            return (open.Count == 0 ? End : open.Values.Min(), aborted);
        }

        private void CheckLookups(Step step, long stable, List<(long Producer, long First, long Last)> aborted)
        {
            long from = Math.Min(step.A, End), to = from + step.B;
            var expected = aborted.Where(a => a.Last >= from && a.First < to).Select(a => (a.Producer, a.First)).ToList();
            var actual = (_log.CollectAbortedTransactions(from, to) ?? []).Select(a => (a.ProducerId, a.FirstOffset)).ToList();
            Assert.Equal(expected, actual);
            using var read = _log.Read(from, 1 << 20, maxOffset: stable);
            var memory = read.Memory;
            int batches = 0;
            while (RecordBatch.TryReadNext(ref memory, out var batch))
            {
                Assert.True(batch.Header.LastOffset < stable, $"batch {batch.Header.BaseOffset}-{batch.Header.LastOffset} at or past the LSO {stable}");
                batches++;
            }
            if (_model.FirstOrDefault(b => b.Last >= from) is { } holding && holding.Last < stable)
                Assert.True(batches > 0, $"nothing read from {from} below the LSO {stable}");
        }

        private int NextSequence(long producerId) =>
            _model.Where(b => b.ProducerId == producerId && b.Marker is null).Sum(b => (int)(b.Last - b.Base + 1));

        private void Apply(Step step)
        {
            switch (step.Op)
            {
                case Op.Data:
                case Op.Plain:
                {
                    long pid = step.Op == Op.Plain ? PlainProducer : step.A;
                    var bytes = Batch(pid, NextSequence(pid), step.B, step.Op == Op.Data);
                    var result = _log.AppendChecked(bytes);
                    Assert.Equal(new AppendResult(ErrorCode.None, End, false), result);
                    _model.Add(new ModelBatch(pid, result.BaseOffset, result.BaseOffset + step.B - 1, step.Op == Op.Data, null, bytes.Length));
                    break;
                }
                case Op.Commit:
                case Op.Abort:
                {
                    var type = step.Op == Op.Commit ? ControlRecordType.Commit : ControlRecordType.Abort;
                    var bytes = Marker(step.A, type);
                    var result = _log.AppendChecked(bytes);
                    Assert.Equal(new AppendResult(ErrorCode.None, End, false), result);
                    _model.Add(new ModelBatch(step.A, result.BaseOffset, result.BaseOffset, true, type, bytes.Length));
                    break;
                }
                case Op.CleanRestart:
                    _log.Close();
                    _log.Dispose();
                    _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
                    Assert.Equal(0, _log.ProducerBatchesReplayed);
                    break;
                case Op.Crash:
                    _log.Dispose();
                    _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
                    break;
                case Op.TornCrash when _model.Count > 0 && _model[^1].Base >= _log.ActiveSegmentBaseOffset:
                {
                    // The last batch was being written when the process died: part of it reached the file.
                    _log.Dispose();
                    string active = Directory.GetFiles(_dir, "*.log").Max(StringComparer.Ordinal)!;
                    int size = _model[^1].Size;
                    using (var f = new FileStream(active, FileMode.Open))
                        f.SetLength(f.Length - size + step.A % size);
                    _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
                    _model.RemoveAt(_model.Count - 1);
                    break;
                }
            }
        }

        private static byte[] Batch(long producerId, int sequence, int records, bool transactional)
        {
            using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = sequence, IsTransactional = transactional };
            for (int i = 0; i < records; i++)
                builder.Add(1000 + sequence + i, [(byte)i], false, new byte[10], false);
            return Build(builder);
        }

        private static byte[] Marker(long producerId, ControlRecordType type)
        {
            using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = -1, IsTransactional = true, IsControl = true };
            builder.Add(1000, ControlRecord.Key(type), false, ControlRecord.EndTransactionValue(0), false);
            return Build(builder);
        }

        private static byte[] Build(RecordBatchBuilder builder)
        {
            using var output = new PooledBufferWriter();
            builder.Build(output);
            return output.WrittenSpan.ToArray();
        }
    }
}
