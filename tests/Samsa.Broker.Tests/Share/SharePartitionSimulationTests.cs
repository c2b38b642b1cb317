using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Share;

/// <summary>
/// CsCheck drives random sequences of four members acquiring from a 400-record log of small
/// batches, acknowledging what they hold (every type, whole or per offset) or offsets at random,
/// leaving, time passing lock durations, the log start moving, and reloads through snapshot
/// record bytes, against a model that keeps one state per offset. After every step the partition
/// must match the model offset by offset, and the invariants hold: one holder at a time, an
/// accepted offset never acquired again, no more deliveries than the limit, an SPSO that never
/// moves back with only done offsets below it, and a reload that keeps what is done and frees
/// what was held. A failing sequence is shrunk to a short one.
/// </summary>
public sealed class SharePartitionSimulationTests
{
    private enum Op { Acquire, AckHeld, AckAny, Advance, Leave, Reload, LogStart }

    private readonly record struct Step(Op Op, int Member, int A, int B, int C)
    {
        public override string ToString() => $"{Op}(m{Member},{A},{B},{C})";
    }

    private sealed record Scenario(int Limit, int Cap, int[] BatchSizes, Step[] Steps)
    {
        public override string ToString() => $"limit {Limit} cap {Cap} batches [{string.Join(",", BatchSizes)}] steps {string.Join(" ", Steps)}";
    }

    private static readonly Gen<Step> Steps = Gen.Frequency(
        (5, Gen.Select(Gen.Int[0, 3], Gen.Int[1, 25], Gen.Int[1, 6], Gen.Int[0, 1], (m, max, n, mode) => new Step(Op.Acquire, m, max, n, mode))),
        (4, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1000], Gen.Int[1, 8], Gen.Int[0, 9], (m, pick, len, type) => new Step(Op.AckHeld, m, pick, len, type))),
        (1, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 400], Gen.Int[0, 10], Gen.Int[0, 4], (m, at, len, type) => new Step(Op.AckAny, m, at, len, type))),
        (2, Gen.Int[0, 12_000].Select(ms => new Step(Op.Advance, 0, ms, 0, 0))),
        (1, Gen.Int[0, 3].Select(m => new Step(Op.Leave, m, 0, 0, 0))),
        (1, Gen.Const(new Step(Op.Reload, 0, 0, 0, 0))),
        (1, Gen.Int[0, 20].Select(d => new Step(Op.LogStart, 0, d, 0, 0))));

    private static readonly Gen<Scenario> Scenarios = Gen.Select(
        Gen.Int[2, 5], Gen.Int[10, 60], Gen.Int[1, 4].Array[150], Steps.Array[1, 100],
        (limit, cap, sizes, steps) => new Scenario(limit, cap, sizes, steps));

    [Fact]
    public void Random_members_acks_expiries_leaves_and_reloads_match_the_model() =>
        Scenarios.Sample(s => new Run(s).Execute(), iter: 300);

    private enum S : byte { New, Available, Acquired, Acknowledged, Archived }

    private sealed class Run
    {
        private const int N = 400;
        private const int LockMs = 10_000;
        private const int MaxBatch = 4;
        private readonly Scenario _s;
        private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        private readonly SharePartitionOptions _options;
        private readonly List<OffsetRange> _log = [];
        private readonly S[] _state = new S[N];
        private readonly short[] _count = new short[N];
        private readonly int[] _holder = Enumerable.Repeat(-1, N).ToArray();
        private readonly long[] _deadline = new long[N];
        private long _spso, _highest = -1, _logStart;
        private SharePartition _p;

        public Run(Scenario s)
        {
            _s = s;
            _options = new SharePartitionOptions { DeliveryCountLimit = s.Limit, MaxInFlightRecords = s.Cap, RecordLockDuration = TimeSpan.FromMilliseconds(LockMs) };
            long at = 0;
            for (int i = 0; at < N; at += i < s.BatchSizes.Length ? s.BatchSizes[i++] : N)
                _log.Add(new OffsetRange(at, i < s.BatchSizes.Length ? Math.Min(at + s.BatchSizes[i] - 1, N - 1) : N - 1));
            _p = new SharePartition(_options, _time, 0);
        }

        private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

        private long Speo => Math.Max(_highest, _spso - 1);

        private static string Name(int member) => $"m{member}";

        public void Execute()
        {
            foreach (var step in _s.Steps)
            {
                long before = _spso;
                Apply(step);
                Expire();
                Check();
                Assert.True(_spso >= before, $"SPSO moved back from {before} to {_spso}");
            }
        }

        private void Apply(Step step)
        {
            switch (step.Op)
            {
                case Op.Acquire: Acquire(step.Member, step.A, step.B, step.C == 1 ? ShareAcquireMode.RecordLimit : ShareAcquireMode.BatchOptimized); break;
                case Op.AckHeld: AckHeld(step.Member, step.A, step.B, step.C); break;
                case Op.AckAny: AckAny(step.Member, step.A, step.A + step.B, (AcknowledgeType)step.C); break;
                case Op.Advance: _time.Advance(TimeSpan.FromMilliseconds(step.A)); break;
                case Op.Leave: Leave(step.Member); break;
                case Op.Reload: Reload(); break;
                case Op.LogStart: MoveLogStart(_logStart + step.A); break;
            }
        }

        private void Acquire(int member, int max, int batches, ShareAcquireMode mode)
        {
            long fetch = _p.NextFetchOffset();
            long expectedFetch = _spso;
            while (expectedFetch <= Speo && _state[expectedFetch] != S.Available)
                expectedFetch++;
            Assert.Equal(expectedFetch, fetch);
            if (fetch >= N)
                return;
            int first = _log.FindIndex(b => b.Last >= fetch);
            var read = _log.GetRange(first, Math.Min(batches, _log.Count - first)).ToArray();
            long speo = Speo, inFlight = Speo - _spso + 1;

            var acquired = _p.Acquire(Name(member), fetch, read, max, mode: mode);
            long total = 0;
            foreach (var range in acquired)
            {
                for (long o = range.FirstOffset; o <= range.LastOffset; o++)
                {
                    Assert.True(o >= _spso, $"{o} acquired below the SPSO {_spso}");
                    Assert.True(_state[o] is S.New or S.Available, $"{o} acquired while {_state[o]} (holder {_holder[o]})");
                    _count[o]++;
                    Assert.Equal(_count[o], range.DeliveryCount);
                    Assert.True(_count[o] <= _s.Limit, $"{o} delivered {_count[o]} times");
                    (_state[o], _holder[o], _deadline[o]) = (S.Acquired, member, Now + LockMs);
                    _highest = Math.Max(_highest, o);
                }
                total += range.LastOffset - range.FirstOffset + 1;
            }
            Assert.True(total <= (mode == ShareAcquireMode.RecordLimit ? max : max + MaxBatch - 1), $"{total} acquired for a limit of {max}");
            // An available offset to fetch, or room for a new one, is always acquired first.
            if (fetch <= speo || inFlight < _s.Cap)
            {
                Assert.NotEmpty(acquired);
                Assert.Equal(fetch, acquired[0].FirstOffset);
            }
            else
                Assert.Empty(acquired);
            long cap = mode == ShareAcquireMode.RecordLimit ? _s.Cap : _s.Cap + MaxBatch - 1;
            Assert.True(Speo - _spso + 1 <= Math.Max(cap, inFlight), $"{Speo - _spso + 1} in flight for a cap of {_s.Cap}");
        }

        private void AckHeld(int member, int pick, int length, int typeSeed)
        {
            var held = Enumerable.Range(0, N).Where(o => _holder[o] == member).ToList();
            if (held.Count == 0)
                return;
            long a = held[pick % held.Count], b = a;
            while (b + 1 < N && b - a + 1 < length && _holder[b + 1] == member)
                b++;
            var rng = new Random(pick * 31 + typeSeed);
            sbyte[] types = typeSeed == 9
                ? [.. Enumerable.Range(0, (int)(b - a + 1)).Select(_ => (sbyte)rng.Next(0, 5))]
                : [(sbyte)(typeSeed % 5)];
            Assert.Equal(ErrorCode.None, _p.Acknowledge(Name(member), [new ShareAcknowledgement(a, b, types)]));
            for (long o = a; o <= b; o++)
                ApplyAck(o, (AcknowledgeType)types[types.Length == 1 ? 0 : o - a]);
            Advance();
        }

        private void AckAny(int member, long a, long b, AcknowledgeType type)
        {
            var expected = ErrorCode.None;
            if (b >= _spso)
            {
                if (Speo < _spso)
                    expected = ErrorCode.InvalidRecordState;
                else if (b > Speo)
                    expected = ErrorCode.InvalidRequest;
                else
                {
                    for (long o = Math.Max(a, _spso); o <= b; o++)
                    {
                        if (_holder[o] != member)
                            expected = ErrorCode.InvalidRecordState;
                    }
                }
            }
            Assert.Equal(expected, _p.Acknowledge(Name(member), [new ShareAcknowledgement(a, b, type)]));
            if (expected != ErrorCode.None)
                return;
            for (long o = Math.Max(a, _spso); o <= b; o++)
                ApplyAck(o, type);
            Advance();
        }

        private void ApplyAck(long o, AcknowledgeType type)
        {
            switch (type)
            {
                case AcknowledgeType.Accept: Free(o, S.Acknowledged); break;
                case AcknowledgeType.Release: Free(o, _count[o] >= _s.Limit ? S.Archived : S.Available); break;
                case AcknowledgeType.Renew: _deadline[o] = Now + LockMs; break;
                default: Free(o, S.Archived); break;
            }
        }

        private void Free(long o, S to) => (_state[o], _holder[o], _deadline[o]) = (to, -1, 0);

        private void Leave(int member)
        {
            long expected = 0;
            for (int o = 0; o < N; o++)
            {
                if (_holder[o] != member)
                    continue;
                Free(o, _count[o] >= _options.DeliveryCountLimit ? S.Archived : S.Available);
                expected++;
            }
            Assert.Equal(expected, _p.ReleaseMember(Name(member)));
        }

        private void Reload()
        {
            var state = _p.ExportState();
            Assert.Equal(Enumerable.Range(0, N).Count(o => o >= _spso && o <= Speo && _state[o] is S.Acknowledged or S.Archived), state.DeliveryCompleteCount);
            byte[] bytes = VersionedData.Write(state.ToSnapshotValue(1, 0, 0, 0), 0);
            var read = ShareState.FromSnapshotValue(VersionedData.Read<ShareSnapshotValue>(bytes, out _)!);
            _p = SharePartition.Load(read, _options, _time, ShareAutoOffsetReset.Latest, _logStart, N);
            // Nobody holds anything after a reload, and the deliveries in progress did not count.
            for (int o = 0; o < N; o++)
            {
                if (_state[o] != S.Acquired)
                    continue;
                Free(o, S.Available);
                _count[o]--;
            }
        }

        private void MoveLogStart(long logStart)
        {
            if (logStart > N)
                return;
            _logStart = logStart;
            for (long o = _spso; o < logStart; o++)
            {
                if (_state[o] is not (S.Acknowledged or S.Archived))
                    Free(o, S.Archived);
            }
            _spso = Math.Max(_spso, logStart);
            _p.AdvanceToLogStart(logStart);
            Advance();
        }

        private void Expire()
        {
            for (int o = 0; o < N; o++)
            {
                if (_state[o] == S.Acquired && _deadline[o] <= Now)
                    Free(o, _count[o] >= _s.Limit ? S.Archived : S.Available);
            }
            Advance();
        }

        private void Advance()
        {
            while (_spso < N && _state[_spso] is S.Acknowledged or S.Archived)
                _spso++;
        }

        private void Check()
        {
            _p.CheckInvariants();
            Assert.Equal(_spso, _p.StartOffset);
            Assert.Equal(Speo, _p.EndOffset);
            for (long o = 0; o < _spso; o++)
                Assert.True(_state[o] is S.Acknowledged or S.Archived, $"{o} below the SPSO is {_state[o]}");
            long next = _spso;
            foreach (var batch in _p.InFlight())
            {
                Assert.Equal(next, batch.FirstOffset);
                for (long o = batch.FirstOffset; o <= batch.LastOffset; o++)
                {
                    var want = _state[o] switch
                    {
                        S.New or S.Available => RecordState.Available,
                        S.Acquired => RecordState.Acquired,
                        S.Acknowledged => RecordState.Acknowledged,
                        _ => RecordState.Archived,
                    };
                    Assert.True(_state[o] != S.New, $"{o} is in flight but was never acquired");
                    Assert.Equal((want, _count[o], _holder[o] < 0 ? null : Name(_holder[o])), (batch.State, batch.DeliveryCount, batch.MemberId));
                }
                next = batch.LastOffset + 1;
            }
            for (long o = next; o < N; o++)
                Assert.True(_state[o] == S.New, $"{o} above the SPEO is {_state[o]}");
        }
    }
}
