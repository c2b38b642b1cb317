using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.WebConsole;
using Samsa.Broker.WebConsole.Timeline;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.WebConsole;

/// <summary>
/// The console's rebalance recorder on fake time, fed hand-made views as the coordinator would
/// publish them: bands per rebalance, tenures per partition, gaps where nobody consumed, and the
/// first fetch that ends a gap.
/// </summary>
public class RebalanceRecorderTests
{
    private static readonly Guid TopicId = Guid.NewGuid();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private GroupView? _last;

    [Fact]
    public void Consumer_protocol_move_leaves_a_gap_only_on_the_moved_partitions_until_the_new_owner_fetches()
    {
        var recorder = new RebalanceRecorder(_time);
        Apply(recorder, Consumer(1, "Reconciling", Member("a", assigned: [0, 1, 2, 3, 4, 5])));
        var first = Apply(recorder, Consumer(1, "Stable", Member("a", assigned: [0, 1, 2, 3, 4, 5])));
        Assert.Single(first);

        _time.Advance(TimeSpan.FromSeconds(10));
        var joined = _time.GetUtcNow();
        Apply(recorder, Consumer(2, "Reconciling", Member("a", assigned: [0, 1, 2], revoking: [3, 4, 5]), Member("b", target: [3, 4, 5])));
        _time.Advance(TimeSpan.FromSeconds(1));
        var released = _time.GetUtcNow();
        Apply(recorder, Consumer(2, "Reconciling", Member("a", assigned: [0, 1, 2]), Member("b", target: [3, 4, 5])));
        _time.Advance(TimeSpan.FromSeconds(1));
        var assigned = _time.GetUtcNow();
        var settled = Apply(recorder, Consumer(2, "Stable", Member("a", assigned: [0, 1, 2]), Member("b", assigned: [3, 4, 5])));
        var band = Assert.Single(settled);
        Assert.Equal(2, band.Epoch);
        Assert.Equal(TimeSpan.FromSeconds(2), band.Settled!.Value - band.Started);

        Assert.True(recorder.AwaitingFetch);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.False(recorder.Fetched("client-a", "/127.0.0.1", new PartitionKey("t", 3)));  // not the new owner
        Assert.True(recorder.Fetched("client-b", "/127.0.0.1", new PartitionKey("t", 3)));
        var fetched = _time.GetUtcNow();

        var t = recorder.Snapshot("g")!;
        Assert.Equal(2, t.Bands.Count);
        Assert.Equal(joined, t.Bands[1].Started);
        Assert.Equal([3, 4, 5], t.Rows.Where(r => r.Gaps.Count > 0).Select(r => r.Partition.Partition));
        var gap = Assert.Single(t.Rows.Single(r => r.Partition.Partition == 3).Gaps);
        Assert.Equal((released, assigned, fetched, "a", "b"), (gap.From, gap.Assigned!.Value, gap.Fetched!.Value, gap.FromMember, gap.ToMember));
        Assert.Null(t.Rows.Single(r => r.Partition.Partition == 4).Gaps[0].Fetched); // no fetch seen: the assignment stands in
        Assert.Equal(0, t.Colours["a"]);
        Assert.Equal(1, t.Colours["b"]);
    }

    [Fact]
    public void Eager_classic_rebalance_stops_every_partition_and_cooperative_only_the_moved_ones()
    {
        var eager = new RebalanceRecorder(_time);
        Apply(eager, Classic("range", 1, "Stable", ("a", [0, 1, 2, 3])));
        _time.Advance(TimeSpan.FromSeconds(5));
        Apply(eager, Classic("range", 1, "PreparingRebalance", ("a", [0, 1, 2, 3]), ("b", [])));
        _time.Advance(TimeSpan.FromSeconds(3));
        Apply(eager, Classic("range", 2, "CompletingRebalance", ("a", [0, 1, 2, 3]), ("b", [])));
        Apply(eager, Classic("range", 2, "Stable", ("a", [0, 1]), ("b", [2, 3])));
        var e = eager.Snapshot("g")!;
        Assert.All(e.Rows, r => Assert.Single(r.Gaps));
        Assert.Equal(TimeSpan.FromSeconds(3), e.Rows[0].Gaps[0].Assigned!.Value - e.Rows[0].Gaps[0].From);
        Assert.Equal(2, e.Bands[^1].Epoch);

        var cooperative = new RebalanceRecorder(_time);
        Apply(cooperative, Classic("cooperative-sticky", 1, "Stable", ("a", [0, 1, 2, 3])));
        Apply(cooperative, Classic("cooperative-sticky", 1, "PreparingRebalance", ("a", [0, 1, 2, 3]), ("b", [])));
        _time.Advance(TimeSpan.FromSeconds(1));
        Apply(cooperative, Classic("cooperative-sticky", 2, "Stable", ("a", [0, 1]), ("b", [])));      // first round: revoke
        Apply(cooperative, Classic("cooperative-sticky", 2, "PreparingRebalance", ("a", [0, 1]), ("b", [])));
        _time.Advance(TimeSpan.FromSeconds(1));
        Apply(cooperative, Classic("cooperative-sticky", 3, "Stable", ("a", [0, 1]), ("b", [2, 3]))); // second round: assign
        var c = cooperative.Snapshot("g")!;
        Assert.Equal([2, 3], c.Rows.Where(r => r.Gaps.Count > 0).Select(r => r.Partition.Partition));
        Assert.Equal(TimeSpan.FromSeconds(1), c.Rows[2].Gaps[0].Assigned!.Value - c.Rows[2].Gaps[0].From);
    }

    [Fact]
    public void A_classic_join_that_passes_preparing_rebalance_within_one_request_is_still_a_rebalance()
    {
        // With group.initial.rebalance.delay.ms 0 the first join goes straight to CompletingRebalance.
        var recorder = new RebalanceRecorder(_time);
        Apply(recorder, Classic("range", 1, "CompletingRebalance", ("a", [])));
        _time.Advance(TimeSpan.FromMilliseconds(40));
        var band = Assert.Single(Apply(recorder, Classic("range", 1, "Stable", ("a", [0, 1]))));
        Assert.Equal((1, TimeSpan.FromMilliseconds(40)), (band.Epoch, band.Settled!.Value - band.Started));
    }

    [Fact]
    public void Keeps_the_last_n_rebalances_and_forgets_tenures_that_ended_before_them()
    {
        var recorder = new RebalanceRecorder(_time, maxRebalances: 3);
        for (int epoch = 1; epoch <= 8; epoch++)
        {
            int owner = epoch % 2;
            Apply(recorder, Consumer(epoch, "Stable", Member(owner == 0 ? "a" : "b", assigned: [0]), Member(owner == 0 ? "b" : "a")));
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        var t = recorder.Snapshot("g")!;
        Assert.Equal([6, 7, 8], t.Bands.Select(b => b.Epoch));
        Assert.All(t.Rows.Single().Tenures, x => Assert.True(x.Ended is null || x.Ended >= t.Bands[0].Started));
        Assert.Equal(t.Bands[0].Started, t.Start);
    }

    [Fact]
    public void A_holder_that_never_fetches_stops_being_waited_for_and_a_deleted_group_is_forgotten()
    {
        var recorder = new RebalanceRecorder(_time, fetchWait: TimeSpan.FromSeconds(30));
        Apply(recorder, Consumer(1, "Stable", Member("a", assigned: [0, 1])));
        Assert.True(recorder.AwaitingFetch);
        _time.Advance(TimeSpan.FromSeconds(31));
        recorder.ExpireAwaiting(_time.GetUtcNow());
        Assert.False(recorder.AwaitingFetch);
        Assert.False(recorder.Fetched("client-a", "/127.0.0.1", new PartitionKey("t", 0)));

        recorder.Apply(new GroupChange(_last, null));
        Assert.Null(recorder.Snapshot("g"));
        Assert.Empty(recorder.Groups);
    }

    [Fact]
    public void An_open_gap_runs_until_someone_is_assigned()
    {
        var recorder = new RebalanceRecorder(_time);
        Apply(recorder, Consumer(1, "Stable", Member("a", assigned: [0])));
        _time.Advance(TimeSpan.FromSeconds(2));
        Apply(recorder, Consumer(2, "Assigning", Member("b", target: [0])));
        var gap = Assert.Single(recorder.Snapshot("g")!.Rows.Single().Gaps);
        Assert.Null(gap.Assigned);
        Assert.Null(gap.ToMember);
        Assert.Equal("a", gap.FromMember);
    }

    private IReadOnlyList<RebalanceBand> Apply(RebalanceRecorder recorder, GroupView view)
    {
        var settled = recorder.Apply(new GroupChange(_last, view));
        _last = view;
        return settled;
    }

    private static GroupView Consumer(int epoch, string state, params MemberView[] members) => new()
    {
        GroupId = "g", Type = GroupType.Consumer, State = state, Epoch = epoch, AssignmentEpoch = epoch, ProtocolType = "consumer", Protocol = "uniform", Members = members,
    };

    private static MemberView Member(string id, int[]? assigned = null, int[]? revoking = null, int[]? target = null) => new()
    {
        MemberId = id, ClientId = "client-" + id, ClientHost = "/127.0.0.1",
        Assigned = Partitions(assigned), PendingRevocation = Partitions(revoking), Target = Partitions((target ?? []).Concat(assigned ?? []).ToArray()),
    };

    private static List<TopicPartitionsView> Partitions(int[]? partitions) => partitions is { Length: > 0 } ? [new(TopicId, "t", partitions)] : [];

    private static GroupView Classic(string protocol, int generation, string state, params (string Id, int[] Partitions)[] members) => new()
    {
        GroupId = "g", Type = GroupType.Classic, State = state, Epoch = generation, AssignmentEpoch = generation, ProtocolType = "consumer", Protocol = protocol,
        Members = members.Select(m => new MemberView
        {
            MemberId = m.Id, ClientId = "client-" + m.Id, ClientHost = "/127.0.0.1", MemberEpoch = generation,
            Assignment = VersionedData.Write(new ConsumerProtocolAssignment { AssignedPartitions = [new() { Topic = "t", Partitions = [.. m.Partitions] }] }, 0),
        }).ToList(),
    };
}
