using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>
/// CsCheck drives random sequences of appends (keyed records, tombstones, timestamps out of order),
/// reads, timestamp lookups, DeleteRecords, size retention, compaction, clean restarts, crashes and
/// torn writes, with segments and index intervals small enough that every few batches roll a
/// segment or add an index entry, against a model that is a list of batches; a failing sequence is
/// shrunk to a short one.
/// </summary>
public sealed class LogPropertyTests
{
    private enum Op { Append, Read, FindByTimestamp, DeleteRecords, Retention, Compact, CleanRestart, Crash, TornCrash }

    private readonly record struct Step(Op Op, int A, int B)
    {
        public override string ToString() => $"{Op}({A},{B})";
    }

    private static readonly Gen<Step> Steps = Gen.Frequency(
        (6, Gen.Select(Gen.Int[1, 6], Gen.Int[0, 1000], (n, seed) => new Step(Op.Append, n, seed))),
        (3, Gen.Select(Gen.Int[0, 1000], Gen.Int[1, 800], (f, max) => new Step(Op.Read, f, max))),
        (2, Gen.Int[-10, 10_100].Select(t => new Step(Op.FindByTimestamp, t, 0))),
        (1, Gen.Int[0, 1000].Select(f => new Step(Op.DeleteRecords, f, 0))),
        (1, Gen.Int[0, 3000].Select(bytes => new Step(Op.Retention, bytes, 0))),
        (1, Gen.Int[0, 1].Select(expire => new Step(Op.Compact, expire, 0))),
        (1, Gen.Const(new Step(Op.CleanRestart, 0, 0))),
        (1, Gen.Const(new Step(Op.Crash, 0, 0))),
        (1, Gen.Int[1, 1000].Select(at => new Step(Op.TornCrash, at, 0))));

    [Fact]
    public void Random_operations_with_rolls_retention_compaction_and_restarts_match_the_model() =>
        Steps.Array[1, 80].Sample(steps => new Run().Execute(steps), iter: 200);

    private sealed record ModelRecord(long Offset, long Timestamp, byte? Key, long? Value);

    private sealed record ModelBatch(long Base, long Last, List<ModelRecord> Records)
    {
        public long MaxTimestamp => Records.Max(r => r.Timestamp);
    }

    private sealed class Run
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-prop-" + Guid.NewGuid().ToString("N"));
        private readonly LogConfig _config = new() { SegmentBytes = 600, IndexIntervalBytes = 150 };
        private readonly List<ModelBatch> _model = [];
        private long _start, _end;
        private PartitionLog _log = null!;

        public void Execute(Step[] steps)
        {
            _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
            try
            {
                foreach (var step in steps)
                {
                    Apply(step);
                    Assert.Equal(_end, _log.LogEndOffset);
                    Assert.Equal(_start, _log.LogStartOffset);
                }
            }
            finally
            {
                _log.Dispose();
                Directory.Delete(_dir, recursive: true);
            }
        }

        private IEnumerable<ModelBatch> Live => _model.Where(b => b.Last >= _start && b.Records.Count > 0);

        private void Apply(Step step)
        {
            switch (step.Op)
            {
                case Op.Append:
                {
                    var records = new List<ModelRecord>();
                    for (int i = 0; i < step.A; i++)
                    {
                        int r = (step.B * 31 + i * 17) % 1000;
                        // Five keys so compaction has work, some unkeyed records, some tombstones; timestamps jump about.
                        byte? key = r % 7 == 0 ? null : (byte)(r % 5);
                        long? value = key is not null && r % 11 == 0 ? null : _end + i;
                        records.Add(new ModelRecord(_end + i, (r * 13) % 10_000, key, value));
                    }
                    Assert.Equal(_end, _log.Append(Encode(records)));
                    _model.Add(new ModelBatch(_end, _end + step.A - 1, records));
                    _end += step.A;
                    break;
                }
                case Op.Read when _end > _start:
                {
                    long offset = _start + (_end - _start) * step.A / 1001;
                    using var read = _log.Read(offset, step.B);
                    var expected = Live.Where(b => b.Last >= offset).ToList();
                    if (expected.Count == 0)
                    {
                        Assert.Equal(0, read.Length);
                        break;
                    }
                    Assert.Equal(expected[0].Base, read.FirstOffset);
                    ReadOnlyMemory<byte> buffer = read.Memory;
                    int batches = 0;
                    while (RecordBatch.TryReadNext(ref buffer, out var batch))
                    {
                        Assert.True(batch.CrcMatches);
                        var want = expected[batches++];
                        Assert.Equal(want.Base, batch.Header.BaseOffset);
                        Assert.Equal(want.Last, batch.Header.LastOffset);
                        var got = new List<ModelRecord>();
                        foreach (var r in batch.GetRecords())
                            got.Add(Decode(r));
                        Assert.Equal(want.Records, got);
                    }
                    Assert.True(batches >= 1);
                    Assert.True(batches == 1 || read.Length <= step.B, "past maxBytes with more than one batch");
                    break;
                }
                case Op.FindByTimestamp:
                {
                    var want = Live.FirstOrDefault(b => b.MaxTimestamp >= step.A);
                    Assert.Equal(want?.Base, _log.FindByTimestamp(step.A)?.BaseOffset);
                    var max = Live.MaxBy(b => b.MaxTimestamp);
                    Assert.Equal(max?.Base, _log.FindMaxTimestamp()?.BaseOffset);
                    break;
                }
                case Op.DeleteRecords:
                {
                    long offset = _start + (_end - _start) * step.A / 1000;
                    _log.DeleteRecordsBefore(offset);
                    _start = Math.Max(_start, offset);
                    break;
                }
                case Op.Retention:
                {
                    long before = _log.SizeInBytes;
                    _log.EnforceRetention(0, -1, step.A);
                    long newStart = _log.LogStartOffset;
                    Assert.True(newStart >= _start, "retention moved the log start back");
                    Assert.True(newStart == _start || _model.Any(b => b.Base == newStart) || newStart == _end, $"log start {newStart} is not a batch boundary");
                    Assert.True(_log.SizeInBytes <= before);
                    _start = newStart;
                    break;
                }
                case Op.Compact:
                {
                    // Everything below the active segment is cleaned: newest record per key, tombstones too once expired.
                    long active = _log.ActiveSegmentBaseOffset;
                    bool expire = step.A == 1;
                    var latest = new Dictionary<byte, long>();
                    foreach (var r in _model.Where(b => b.Last < active).SelectMany(b => b.Records))
                    {
                        if (r.Key is { } k)
                            latest[k] = r.Offset;
                    }
                    _log.Compact(nowMs: expire ? 1_000_000 : 0, deleteRetentionMs: 1000);
                    foreach (var b in _model.Where(b => b.Last < active))
                        b.Records.RemoveAll(r => r.Key is { } k && (latest[k] != r.Offset || (r.Value is null && expire)));
                    break;
                }
                case Op.CleanRestart:
                    _log.Close();
                    _log.Dispose();
                    _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
                    Assert.True(_log.OpenedFromCheckpoint);
                    break;
                case Op.Crash:
                    _log.Dispose();
                    _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
                    Assert.True(_log.ScannedSegments >= 1);
                    break;
                case Op.TornCrash when _model.Count > 0 && _model[^1].Base >= _start && _model[^1].Base >= _log.ActiveSegmentBaseOffset:
                {
                    // The last batch was being written when the process died: some of its bytes reached the file.
                    _log.Dispose();
                    string active = Directory.GetFiles(_dir, "*.log").Max(StringComparer.Ordinal)!;
                    long length = new FileInfo(active).Length;
                    int size = Encode(_model[^1].Records).Length;
                    using (var f = new FileStream(active, FileMode.Open))
                        f.SetLength(length - size + step.A % size);
                    _log = PartitionLog.Open(_dir, _config, NullLogger.Instance);
                    _end = _model[^1].Base;
                    _model.RemoveAt(_model.Count - 1);
                    break;
                }
            }
        }

        private static byte[] Encode(List<ModelRecord> records)
        {
            using var builder = new RecordBatchBuilder();
            Span<byte> value = stackalloc byte[8];
            foreach (var r in records)
            {
                BitConverter.TryWriteBytes(value, r.Value ?? 0);
                builder.Add(r.Timestamp, r.Key is { } k ? [k] : default, r.Key is null, value, r.Value is null);
            }
            using var output = new PooledBufferWriter();
            builder.Build(output);
            return output.WrittenSpan.ToArray();
        }

        private static ModelRecord Decode(Samsa.Protocol.Records.Record r) =>
            new(r.Offset, r.Timestamp, r.Key is { } k ? k.Span[0] : null, r.Value is { } v ? BitConverter.ToInt64(v.Span) : null);
    }
}
