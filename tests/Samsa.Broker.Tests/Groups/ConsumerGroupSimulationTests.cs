using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

/// <summary>
/// KIP-848 groups under random joins, heartbeats, crashes, leaves, static restarts, commits and
/// topic growth on fake time, with the invariants checked after every step: no partition has two
/// owners, a partition reaches a new owner only after the previous one stopped reporting it, no
/// commit is accepted from an epoch other than the member's current one, and replaying the log
/// rebuilds the same group.
/// </summary>
public sealed class ConsumerGroupSimulationTests
{
    private const string G = "sim";

    private sealed class Client(ConsumerGroupHarness.Member member, string? instance)
    {
        public ConsumerGroupHarness.Member Member { get; set; } = member;
        public string? Instance { get; } = instance;
        public bool Crashed { get; set; }
        public bool Away { get; set; }
        public int Incarnation { get; set; }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_membership_changes_keep_the_invariants(int seed)
    {
        var h = new ConsumerGroupHarness();
        h.Topics.Add("a", 6);
        h.Topics.Add("b", 3);
        var random = new Random(seed);
        var clients = new List<Client>();
        int acceptedCommits = 0, refusedCommits = 0, fenced = 0, maxMembers = 0;

        Client NewClient(int i)
        {
            string? instance = i % 3 == 0 ? $"host-{i}" : null;
            var topics = i % 2 == 0 ? new[] { "a", "b" } : new[] { "a" };
            return new Client(h.NewMember(G, $"m{i}-0", topics, instance), instance);
        }

        for (int step = 0; step < 800; step++)
        {
            switch (random.Next(10))
            {
                case 0 when clients.Count < 8:
                    clients.Add(NewClient(clients.Count));
                    clients[^1].Member.Beat();
                    break;
                case 1 when clients.Count > 0:
                {
                    var c = clients[random.Next(clients.Count)];
                    if (!c.Crashed && !c.Away)
                    {
                        c.Member.Leave();
                        Restart(c);
                    }
                    break;
                }
                case 2 when clients.Count > 0:
                {
                    // Goes silent (its session must expire), or comes back from silence as a zombie
                    // that must learn it was fenced.
                    var c = clients[random.Next(clients.Count)];
                    c.Crashed = !c.Crashed;
                    break;
                }
                case 3 when clients.Count > 0:
                {
                    // A static member restarting: leave with -2, come back under a new member id.
                    var c = clients[random.Next(clients.Count)];
                    if (c.Instance is not null && !c.Crashed && !c.Away && c.Member.Joined)
                    {
                        c.Member.Leave(-2);
                        c.Away = true;
                    }
                    else if (c.Away)
                    {
                        c.Away = false;
                        Restart(c);
                        c.Member.Beat();
                    }
                    break;
                }
                case 4 when clients.Count > 0:
                {
                    // Commits, also from zombies and with a stale epoch now and then.
                    var c = clients[random.Next(clients.Count)];
                    if (!c.Member.Joined)
                        break;
                    int epoch = random.Next(4) == 0 ? c.Member.Epoch - 1 : c.Member.Epoch;
                    var view = h.View(G);
                    bool current = view?.Members.FirstOrDefault(m => m.MemberId == c.Member.MemberId) is { } vm && vm.MemberEpoch == epoch && epoch >= 0;
                    var error = h.Coordinator.ShardFor(G).OffsetCommit(new OffsetCommitRequest
                    {
                        GroupId = G, MemberId = c.Member.MemberId, GenerationIdOrMemberEpoch = epoch,
                        Topics = [new() { Name = "a", Partitions = [new() { PartitionIndex = 0, CommittedOffset = step }] }],
                    }, 9).Topics[0].Partitions[0].ErrorCode;
                    Assert.Equal(current, error == ErrorCode.None);
                    if (current)
                        acceptedCommits++;
                    else
                        refusedCommits++;
                    break;
                }
                case 5 when random.Next(8) == 0:
                {
                    string topic = random.Next(2) == 0 ? "a" : "b";
                    h.Topics.TryGet(topic, out _, out int n);
                    h.Topics.Add(topic, n + 1);
                    h.Coordinator.TopicsChanged([topic]);
                    break;
                }
                default:
                    h.Time.Advance(TimeSpan.FromMilliseconds(random.Next(200, 1500)));
                    foreach (var c in clients.Where(c => !c.Crashed && !c.Away && c.Member.Joined))
                    {
                        var r = c.Member.Beat();
                        if (r.ErrorCode is ErrorCode.UnknownMemberId or ErrorCode.FencedMemberEpoch or ErrorCode.FencedInstanceId)
                        {
                            fenced++;
                            Restart(c);
                            c.Member.Beat();
                        }
                        CheckInvariants(h, clients);
                    }
                    break;
            }
            CheckInvariants(h, clients);
            maxMembers = Math.Max(maxMembers, h.View(G)?.Members.Count ?? 0);
        }

        Assert.True(maxMembers >= 3, $"the walk never had three members ({maxMembers})");
        Assert.True(acceptedCommits > 0 && refusedCommits > 0, $"commits: {acceptedCommits} accepted, {refusedCommits} refused");
        Assert.True(fenced > 0, "no member was ever fenced");

        // Quiet down: crashed and away members expire, the rest converge on a balanced assignment.
        foreach (var c in clients.Where(c => c.Away))
        {
            c.Away = false;
            Restart(c);
        }
        var live = clients.Where(c => !c.Crashed).ToList();
        for (int round = 0; round < 40; round++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            foreach (var c in live)
            {
                if (c.Member.Beat().ErrorCode != ErrorCode.None)
                {
                    Restart(c);
                    c.Member.Beat();
                }
            }
            CheckInvariants(h, clients);
        }
        var final = h.View(G)!;
        Assert.Equal("Stable", final.State);
        Assert.Equal(live.Count, final.Members.Count);
        h.Topics.TryGet("a", out _, out int aCount);
        h.Topics.TryGet("b", out _, out int bCount);
        if (live.Count > 0)
            Assert.Equal(aCount + bCount, live.Sum(c => c.Member.Count));

        // Replaying the log rebuilds the same group.
        h.Restart();
        var replayed = h.View(G)!;
        Assert.Equal((final.Epoch, final.AssignmentEpoch, final.State), (replayed.Epoch, replayed.AssignmentEpoch, replayed.State));
        Assert.Equal(Describe(final), Describe(replayed));
    }

    private static void Restart(Client c)
    {
        c.Incarnation++;
        c.Crashed = false;
        var old = c.Member;
        c.Member = new ConsumerGroupHarness.Member(HarnessOf(old), G, $"{old.MemberId.Split('-')[0]}-{c.Incarnation}", TopicsOf(old), c.Instance, null);
    }

    private static ConsumerGroupHarness HarnessOf(ConsumerGroupHarness.Member m) => m.Harness;

    private static string[] TopicsOf(ConsumerGroupHarness.Member m) => m.Topics;

    private static List<string> Describe(GroupView view) =>
        view.Members.OrderBy(m => m.MemberId, StringComparer.Ordinal)
            .Select(m => $"{m.MemberId}/{m.InstanceId}/{m.MemberEpoch}/{m.MemberState}/{string.Join(";", m.Assigned.Select(t => t.Topic + ":" + string.Join(",", t.Partitions)))}/{string.Join(";", m.Target.Select(t => t.Topic + ":" + string.Join(",", t.Partitions)))}")
            .ToList();

    private static void CheckInvariants(ConsumerGroupHarness h, List<Client> clients)
    {
        var view = h.View(G);
        if (view is null)
            return;
        // Coordinator side: a partition is held (assigned or still revoking) by at most one member.
        var held = view.Members.SelectMany(m => m.Assigned.Concat(m.PendingRevocation).SelectMany(t => t.Partitions.Select(p => (t.Topic, p)))).ToList();
        Assert.Equal(held.Count, held.Distinct().Count());
        // Client side: among members still in the group, no two believe they own the same partition,
        // i.e. nobody was given a partition before its previous owner stopped reporting it.
        var inGroup = view.Members.Select(m => m.MemberId).ToHashSet();
        var owned = clients.Where(c => inGroup.Contains(c.Member.MemberId)).SelectMany(c => c.Member.Partitions).ToList();
        Assert.Equal(owned.Count, owned.Distinct().Count());
        // Every member is at most at the group's epoch; the target never runs ahead of the group.
        Assert.True(view.AssignmentEpoch <= view.Epoch);
        Assert.All(view.Members, m => Assert.True(m.MemberEpoch <= view.AssignmentEpoch || m.MemberEpoch == -2));
    }
}
