using Samsa.Broker.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

/// <summary>KIP-848 consumer groups on the coordinator, on fake time, through ConsumerGroupHeartbeat.</summary>
public sealed class ConsumerGroupTests
{
    private const string G = "cg";

    private static ConsumerGroupHarness WithTopic(int partitions, out Guid topic)
    {
        var h = new ConsumerGroupHarness();
        topic = h.Topics.Add("t", partitions);
        return h;
    }

    /// <summary>Heartbeats every member in turn until nothing changes; no partition is ever owned twice.</summary>
    private static void Settle(params ConsumerGroupHarness.Member[] members)
    {
        for (int round = 0; round < 20; round++)
        {
            var before = members.Select(m => (m.Epoch, string.Join(",", m.Partitions))).ToList();
            foreach (var m in members)
            {
                m.Beat();
                AssertDisjoint(members);
            }
            if (before.SequenceEqual(members.Select(m => (m.Epoch, string.Join(",", m.Partitions)))))
                return;
        }
        Assert.Fail("the group did not settle in 20 rounds");
    }

    private static void AssertDisjoint(IEnumerable<ConsumerGroupHarness.Member> members)
    {
        var all = members.SelectMany(m => m.Partitions).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public void Two_members_split_four_partitions_and_a_third_takes_exactly_one()
    {
        var h = WithTopic(4, out _);
        var a = h.NewMember(G, "a", ["t"]);
        var b = h.NewMember(G, "b", ["t"]);
        var first = a.Beat();
        Assert.Equal(ErrorCode.None, first.ErrorCode);
        Assert.Equal(1, first.MemberEpoch);
        Assert.Equal(1000, first.HeartbeatIntervalMs);
        Assert.Equal(4, a.Count);
        Settle(a, b);
        Assert.Equal((2, 2), (a.Count, b.Count));
        Assert.Equal("Stable", h.View(G)!.State);

        var beforeA = a.Partitions.ToHashSet();
        var beforeB = b.Partitions.ToHashSet();
        var c = h.NewMember(G, "c", ["t"]);
        c.Beat();
        Assert.Equal(0, c.Count); // its partition is still owned by a or b
        Settle(a, b, c);
        Assert.Equal(1, c.Count);
        // Exactly one partition moved, from one of the two; the other lost nothing.
        Assert.Equal(3, beforeA.Intersect(a.Partitions).Count() + beforeB.Intersect(b.Partitions).Count());
        Assert.Equal(4, a.Count + b.Count + c.Count);
        var view = h.View(G)!;
        Assert.Equal("Stable", view.State);
        Assert.Equal(3, view.Epoch);
        Assert.All(view.Members, m => Assert.Equal(3, m.MemberEpoch));
    }

    [Fact]
    public void A_partition_moves_only_after_its_owner_revoked_it()
    {
        var h = WithTopic(2, out var t);
        var a = h.NewMember(G, "a", ["t"]);
        a.Beat();
        var b = h.NewMember(G, "b", ["t"]);
        b.Beat();
        // b's partition is a's until a confirms the revocation: a gets told first.
        var told = h.Heartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = G, MemberId = "a", MemberEpoch = 1,
            TopicPartitions = [new() { TopicId = t, Partitions = [0, 1] }],
        });
        Assert.Single(told.Assignment!.TopicPartitions.Single().Partitions);
        Assert.Equal(1, told.MemberEpoch); // revoking happens at the old epoch
        Assert.Equal("UnrevokedPartitions", h.View(G)!.Members.Single(m => m.MemberId == "a").MemberState);
        b.Beat();
        Assert.Equal(0, b.Count);
        Assert.Equal("UnreleasedPartitions", h.View(G)!.Members.Single(m => m.MemberId == "b").MemberState);
        // a confirms (owns one partition now) and moves to the new epoch; then b gets the other.
        var confirmed = h.Heartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = G, MemberId = "a", MemberEpoch = 1,
            TopicPartitions = [new() { TopicId = t, Partitions = told.Assignment.TopicPartitions.Single().Partitions }],
        });
        Assert.Equal(2, confirmed.MemberEpoch);
        b.Beat();
        Assert.Equal(1, b.Count);
    }

    [Fact]
    public void A_member_that_never_revokes_is_fenced_after_its_rebalance_timeout()
    {
        var h = WithTopic(2, out var t);
        var a = h.NewMember(G, "a", ["t"]);
        a.Beat();
        var b = h.NewMember(G, "b", ["t"]);
        b.Beat();
        // a hears it must give a partition up (rebalance timeout 30 s) but keeps reporting both.
        var keep = new ConsumerGroupHeartbeatRequest { GroupId = G, MemberId = "a", MemberEpoch = 1, TopicPartitions = [new() { TopicId = t, Partitions = [0, 1] }] };
        h.Heartbeat(keep);
        for (int i = 0; i < 29; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(ErrorCode.None, h.Heartbeat(keep).ErrorCode);
            b.Beat();
        }
        Assert.Equal(0, b.Count);
        h.Time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(keep).ErrorCode);
        b.Beat();
        b.Beat();
        Assert.Equal(2, b.Count);
    }

    [Fact]
    public void A_silent_member_is_fenced_after_the_session_timeout_and_a_leaving_one_at_once()
    {
        var h = WithTopic(4, out _);
        var a = h.NewMember(G, "a", ["t"]);
        var b = h.NewMember(G, "b", ["t"]);
        var c = h.NewMember(G, "c", ["t"]);
        Settle(a, b, c);
        Assert.Equal(ErrorCode.None, c.Leave().ErrorCode);
        Settle(a, b);
        Assert.Equal((2, 2), (a.Count, b.Count));

        // b goes silent; a keeps heartbeating and gets everything once b's session expires.
        for (int i = 0; i < 9; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            a.Beat();
        }
        Assert.Equal(2, a.Count);
        h.Time.Advance(TimeSpan.FromSeconds(1.5));
        a.Beat();
        Assert.Equal(4, a.Count);
        Assert.Equal(ErrorCode.UnknownMemberId, b.Beat().ErrorCode);
        Assert.Single(h.View(G)!.Members);
    }

    [Fact]
    public void Epochs_ahead_or_behind_are_fenced_except_a_lost_response()
    {
        var h = WithTopic(2, out var t);
        var a = h.NewMember(G, "a", ["t"]);
        a.Beat();
        Assert.Equal(ErrorCode.FencedMemberEpoch, a.Beat(epoch: 7).ErrorCode);
        var b = h.NewMember(G, "b", ["t"]);
        b.Beat();
        Settle(a, b);
        int epoch = a.Epoch;
        // The previous epoch with owned partitions it still has: the response with the new epoch was lost.
        var lost = h.Heartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = G, MemberId = "a", MemberEpoch = 1,
            TopicPartitions = [new() { TopicId = t, Partitions = [.. a.Owned[t]] }],
        });
        Assert.Equal(ErrorCode.None, lost.ErrorCode);
        Assert.Equal(epoch, lost.MemberEpoch);
        // The previous epoch with a partition the member no longer has is not a lost response.
        var zombie = h.Heartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = G, MemberId = "a", MemberEpoch = 1,
            TopicPartitions = [new() { TopicId = t, Partitions = [0, 1] }],
        });
        Assert.Equal(ErrorCode.FencedMemberEpoch, zombie.ErrorCode);
        Assert.Equal(ErrorCode.UnknownMemberId, h.NewMember(G, "nobody", ["t"]).Beat(epoch: 3).ErrorCode);
    }

    [Fact]
    public void Commits_need_the_members_current_epoch()
    {
        var h = WithTopic(2, out var t);
        var a = h.NewMember(G, "a", ["t"]);
        a.Beat();
        ErrorCode Commit(string member, int epoch, short version = 9) =>
            h.Coordinator.ShardFor(G).OffsetCommit(new OffsetCommitRequest
            {
                GroupId = G, MemberId = member, GenerationIdOrMemberEpoch = epoch,
                Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 5 }] }],
            }, version).Topics[0].Partitions[0].ErrorCode;
        Assert.Equal(ErrorCode.None, Commit("a", a.Epoch));
        Assert.Equal(ErrorCode.StaleMemberEpoch, Commit("a", a.Epoch - 1));
        Assert.Equal(ErrorCode.StaleMemberEpoch, Commit("a", a.Epoch + 1));
        Assert.Equal(ErrorCode.UnsupportedVersion, Commit("a", a.Epoch, version: 8));
        Assert.Equal(ErrorCode.UnknownMemberId, Commit("zombie", a.Epoch));
        Assert.Equal(ErrorCode.UnknownMemberId, Commit("", -1)); // a simple commit while the group has members

        var b = h.NewMember(G, "b", ["t"]);
        b.Beat();
        Settle(a, b);
        Assert.Equal(ErrorCode.StaleMemberEpoch, Commit("a", 1)); // fenced epoch, even though a is still a member
        var (error, offsets) = h.Coordinator.ShardFor(G).FetchOffsets(G, [("t", [0])], "a", 1);
        Assert.Equal(ErrorCode.StaleMemberEpoch, error);
        Assert.Equal(5, h.Coordinator.ShardFor(G).FetchOffsets(G, [("t", [0])], "a", a.Epoch).Offsets.Single().Offset!.Value.Offset);
        _ = offsets;
        _ = t;
    }

    [Fact]
    public void A_static_member_away_for_a_restart_gets_its_partitions_back_and_nobody_else_moves()
    {
        var h = WithTopic(4, out _);
        var a = h.NewMember(G, "a1", ["t"], instanceId: "host-a");
        var b = h.NewMember(G, "b", ["t"]);
        Settle(a, b);
        var mine = a.Partitions.ToList();
        var theirs = b.Partitions.ToList();
        int epoch = h.View(G)!.Epoch;

        Assert.Equal(-2, a.Leave(-2).MemberEpoch);
        // While it is away, its instance id is taken: another process using it is refused.
        var impostor = h.NewMember(G, "x", ["t"], instanceId: "host-a");
        h.Time.Advance(TimeSpan.FromSeconds(3));
        b.Beat();
        Assert.Equal(theirs, b.Partitions);

        var back = h.NewMember(G, "a2", ["t"], instanceId: "host-a");
        back.Beat();
        Settle(back, b);
        Assert.Equal(mine, back.Partitions);
        Assert.Equal(theirs, b.Partitions);
        Assert.Equal(ErrorCode.UnreleasedInstanceId, impostor.Beat().ErrorCode);
        Assert.Equal(ErrorCode.FencedInstanceId, a.Beat().ErrorCode);
        Assert.Equal(epoch, h.View(G)!.Epoch); // no rebalance
    }

    [Fact]
    public void A_regex_subscription_and_a_grown_topic_are_assigned_without_any_client_asking()
    {
        var h = WithTopic(2, out _);
        var a = h.NewMember(G, "a", [], regex: "orders-.*");
        Assert.Equal(ErrorCode.InvalidRegularExpression, h.NewMember(G, "bad", [], regex: "(").Beat().ErrorCode);
        h.Topics.Add("orders-eu", 2);
        int epoch = a.Beat().MemberEpoch;
        // Kafka resolves a new regex in the background: the join answers before it is resolved,
        // and the resolution bumps the epoch so that the next heartbeat brings the topics.
        Assert.Empty(a.Partitions);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(epoch + 1, h.View(G)!.Epoch);
        a.Beat();
        Assert.Equal(["orders-eu-0", "orders-eu-1"], a.Partitions);

        h.Topics.Add("orders-us", 1);
        h.Topics.Add("other-orders-us", 1); // a whole-name match only
        h.Coordinator.TopicsChanged(["orders-us", "other-orders-us"]);
        a.Beat();
        Assert.Equal(["orders-eu-0", "orders-eu-1", "orders-us-0"], a.Partitions);

        h.Topics.Add("orders-eu", 3);
        h.Coordinator.TopicsChanged(["orders-eu"]);
        a.Beat();
        Assert.Contains("orders-eu-2", a.Partitions);
        h.Topics.Remove("orders-us");
        h.Coordinator.TopicsChanged(["orders-us"]);
        a.Beat();
        Assert.DoesNotContain("orders-us-0", a.Partitions);
    }

    [Fact]
    public void Named_topics_are_assigned_at_once_and_a_new_regex_one_heartbeat_later()
    {
        var h = WithTopic(2, out _);
        h.Topics.Add("logs-a", 1);
        var a = h.NewMember(G, "a", ["t"], regex: "logs-.*");
        a.Beat();
        Assert.Equal(["t-0", "t-1"], a.Partitions);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        a.Beat();
        Assert.Equal(["logs-a-0", "t-0", "t-1"], a.Partitions);

        // A second member bringing the same, resolved regex rebalances at once.
        var b = h.NewMember(G, "b", [], regex: "logs-.*");
        Settle(a, b);
        Assert.Equal(3, a.Count + b.Count);

        // Moving to a regex that matches nothing takes the old regex's topics away.
        int before = h.View(G)!.Epoch;
        b.Subscribe([], regex: "nothing-.*");
        b.Beat();
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Settle(a, b);
        Assert.True(h.View(G)!.Epoch > before);
        Assert.Equal(["logs-a-0", "t-0", "t-1"], a.Partitions);
        Assert.Empty(b.Partitions);
    }

    [Fact]
    public void A_regex_whose_resolution_was_not_written_is_resolved_on_a_later_heartbeat()
    {
        var h = WithTopic(1, out _);
        h.Topics.Add("logs-a", 1);
        var a = h.NewMember(G, "a", ["t"], regex: "logs-.*");
        h.Log.FailingKeyType = 16; // ConsumerGroupRegularExpression: the resolution's write fails
        a.Beat();
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        a.Beat();
        Assert.Equal(["t-0"], a.Partitions);
        Assert.DoesNotContain(h.View(G)!.Members.Single().Target, t => t.Topic == "logs-a");

        h.Log.FailingKeyType = null;
        a.Beat();
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        a.Beat();
        Assert.Equal(["logs-a-0", "t-0"], a.Partitions);
    }

    [Fact]
    public void A_restart_brings_the_group_back_and_its_members_carry_on()
    {
        var h = WithTopic(4, out var t);
        var a = h.NewMember(G, "a", ["t"]);
        var b = h.NewMember(G, "b", ["t"], instanceId: "host-b");
        Settle(a, b);
        var before = h.View(G)!;
        h.Restart();
        var after = h.View(G)!;
        Assert.Equal(before.Epoch, after.Epoch);
        Assert.Equal(before.AssignmentEpoch, after.AssignmentEpoch);
        Assert.Equal(before.Members.OrderBy(m => m.MemberId).Select(m => (m.MemberId, m.InstanceId, m.MemberEpoch, string.Join(",", m.Assigned.SelectMany(x => x.Partitions)))),
            after.Members.OrderBy(m => m.MemberId).Select(m => (m.MemberId, m.InstanceId, m.MemberEpoch, string.Join(",", m.Assigned.SelectMany(x => x.Partitions)))));
        var partitionsA = a.Partitions.ToList();
        a.Beat();
        b.Beat();
        Assert.Equal(ErrorCode.None, a.LastError);
        Assert.Equal(partitionsA, a.Partitions);
        Assert.Equal(before.Epoch, h.View(G)!.Epoch); // topics unchanged: no new epoch
        _ = t;
    }

    [Fact]
    public void A_failed_append_changes_nothing_and_the_next_try_works()
    {
        var h = WithTopic(2, out _);
        var a = h.NewMember(G, "a", ["t"]);
        h.Log.Failing = true;
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, a.Beat().ErrorCode);
        Assert.Null(h.View(G));
        h.Log.Failing = false;
        Assert.Equal(ErrorCode.None, a.Beat().ErrorCode);
        var b = h.NewMember(G, "b", ["t"]);
        var before = h.View(G);
        h.Log.Failing = true;
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, b.Beat().ErrorCode);
        Assert.Same(before, h.View(G));
        h.Log.Failing = false;
        Settle(a, b);
        Assert.Equal((1, 1), (a.Count, b.Count));
    }

    [Fact]
    public void Bad_requests_get_kafkas_errors()
    {
        var h = WithTopic(1, out _);
        ErrorCode Send(ConsumerGroupHeartbeatRequest r) => h.Heartbeat(r).ErrorCode;
        Assert.Equal(ErrorCode.InvalidRequest, Send(new() { GroupId = "", MemberId = "m", RebalanceTimeoutMs = 1, SubscribedTopicNames = ["t"], TopicPartitions = [] }));
        Assert.Equal(ErrorCode.InvalidRequest, Send(new() { GroupId = G, MemberId = "m", RebalanceTimeoutMs = -1, SubscribedTopicNames = ["t"], TopicPartitions = [] }));
        Assert.Equal(ErrorCode.InvalidRequest, Send(new() { GroupId = G, MemberId = "m", RebalanceTimeoutMs = 1, TopicPartitions = [] }));
        Assert.Equal(ErrorCode.InvalidRequest, Send(new() { GroupId = G, MemberId = "m", MemberEpoch = -3 }));
        Assert.Equal(ErrorCode.UnsupportedAssignor, Send(new() { GroupId = G, MemberId = "m", RebalanceTimeoutMs = 1, SubscribedTopicNames = ["t"], TopicPartitions = [], ServerAssignor = "magic" }));
        Assert.Equal(ErrorCode.GroupIdNotFound, Send(new() { GroupId = "nope", MemberId = "m", MemberEpoch = 3 }));

        var small = new ConsumerGroupHarness(new GroupCoordinatorOptions { OffsetsTopicPartitions = 1, ConsumerMaxSize = 1 });
        small.Topics.Add("t", 1);
        Assert.Equal(ErrorCode.None, small.NewMember(G, "a", ["t"]).Beat().ErrorCode);
        Assert.Equal(ErrorCode.GroupMaxSizeReached, small.NewMember(G, "b", ["t"]).Beat().ErrorCode);
    }

    [Fact]
    public void An_empty_classic_group_with_offsets_becomes_a_consumer_group_and_keeps_them()
    {
        var h = WithTopic(1, out _);
        var shard = h.Coordinator.ShardFor(G);
        shard.OffsetCommit(new OffsetCommitRequest
        {
            GroupId = G, GenerationIdOrMemberEpoch = -1,
            Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 42 }] }],
        }, 8);
        Assert.Equal("classic", Samsa.Broker.Groups.Runtime.GroupTypes.Name(h.View(G)!.Type));
        Assert.Equal(ErrorCode.None, h.NewMember(G, "a", ["t"]).Beat().ErrorCode);
        Assert.Equal(Samsa.Broker.Groups.Runtime.GroupType.Consumer, h.View(G)!.Type);
        Assert.Equal(42, shard.FetchOffsets(G, null).Offsets.Single().Offset!.Value.Offset);
        h.Restart();
        Assert.Equal(Samsa.Broker.Groups.Runtime.GroupType.Consumer, h.View(G)!.Type);
        Assert.Equal(42, h.Coordinator.ShardFor(G).FetchOffsets(G, null).Offsets.Single().Offset!.Value.Offset);
    }

    [Fact]
    public async Task Observers_see_every_applied_change_and_none_that_failed()
    {
        var h = WithTopic(2, out _);
        using var subscription = h.Coordinator.Events.Subscribe();
        var a = h.NewMember(G, "a", ["t"]);
        a.Beat();
        var change = await subscription.Reader.ReadAsync();
        Assert.Null(change.Before);
        Assert.Equal(("a", 2), (change.After!.Members.Single().MemberId, change.After.Members.Single().Assigned.Sum(x => x.Partitions.Count)));
        h.Log.Failing = true;
        h.NewMember(G, "b", ["t"]).Beat();
        h.Log.Failing = false;
        Assert.False(subscription.Reader.TryRead(out _));
        a.Leave();
        change = await subscription.Reader.ReadAsync();
        Assert.Empty(change.After!.Members);
        Assert.Equal("Empty", change.After.State);
    }
}
