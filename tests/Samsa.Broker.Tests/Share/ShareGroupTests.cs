using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Groups.Share;
using Samsa.Broker.Tests.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Share;

/// <summary>Records what the coordinator tells the share-partition side.</summary>
internal sealed class RecordingShareListener : IShareGroupListener
{
    public List<(string Group, string Member)> Left { get; } = [];

    public List<bool> Fenced { get; } = [];

    public List<string> Deleted { get; } = [];

    public void MemberLeft(string groupId, string memberId, bool fenced)
    {
        Left.Add((groupId, memberId));
        Fenced.Add(fenced);
    }

    public void GroupDeleted(string groupId) => Deleted.Add(groupId);
}

/// <summary>A coordinator on fake time with share-group members that adopt what they are told.</summary>
internal sealed class ShareGroupHarness
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public MemoryOffsetsLog Log { get; } = new();

    public FakeTopics Topics { get; } = new();

    public RecordingShareListener Listener { get; } = new();

    public GroupCoordinatorOptions Options { get; }

    public GroupCoordinator Coordinator { get; private set; }

    public ShareGroupHarness(GroupCoordinatorOptions? options = null)
    {
        Options = options ?? new GroupCoordinatorOptions { OffsetsTopicPartitions = 3 };
        Coordinator = New();
    }

    private GroupCoordinator New() => new(Options, Time, Log, NullLogger.Instance, Topics) { ShareListener = Listener };

    /// <summary>A coordinator rebuilt from the log, as after a broker restart.</summary>
    public void Restart()
    {
        Coordinator.Dispose();
        Coordinator = New();
        Coordinator.Load(Log.Read);
    }

    public GroupView? View(string group) => Coordinator.View(group);

    public ShareGroupHeartbeatResponse Heartbeat(ShareGroupHeartbeatRequest request) =>
        Coordinator.ShardFor(request.GroupId).ShareGroupHeartbeat(request, "client", "/127.0.0.1");

    public Member NewMember(string group, string memberId, params string[] topics) => new(this, group, memberId, topics);

    internal sealed class Member(ShareGroupHarness h, string group, string memberId, string[] topics)
    {
        public string MemberId => memberId;
        public int Epoch { get; private set; }
        public Dictionary<Guid, HashSet<int>> Assigned { get; } = [];
        public bool Joined { get; private set; }
        private bool _changed;

        public void Subscribe(params string[] names)
        {
            topics = names;
            _changed = true;
        }

        /// <summary>Assigned partitions as "topic-partition" strings, sorted.</summary>
        public IReadOnlyList<string> Partitions => Assigned.SelectMany(t => t.Value.Select(p => $"{h.Topics.NameOf(t.Key)}-{p}")).Order(StringComparer.Ordinal).ToList();

        public ShareGroupHeartbeatResponse Beat(int? epoch = null)
        {
            bool first = !Joined;
            int sent = epoch ?? (first ? 0 : Epoch);
            var response = h.Heartbeat(new ShareGroupHeartbeatRequest
            {
                GroupId = group,
                MemberId = memberId,
                MemberEpoch = sent,
                // A (re)join carries everything, as a client sends it.
                SubscribedTopicNames = sent == 0 || _changed ? [.. topics] : null,
            });
            if (response.ErrorCode != ErrorCode.None)
                return response;
            Joined = true;
            _changed = false;
            Epoch = response.MemberEpoch;
            if (response.Assignment is { } assignment)
            {
                Assigned.Clear();
                foreach (var t in assignment.TopicPartitions)
                    Assigned[t.TopicId] = [.. t.Partitions];
            }
            return response;
        }

        public ShareGroupHeartbeatResponse Leave() => h.Heartbeat(new ShareGroupHeartbeatRequest { GroupId = group, MemberId = memberId, MemberEpoch = -1 });
    }
}

public class ShareGroupTests
{
    [Fact]
    public void A_joining_member_gets_every_partition_of_its_topics_and_an_epoch()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("orders", 3);
        var a = h.NewMember("g", "member-a", "orders");

        var response = a.Beat();

        Assert.Equal(ErrorCode.None, response.ErrorCode);
        Assert.Equal("member-a", response.MemberId);
        Assert.Equal(1, response.MemberEpoch);
        Assert.Equal(5000, response.HeartbeatIntervalMs);
        Assert.Equal(["orders-0", "orders-1", "orders-2"], a.Partitions);
        var view = h.View("g")!;
        Assert.Equal(GroupType.Share, view.Type);
        Assert.Equal("share", view.ProtocolType);
        Assert.Equal("Stable", view.State);
        Assert.Equal("simple", view.Protocol);
        Assert.Equal(1, view.Epoch);
        Assert.Equal(1, view.AssignmentEpoch);
        Assert.Single(view.Members);
    }

    [Fact]
    public void Two_members_on_one_partition_both_get_it()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        var b = h.NewMember("g", "b", "jobs");
        a.Beat();
        b.Beat();
        a.Beat();

        Assert.Equal(["jobs-0"], a.Partitions);
        Assert.Equal(["jobs-0"], b.Partitions);
        Assert.Equal(2, a.Epoch);
        Assert.Equal(2, b.Epoch);
    }

    [Fact]
    public void More_partitions_than_members_are_split_without_sharing()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 4);
        var a = h.NewMember("g", "a", "jobs");
        var b = h.NewMember("g", "b", "jobs");
        a.Beat();
        b.Beat();
        a.Beat();

        Assert.Equal(2, a.Partitions.Count);
        Assert.Equal(2, b.Partitions.Count);
        Assert.Empty(a.Partitions.Intersect(b.Partitions));
    }

    [Fact]
    public void A_plain_heartbeat_keeps_the_epoch_and_sends_no_assignment()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 2);
        var a = h.NewMember("g", "a", "jobs");
        a.Beat();
        int appends = h.Log.Appends;

        var response = a.Beat();

        Assert.Equal(1, response.MemberEpoch);
        Assert.Null(response.Assignment);
        Assert.Equal(appends, h.Log.Appends);
    }

    [Fact]
    public void Leaving_returns_epoch_minus_one_and_the_others_get_the_partitions()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 2);
        var a = h.NewMember("g", "a", "jobs");
        var b = h.NewMember("g", "b", "jobs");
        a.Beat();
        b.Beat();
        a.Beat();
        Assert.Single(a.Partitions);

        var left = b.Leave();

        Assert.Equal(ErrorCode.None, left.ErrorCode);
        Assert.Equal(-1, left.MemberEpoch);
        Assert.Equal([("g", "b")], h.Listener.Left);
        Assert.Equal([false], h.Listener.Fenced);
        var response = a.Beat();
        Assert.NotNull(response.Assignment);
        Assert.Equal(["jobs-0", "jobs-1"], a.Partitions);
        Assert.Equal(3, a.Epoch);
        Assert.Single(h.View("g")!.Members);
    }

    [Fact]
    public void The_last_member_leaving_empties_the_group()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        a.Beat();

        a.Leave();

        var view = h.View("g")!;
        Assert.Equal("Empty", view.State);
        Assert.Empty(view.Members);
    }

    [Fact]
    public void A_member_that_stops_heartbeating_is_fenced_after_the_session_timeout()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        var b = h.NewMember("g", "b", "jobs");
        a.Beat();
        b.Beat();

        for (int i = 0; i < 8; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(5));
            a.Beat();
        }
        Assert.Equal(2, h.View("g")!.Members.Count);
        h.Time.Advance(TimeSpan.FromSeconds(6));

        Assert.Equal([("g", "b")], h.Listener.Left);
        Assert.Equal([true], h.Listener.Fenced);
        Assert.Equal(["a"], h.View("g")!.Members.Select(m => m.MemberId));
        Assert.Equal(ErrorCode.UnknownMemberId, b.Beat().ErrorCode);
        // Fenced members rejoin with epoch 0.
        Assert.Equal(ErrorCode.None, b.Beat(epoch: 0).ErrorCode);
    }

    [Fact]
    public void Epochs_ahead_or_too_far_behind_are_fenced()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        var b = h.NewMember("g", "b", "jobs");
        a.Beat();
        b.Beat();
        a.Beat();
        Assert.Equal(2, a.Epoch);

        Assert.Equal(ErrorCode.FencedMemberEpoch, a.Beat(epoch: 3).ErrorCode);
        // The previous epoch is allowed (a lost response), an older one is not.
        Assert.Equal(ErrorCode.None, a.Beat(epoch: 1).ErrorCode);
        var c = h.NewMember("g", "c", "jobs");
        c.Beat();
        a.Beat();
        Assert.Equal(3, a.Epoch);
        Assert.Equal(ErrorCode.FencedMemberEpoch, a.Beat(epoch: 1).ErrorCode);
        // Epoch 0 is a rejoin, which an existing member may always do (KAFKA-19233), and gets its assignment.
        var rejoin = a.Beat(epoch: 0);
        Assert.Equal(ErrorCode.None, rejoin.ErrorCode);
        Assert.NotNull(rejoin.Assignment);
    }

    [Fact]
    public void Requests_Kafka_refuses_are_refused_with_its_errors()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        ShareGroupHeartbeatResponse Beat(string member, int epoch, List<string>? topics = null, string group = "g", string? rack = null) =>
            h.Heartbeat(new ShareGroupHeartbeatRequest { GroupId = group, MemberId = member, MemberEpoch = epoch, SubscribedTopicNames = topics, RackId = rack });

        Assert.Equal(ErrorCode.InvalidRequest, Beat("", 0, ["jobs"]).ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, Beat("  ", 0, ["jobs"]).ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, Beat("a", 0, ["jobs"], group: "").ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, Beat("a", 0, ["jobs"], rack: "").ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, Beat("a", 0).ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, Beat("a", 0, []).ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, Beat("a", -2, ["jobs"]).ErrorCode);
        Assert.Equal(ErrorCode.GroupIdNotFound, Beat("a", 5).ErrorCode);
        Assert.Equal(ErrorCode.GroupIdNotFound, Beat("a", -1).ErrorCode);
        Assert.Equal(ErrorCode.None, Beat("a", 0, ["jobs"]).ErrorCode);
        Assert.Equal(ErrorCode.UnknownMemberId, Beat("b", 1).ErrorCode);
        Assert.Equal(ErrorCode.UnknownMemberId, Beat("b", -1).ErrorCode);
        Assert.Null(h.View("")); // nothing was created by the refused requests
    }

    [Fact]
    public void The_group_size_is_capped_by_group_share_max_size()
    {
        var h = new ShareGroupHarness(new GroupCoordinatorOptions { OffsetsTopicPartitions = 1, ShareMaxSize = 2 });
        h.Topics.Add("jobs", 1);
        h.NewMember("g", "a", "jobs").Beat();
        var b = h.NewMember("g", "b", "jobs");
        b.Beat();

        Assert.Equal(ErrorCode.GroupMaxSizeReached, h.NewMember("g", "c", "jobs").Beat().ErrorCode);
        Assert.Equal(ErrorCode.None, b.Beat().ErrorCode);
    }

    [Fact]
    public async Task A_group_id_belongs_to_one_group_type()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var consumer = h.Coordinator.ShardFor("cg").ConsumerGroupHeartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = "cg",
            MemberId = "m",
            MemberEpoch = 0,
            RebalanceTimeoutMs = 30_000,
            SubscribedTopicNames = ["jobs"],
            TopicPartitions = [],
        }, 1, "client", "/127.0.0.1");
        Assert.Equal(ErrorCode.None, consumer.ErrorCode);
        h.NewMember("sg", "s", "jobs").Beat();

        var share = h.NewMember("cg", "s2", "jobs").Beat();
        Assert.Equal(ErrorCode.GroupIdNotFound, share.ErrorCode);
        Assert.Equal("Group cg is not a share group.", share.ErrorMessage);
        var intoShare = h.Coordinator.ShardFor("sg").ConsumerGroupHeartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = "sg",
            MemberId = "m2",
            MemberEpoch = 0,
            RebalanceTimeoutMs = 30_000,
            SubscribedTopicNames = ["jobs"],
            TopicPartitions = [],
        }, 1, "client", "/127.0.0.1");
        Assert.Equal(ErrorCode.GroupIdNotFound, intoShare.ErrorCode);
        var commit = h.Coordinator.ShardFor("sg").OffsetCommit(new OffsetCommitRequest
        {
            GroupId = "sg",
            GenerationIdOrMemberEpoch = -1,
            Topics = [new() { Name = "jobs", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 5 }] }],
        }, 8);
        Assert.Equal(ErrorCode.GroupIdNotFound, commit.Topics[0].Partitions[0].ErrorCode);
        Assert.Equal(ErrorCode.GroupIdNotFound, h.Coordinator.ShardFor("sg").FetchOffsets("sg", null).Error);
        var join = await h.Coordinator.ShardFor("sg").JoinGroup(GroupHarness.JoinRequest("sg"), 7, "client", "/127.0.0.1").Done();
        Assert.Equal(ErrorCode.GroupIdNotFound, join.ErrorCode);
        Assert.Equal(GroupType.Share, h.View("sg")!.Type);
    }

    [Fact]
    public void Membership_and_assignments_survive_a_restart()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 2);
        var a = h.NewMember("g", "a", "jobs");
        var b = h.NewMember("g", "b", "jobs");
        a.Beat();
        b.Beat();
        a.Beat();
        var before = h.View("g")!;

        h.Restart();

        var after = h.View("g")!;
        Assert.Equal(before.Epoch, after.Epoch);
        Assert.Equal(before.AssignmentEpoch, after.AssignmentEpoch);
        Assert.Equal(before.Members.OrderBy(m => m.MemberId).Select(m => (m.MemberId, m.MemberEpoch, string.Join(",", m.Assigned.SelectMany(t => t.Partitions)))),
            after.Members.OrderBy(m => m.MemberId).Select(m => (m.MemberId, m.MemberEpoch, string.Join(",", m.Assigned.SelectMany(t => t.Partitions)))));
        var response = a.Beat();
        Assert.Equal(ErrorCode.None, response.ErrorCode);
        Assert.Equal(a.Epoch, after.Members.Single(m => m.MemberId == "a").MemberEpoch);
        // Members that do not come back are fenced after a session timeout, as after a failover.
        h.Time.Advance(TimeSpan.FromSeconds(30));
        a.Beat();
        h.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(["a"], h.View("g")!.Members.Select(m => m.MemberId));
    }

    [Fact]
    public void A_topic_that_grows_bumps_the_epoch_and_members_get_the_new_partitions()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        a.Beat();

        h.Topics.Add("jobs", 3);
        h.Coordinator.TopicsChanged(["jobs"]);

        Assert.Equal(2, h.View("g")!.Epoch);
        a.Beat();
        Assert.Equal(["jobs-0", "jobs-1", "jobs-2"], a.Partitions);
    }

    [Fact]
    public void Changing_the_subscription_reassigns()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        h.Topics.Add("mail", 2);
        var a = h.NewMember("g", "a", "jobs");
        a.Beat();

        a.Subscribe("mail");
        a.Beat();

        Assert.Equal(["mail-0", "mail-1"], a.Partitions);
        Assert.Equal(["mail"], h.View("g")!.Members[0].SubscribedTopicNames);
    }

    [Fact]
    public void Only_an_empty_share_group_can_be_deleted_and_the_share_side_is_told()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        a.Beat();
        var shard = h.Coordinator.ShardFor("g");

        Assert.Equal(ErrorCode.NonEmptyGroup, shard.DeleteGroup("g"));
        a.Leave();
        Assert.Equal(ErrorCode.None, shard.DeleteGroup("g"));

        Assert.Null(h.View("g"));
        Assert.Equal(["g"], h.Listener.Deleted);
        h.Restart();
        Assert.Null(h.View("g"));
        // The id is free again.
        Assert.Equal(ErrorCode.None, h.NewMember("g", "z", "jobs").Beat().ErrorCode);
    }

    [Fact]
    public void Share_groups_are_listed_as_share_and_never_expire()
    {
        var h = new ShareGroupHarness();
        h.Topics.Add("jobs", 1);
        var a = h.NewMember("g", "a", "jobs");
        a.Beat();
        a.Leave();

        h.Time.Advance(TimeSpan.FromDays(30));
        h.Coordinator.ExpireOffsets();

        var view = h.View("g")!;
        Assert.Equal("Empty", view.State);
        Assert.Equal("share", GroupTypes.Name(view.Type));
    }

    [Fact]
    public void Turned_off_share_groups_answer_unsupported_version()
    {
        var h = new ShareGroupHarness(new GroupCoordinatorOptions { OffsetsTopicPartitions = 1, ShareGroupsEnabled = false });
        h.Topics.Add("jobs", 1);

        Assert.Equal(ErrorCode.UnsupportedVersion, h.NewMember("g", "a", "jobs").Beat().ErrorCode);
        Assert.Null(h.View("g"));
    }
}
