using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

/// <summary>
/// Random joins, leaves, crashes, heartbeats, syncs and commits over simulated time, with the
/// coordinator's invariants checked after every step: one generation at a time, no partition owned
/// twice within the current generation, commits from stale generations refused, and replaying the
/// log rebuilds the same offsets.
/// </summary>
public class GroupSimulationTests
{
    private const string G = "sim";
    private const int Partitions = 6;

    private sealed class Client(int id)
    {
        public int Id { get; } = id;
        public string MemberId { get; set; } = "";
        public int Generation { get; set; } = -1;
        public bool Crashed { get; set; }
        public Task<JoinGroupResponse>? Join { get; set; }
        public Task<SyncGroupResponse>? Sync { get; set; }
        public List<int> Owned { get; set; } = [];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Random_membership_changes_keep_the_invariants(int seed)
    {
        var h = new GroupHarness(new GroupCoordinatorOptions { OffsetsTopicPartitions = 1, InitialRebalanceDelay = TimeSpan.FromMilliseconds(500) });
        var shard = h.Shard(G);
        var random = new Random(seed);
        var clients = Enumerable.Range(0, 8).Select(i => new Client(i)).ToList();
        var committed = new Dictionary<int, long>();
        int richestStableGroup = 0, rejectedCommits = 0;

        for (int step = 0; step < 600; step++)
        {
            var c = clients[random.Next(clients.Count)];
            switch (random.Next(9))
            {
                case 0 when c.MemberId.Length == 0 && c.Join is null:
                {
                    c.Crashed = false;
                    var first = await shard.JoinGroup(GroupHarness.JoinRequest(G), 7, $"c{c.Id}", "h");
                    c.MemberId = first.MemberId;
                    c.Join = shard.JoinGroup(GroupHarness.JoinRequest(G, c.MemberId), 7, $"c{c.Id}", "h");
                    break;
                }
                case 1 when c.MemberId.Length > 0 && !c.Crashed:
                {
                    var hb = shard.Heartbeat(new HeartbeatRequest { GroupId = G, MemberId = c.MemberId, GenerationId = c.Generation });
                    if (hb.ErrorCode == ErrorCode.RebalanceInProgress && c.Join is null)
                        c.Join = shard.JoinGroup(GroupHarness.JoinRequest(G, c.MemberId), 7, $"c{c.Id}", "h");
                    else if (hb.ErrorCode is ErrorCode.UnknownMemberId)
                        Reset(c);
                    break;
                }
                case 2 when c.MemberId.Length > 0 && !c.Crashed:
                    shard.LeaveGroup(new LeaveGroupRequest { GroupId = G, Members = [new() { MemberId = c.MemberId }] }, 4);
                    Reset(c);
                    break;
                case 3 when c.MemberId.Length > 0:
                    c.Crashed = true; // goes silent; the session timeout must remove it
                    break;
                case 4 or 5 when c.MemberId.Length > 0 && c.Generation >= 0:
                {
                    // Crashed members commit too (zombies), and sometimes with an older generation.
                    long offset = step;
                    int generation = random.Next(4) == 0 ? c.Generation - 1 : c.Generation;
                    var response = shard.OffsetCommit(new OffsetCommitRequest
                    {
                        GroupId = G,
                        MemberId = c.MemberId,
                        GenerationIdOrMemberEpoch = generation,
                        Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = c.Id % Partitions, CommittedOffset = offset }] }],
                    }, 8);
                    var error = response.Topics[0].Partitions[0].ErrorCode;
                    var group = h.Group(G);
                    bool current = group is not null && group.Members.Any(m => m.MemberId == c.MemberId) && group.Epoch == generation && group.State != "CompletingRebalance";
                    Assert.Equal(current, error == ErrorCode.None);
                    if (error == ErrorCode.None)
                        committed[c.Id % Partitions] = offset;
                    else
                        rejectedCommits++;
                    break;
                }
                default:
                    h.Time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 2500)));
                    // Live members heartbeat on their own (a consumer's background thread does).
                    foreach (var live in clients.Where(x => x.MemberId.Length > 0 && !x.Crashed && x.Join is null))
                    {
                        var hb = shard.Heartbeat(new HeartbeatRequest { GroupId = G, MemberId = live.MemberId, GenerationId = live.Generation });
                        if (hb.ErrorCode == ErrorCode.RebalanceInProgress)
                            live.Join = shard.JoinGroup(GroupHarness.JoinRequest(G, live.MemberId), 7, $"c{live.Id}", "h");
                        else if (hb.ErrorCode is ErrorCode.UnknownMemberId or ErrorCode.IllegalGeneration)
                            Reset(live);
                    }
                    break;
            }
            Progress(shard, clients);
            CheckInvariants(h, clients);
            if (h.Group(G) is { State: "Stable" } stable)
                richestStableGroup = Math.Max(richestStableGroup, stable.Members.Count);
        }

        // The walk must actually have exercised the interesting cases.
        Assert.True(richestStableGroup >= 2, "never reached a stable group of two or more");
        Assert.True(committed.Count > 0 && rejectedCommits > 0, $"commits: {committed.Count} accepted, {rejectedCommits} refused");

        // Replaying the log rebuilds the same committed offsets.
        var replayed = new GroupCoordinator(h.Coordinator.Options, h.Time, h.Log, NullLogger.Instance);
        replayed.Load(h.Log.Read);
        var offsets = replayed.ShardFor(G).FetchOffsets(G, null).Offsets.ToDictionary(o => o.Partition, o => o.Offset!.Value.Offset);
        Assert.Equal(committed.OrderBy(kv => kv.Key), offsets.OrderBy(kv => kv.Key));
    }

    private static void Reset(Client c)
    {
        c.MemberId = "";
        c.Generation = -1;
        c.Join = null;
        c.Sync = null;
        c.Owned = [];
    }

    /// <summary>Live clients react to completed joins and syncs the way a consumer does.</summary>
    private static void Progress(GroupShard shard, List<Client> clients)
    {
        foreach (var c in clients.Where(c => !c.Crashed))
        {
            if (c.Join is { IsCompleted: true } join)
            {
                c.Join = null;
                var r = join.Result;
                if (r.ErrorCode != ErrorCode.None)
                {
                    Reset(c);
                    continue;
                }
                c.Generation = r.GenerationId;
                var assignments = new List<SyncGroupRequest.SyncGroupRequestAssignment>();
                if (r.Leader == r.MemberId)
                {
                    var members = r.Members.Select(m => m.MemberId).Order(StringComparer.Ordinal).ToList();
                    assignments = members.Select((m, i) => new SyncGroupRequest.SyncGroupRequestAssignment
                    {
                        MemberId = m,
                        Assignment = Enumerable.Range(0, Partitions).Where(p => p % members.Count == i).Select(p => (byte)p).ToArray(),
                    }).ToList();
                }
                c.Sync = shard.SyncGroup(new SyncGroupRequest { GroupId = "sim", MemberId = c.MemberId, GenerationId = c.Generation, Assignments = assignments }, 5);
            }
            if (c.Sync is { IsCompleted: true } sync)
            {
                c.Sync = null;
                var r = sync.Result;
                if (r.ErrorCode == ErrorCode.None)
                    c.Owned = r.Assignment.Select(b => (int)b).ToList();
                else if (r.ErrorCode == ErrorCode.RebalanceInProgress)
                    c.Join = shard.JoinGroup(GroupHarness.JoinRequest("sim", c.MemberId), 7, $"c{c.Id}", "h");
                else
                    Reset(c);
            }
        }
    }

    private static void CheckInvariants(GroupHarness h, List<Client> clients)
    {
        var group = h.Group(G);
        if (group is null)
            return;
        // Members that hold an assignment for the current generation own disjoint partitions.
        if (group.State == "Stable")
        {
            var owned = group.Members.SelectMany(m => m.Assignment).ToList();
            Assert.Equal(owned.Count, owned.Distinct().Count());
        }
        // No member believes it is in a generation newer than its group's. (A client dropped from the
        // group may: an empty group without offsets is deleted and a new one starts again at 0.)
        Assert.All(clients.Where(c => group.Members.Any(m => m.MemberId == c.MemberId)), c => Assert.True(c.Generation <= group.Epoch));
    }
}
