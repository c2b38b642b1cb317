using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Groups;
using Samsa.Protocol.Messages;

namespace Samsa.Benchmarks;

/// <summary>
/// One rebalance of a group of N members through the coordinator: N joins parked, the last one
/// completes the generation, the leader syncs an assignment for everyone, the followers sync.
/// Linear work per member is the goal; compare the 100 and 1,000 member rows.
/// </summary>
[MemoryDiagnoser]
public class GroupRebalanceBenchmarks
{
    private sealed class NullLog : IOffsetsLog
    {
        public void Append(int partition, IReadOnlyList<Samsa.Broker.Groups.Runtime.CoordinatorRecord> records)
        {
        }

        public Samsa.Protocol.ErrorCode AppendTransactional(int partition, IReadOnlyList<Samsa.Broker.Groups.Runtime.CoordinatorRecord> records, long producerId, short producerEpoch) =>
            Samsa.Protocol.ErrorCode.None;

        public Samsa.Protocol.ErrorCode AppendMarker(int partition, long producerId, short producerEpoch, bool commit) => Samsa.Protocol.ErrorCode.None;
    }

    private static readonly byte[] Subscription = VersionedData.Write(new ConsumerProtocolSubscription { Topics = ["orders"] }, 3);

    [Params(100, 1000)]
    public int Members { get; set; }

    /// <summary>Partitions of the subscribed topic, split evenly in the leader's assignment.</summary>
    [Params(100, 10_000)]
    public int Partitions { get; set; }

    private byte[][] _assignments = [];

    [GlobalSetup]
    public void Setup() =>
        _assignments = Enumerable.Range(0, Members).Select(i => VersionedData.Write(new ConsumerProtocolAssignment
        {
            AssignedPartitions = [new() { Topic = "orders", Partitions = Enumerable.Range(0, Partitions).Where(p => p % Members == i).ToList() }],
        }, 3)).ToArray();

    [Benchmark]
    public int Rebalance()
    {
        var time = new FakeTimeProvider();
        var coordinator = new GroupCoordinator(new GroupCoordinatorOptions { OffsetsTopicPartitions = 1, InitialRebalanceDelay = TimeSpan.FromSeconds(1) }, time, new NullLog(), NullLogger.Instance);
        var shard = coordinator.ShardFor("g");
        var joins = new List<Task<JoinGroupResponse>>(Members);
        // v3 joins: no MEMBER_ID_REQUIRED round trip. Everyone joins during the initial delay; it
        // runs once more because members arrived, then the generation completes.
        for (int i = 0; i < Members; i++)
        {
            joins.Add(shard.JoinGroup(new JoinGroupRequest
            {
                GroupId = "g",
                SessionTimeoutMs = 30_000,
                RebalanceTimeoutMs = 60_000,
                ProtocolType = "consumer",
                Protocols = [new() { Name = "range", Metadata = Subscription }],
            }, 3, "client", "/127.0.0.1"));
        }
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        var results = joins.Select(j => j.Result).ToList();
        var leader = results.Single(r => r.Leader == r.MemberId);
        var assignments = leader.Members.Select((m, i) => new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = m.MemberId, Assignment = _assignments[i] }).ToList();
        var syncs = results.Where(r => r != leader).Select(r => shard.SyncGroup(new SyncGroupRequest { GroupId = "g", GenerationId = r.GenerationId, MemberId = r.MemberId }, 3)).ToList();
        shard.SyncGroup(new SyncGroupRequest { GroupId = "g", GenerationId = leader.GenerationId, MemberId = leader.MemberId, Assignments = assignments }, 3).Wait();
        int done = syncs.Count(s => s.Result.Assignment.Length > 0);
        coordinator.Dispose();
        return done;
    }
}
