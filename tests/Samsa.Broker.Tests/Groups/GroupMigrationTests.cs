using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

/// <summary>Online migration: a classic group upgraded by a consumer-protocol member, classic members inside it, and the way back.</summary>
public sealed class GroupMigrationTests
{
    private const string G = "mig";

    /// <summary>A cooperative classic member: it reports what it owns when it rejoins, and gives up what a sync no longer assigns.</summary>
    private sealed class ClassicMember(ConsumerGroupHarness h, string name)
    {
        public string MemberId { get; private set; } = "";
        public int Generation { get; private set; } = -1;
        public List<int> Owned { get; private set; } = [];
        public string Name { get; } = name;

        private byte[] Metadata() => VersionedData.Write(new ConsumerProtocolSubscription
        {
            Topics = ["t"],
            OwnedPartitions = Owned.Count == 0 ? [] : [new() { Topic = "t", Partitions = [.. Owned] }],
        }, 1);

        public JoinGroupResponse Join() => JoinAsync().GetAwaiter().GetResult();

        /// <summary>
        /// Joins; the returned task is parked in the coordinator by the time this returns (the
        /// shard answers or parks a join synchronously), so callers can order joins without waiting.
        /// </summary>
        public async Task<JoinGroupResponse> JoinAsync()
        {
            var shard = h.Coordinator.ShardFor(G);
            var request = new JoinGroupRequest
            {
                GroupId = G, MemberId = MemberId, SessionTimeoutMs = 10_000, RebalanceTimeoutMs = 30_000, ProtocolType = "consumer",
                Protocols = [new() { Name = "cooperative-sticky", Metadata = Metadata() }],
            };
            var response = await shard.JoinGroup(request, 7, Name, "/h");
            if (response.ErrorCode == ErrorCode.MemberIdRequired)
            {
                MemberId = response.MemberId;
                request.MemberId = MemberId;
                response = await shard.JoinGroup(request, 7, Name, "/h");
            }
            return response;
        }

        public SyncGroupResponse Sync(JoinGroupResponse joined, Dictionary<string, byte[]>? assignments = null)
        {
            Generation = joined.GenerationId;
            var response = h.Coordinator.ShardFor(G).SyncGroup(new SyncGroupRequest
            {
                GroupId = G, MemberId = MemberId, GenerationId = joined.GenerationId, ProtocolType = "consumer", ProtocolName = "cooperative-sticky",
                Assignments = assignments?.Select(a => new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = a.Key, Assignment = a.Value }).ToList() ?? [],
            }, 5).Result;
            if (response.ErrorCode == ErrorCode.None)
                Owned = VersionedData.Read<ConsumerProtocolAssignment>(response.Assignment, out _)?.AssignedPartitions.SelectMany(p => p.Partitions).Order().ToList() ?? [];
            return response;
        }

        public ErrorCode Heartbeat() =>
            h.Coordinator.ShardFor(G).Heartbeat(new HeartbeatRequest { GroupId = G, MemberId = MemberId, GenerationId = Generation }).ErrorCode;

        /// <summary>Heartbeat; when told to rejoin, rejoin and sync. True when something happened.</summary>
        public bool Step()
        {
            if (Heartbeat() != ErrorCode.RebalanceInProgress)
                return false;
            var joined = Join();
            Assert.Equal(ErrorCode.None, joined.ErrorCode);
            Assert.Equal(ErrorCode.None, Sync(joined).ErrorCode);
            return true;
        }
    }

    private static byte[] Assignment(params int[] partitions) =>
        VersionedData.Write(new ConsumerProtocolAssignment { AssignedPartitions = [new() { Topic = "t", Partitions = [.. partitions] }] }, 1);

    [Fact]
    public async Task A_classic_group_upgrades_when_a_consumer_member_joins_and_downgrades_when_it_leaves()
    {
        var h = new ConsumerGroupHarness(new Samsa.Broker.Groups.GroupCoordinatorOptions
        {
            OffsetsTopicPartitions = 1,
            InitialRebalanceDelay = TimeSpan.Zero,
            ConsumerSessionTimeout = TimeSpan.FromSeconds(10),
            ConsumerHeartbeatInterval = TimeSpan.FromSeconds(1),
        });
        h.Topics.Add("t", 4);
        var a = new ClassicMember(h, "a");
        var b = new ClassicMember(h, "b");
        Assert.Equal(1, a.Join().GenerationId);
        // b joins first, parking in the rebalance it starts; a's rejoin completes it, and both
        // land in generation 2. (The other order is no rebalance: a rejoin with unchanged
        // protocols during the sync phase is answered with the current generation, and b would
        // then wait for a until the rebalance timeout, which fake time never reaches.)
        var joiningB = b.JoinAsync();
        Assert.False(joiningB.IsCompleted);
        var joinedA = await a.JoinAsync();
        var joinB = await joiningB;
        Assert.Equal(2, joinedA.GenerationId);
        Assert.Equal(joinedA.GenerationId, joinB.GenerationId);
        var leader = joinedA.Leader == a.MemberId ? (a, joinedA) : (b, joinB);
        var follower = leader.Item1 == a ? (b, joinB) : (a, joinedA);
        var followerSync = Task.Run(() => follower.Item1.Sync(follower.Item2));
        leader.Item1.Sync(leader.Item2, new() { [a.MemberId] = Assignment(0, 1), [b.MemberId] = Assignment(2, 3) });
        await followerSync;
        Assert.Equal([0, 1], a.Owned);
        Assert.Equal([2, 3], b.Owned);
        Assert.Equal("Stable", h.View(G)!.State);

        // A consumer-protocol member joins: the group becomes a consumer group, nobody loses anything yet.
        var c = h.NewMember(G, "c", ["t"]);
        Assert.Equal(ErrorCode.None, c.Beat().ErrorCode);
        var view = h.View(G)!;
        Assert.Equal(GroupType.Consumer, view.Type);
        Assert.Equal(3, view.Members.Count);
        Assert.Equal(0, c.Count);

        // The classic members are told to rejoin, revoke what moves, and c gets it once released.
        for (int round = 0; round < 10; round++)
        {
            a.Step();
            b.Step();
            c.Beat();
            var owned = a.Owned.Concat(b.Owned).Concat(c.Partitions.Select(p => int.Parse(p.Split('-')[1]))).ToList();
            Assert.Equal(owned.Count, owned.Distinct().Count());
        }
        Assert.Equal(4, a.Owned.Count + b.Owned.Count + c.Count);
        Assert.True(c.Count >= 1);
        Assert.Equal("Stable", h.View(G)!.State);

        // Commits from the classic members use their generation (the member epoch).
        var commit = h.Coordinator.ShardFor(G).OffsetCommit(new OffsetCommitRequest
        {
            GroupId = G, MemberId = a.MemberId, GenerationIdOrMemberEpoch = a.Generation,
            Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = a.Owned[0], CommittedOffset = 7 }] }],
        }, 8);
        Assert.Equal(ErrorCode.None, commit.Topics[0].Partitions[0].ErrorCode);

        // The last consumer-protocol member leaves: back to a classic group, which rebalances.
        c.Leave();
        view = h.View(G)!;
        Assert.Equal(GroupType.Classic, view.Type);
        Assert.Equal("PreparingRebalance", view.State);
        Assert.Equal(2, view.Members.Count);
        var rejoinA = a.JoinAsync();
        Assert.False(rejoinA.IsCompleted);
        var rejoinB = await b.JoinAsync();
        Assert.Equal(ErrorCode.None, (await rejoinA).ErrorCode);
        Assert.Equal(ErrorCode.None, rejoinB.ErrorCode);
        Assert.Equal("CompletingRebalance", h.View(G)!.State);
        Assert.Equal(7, h.Coordinator.ShardFor(G).FetchOffsets(G, null).Offsets.Single().Offset!.Value.Offset);

        // And it all comes back from the log.
        h.Restart();
        Assert.Equal(GroupType.Classic, h.View(G)!.Type);
    }
}
