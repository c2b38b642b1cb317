using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Client.Admin;
using Samsa.Client.Errors;
using Samsa.Interop.Tests.Groups;
using Samsa.Protocol;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using GroupType = Samsa.Client.Admin.GroupType;
using STopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// Our admin client on a broker with a KIP-848 consumer group (a Confluent.Kafka consumer with
/// GroupProtocol.Consumer) next to a classic one: types in listings, ConsumerGroupDescribe with
/// the DescribeGroups fallback, and what Confluent's own admin client sees of the same groups.
/// </summary>
public class SamsaAdminGroupTypesTests
{
    /// <summary>Heartbeats every second (librdkafka times a heartbeat out after one interval: not lower).</summary>
    internal static Task<TempBroker> StartFast() => TempBroker.StartAsync(o => o with
    {
        GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100),
        ConsumerGroupMinHeartbeatInterval = TimeSpan.FromSeconds(1),
        ConsumerGroupHeartbeatInterval = TimeSpan.FromSeconds(1),
    });

    [Fact]
    public async Task Consumer_and_classic_groups_are_listed_and_described_with_their_types()
    {
        await using var broker = await StartFast();
        await using var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = broker.Bootstrap });
        await CreateTopic(broker.Bootstrap, "kt", 3);
        await Produce(broker.Bootstrap, "kt", 30);

        var modern = new ConfluentMember(broker.Bootstrap, "modern", "kt", protocol: GroupProtocol.Consumer, clientId: "modern-1");
        var classic = new ConfluentMember(broker.Bootstrap, "old-school", "kt", clientId: "classic-1");
        try
        {
            await Eventually.True(() => modern.Received.Count == 30 && classic.Received.Count == 30, "both groups read everything");
            modern.Commit(new Confluent.Kafka.TopicPartitionOffset("kt", 0, 4));

            // The consumer group settles: its one member owns every partition at the group's epoch.
            GroupDescription group = null!;
            await Eventually.True(() =>
            {
                group = admin.DescribeGroupAsync("modern").GetAwaiter().GetResult();
                return group.State == "Stable" && group.Members.Count == 1 && group.Members[0].Assignment.Count == 3;
            }, "the consumer group is stable with one member owning 3 partitions");
            Assert.Equal(GroupType.Consumer, group.Type);
            Assert.Equal("consumer", group.ProtocolType);
            Assert.Equal("uniform", group.Assignor);
            Assert.Equal(group.Assignor, group.Protocol);
            Assert.True(group.GroupEpoch >= 1, $"group epoch {group.GroupEpoch}");
            Assert.Equal(group.GroupEpoch, group.AssignmentEpoch);
            var member = group.Members.Single();
            Assert.Equal("modern-1", member.ClientId);
            Assert.Null(member.GroupInstanceId);
            Assert.Equal(group.AssignmentEpoch, member.MemberEpoch);
            STopicPartition[] all = [new("kt", 0), new("kt", 1), new("kt", 2)];
            Assert.Equal(all, member.Assignment);
            Assert.Equal(all, member.TargetAssignment);
            Assert.Equal(["kt"], member.SubscribedTopics);
            Assert.Null(member.SubscribedTopicRegex);
            Assert.Equal(modern.Assigned.Order(), member.Assignment.Select(p => p.Partition));
            // Lag works for consumer groups too (it reads the members' assignments).
            var lag = await admin.ListGroupOffsetsAsync("modern");
            Assert.Equal((4L, 10L), (lag[0].Committed!.Value, lag[0].LogEndOffset));
            Assert.Equal(3, lag.Count);

            // The classic group still comes back from DescribeGroups, now with its type and subscription.
            GroupDescription old = null!;
            await Eventually.True(() =>
            {
                old = admin.DescribeGroupAsync("old-school").GetAwaiter().GetResult();
                return old.State == "Stable" && old.Members.Count == 1;
            }, "the classic group is stable");
            Assert.Equal(GroupType.Classic, old.Type);
            Assert.Equal(("consumer", "range"), (old.ProtocolType, old.Protocol));
            Assert.Equal((null, null), (old.GroupEpoch, old.AssignmentEpoch));
            var classicMember = old.Members.Single();
            Assert.Equal("classic-1", classicMember.ClientId);
            Assert.Equal(all, classicMember.Assignment);
            Assert.Equal(["kt"], classicMember.SubscribedTopics);
            Assert.Null(classicMember.MemberEpoch);
            Assert.Null(classicMember.TargetAssignment);

            // Listing: types and states, filtered on the broker.
            var listed = (await admin.ListGroupsAsync()).ToDictionary(g => g.GroupId);
            Assert.Equal((GroupType.Consumer, "Stable", "consumer"), (listed["modern"].Type, listed["modern"].State, listed["modern"].ProtocolType));
            Assert.Equal((GroupType.Classic, "Stable", "consumer"), (listed["old-school"].Type, listed["old-school"].State, listed["old-school"].ProtocolType));
            Assert.Equal(["modern"], (await admin.ListGroupsAsync(null, [GroupType.Consumer])).Select(g => g.GroupId));
            Assert.Equal(["old-school"], (await admin.ListGroupsAsync(null, [GroupType.Classic])).Select(g => g.GroupId));
            Assert.Equal(["modern", "old-school"], (await admin.ListGroupsAsync(["Stable"], [GroupType.Classic, GroupType.Consumer])).Select(g => g.GroupId));
            Assert.Empty(await admin.ListGroupsAsync(["Empty"], [GroupType.Consumer]));
            await Assert.ThrowsAsync<ArgumentException>(() => admin.ListGroupsAsync(null, [GroupType.Unknown]));

            // A broker before KIP-848 (no ConsumerGroupDescribe, ListGroups v4): no types, classic groups still described.
            await using var older = new KafkaAdminClient(new AdminOptions
            {
                BootstrapServers = broker.Bootstrap,
                MaxApiVersions = new Dictionary<ApiKey, short> { [ApiKey.ConsumerGroupDescribe] = -1, [ApiKey.ListGroups] = 4 },
            });
            Assert.All(await older.ListGroupsAsync(), g => Assert.Equal(GroupType.Unknown, g.Type));
            Assert.Contains(await older.ListGroupsAsync(["Stable"]), g => g.GroupId == "old-school");
            await Assert.ThrowsAsync<UnsupportedVersionException>(() => older.ListGroupsAsync(null, [GroupType.Consumer]));
            var fallback = await older.DescribeGroupAsync("old-school");
            Assert.Equal((GroupType.Classic, "range"), (fallback.Type, fallback.Protocol));
            Assert.Equal(all, fallback.Members.Single().Assignment);
            // Without ConsumerGroupDescribe a consumer group is only DescribeGroups' "not a classic group".
            await Assert.ThrowsAsync<GroupNotFoundException>(() => older.DescribeGroupAsync("modern"));
            await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.DescribeGroupAsync("no-such-group"));
        }
        finally
        {
            modern.Dispose();
            classic.Dispose();
        }

        // Closed, the consumer member leaves: the group is Empty, so its offsets can be reset and it can be deleted.
        await Eventually.True(() => admin.DescribeGroupAsync("modern").GetAwaiter().GetResult() is { State: "Empty", Members.Count: 0 }, "the consumer group is empty");
        var reset = await admin.ResetGroupOffsetsAsync("modern", new OffsetResetSpec.ToEarliest(), ["kt"], execute: true);
        Assert.Equal(3, reset.Count);
        Assert.All(await admin.ListGroupOffsetsAsync("modern"), p => Assert.Equal((long?)0, p.Committed));
        await admin.DeleteGroupsAsync(["modern"]);
        Assert.DoesNotContain(await admin.ListGroupsAsync(), g => g.GroupId == "modern");
        await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.DescribeGroupAsync("modern"));
    }

    [Fact]
    public async Task Confluent_admin_sees_the_consumer_group_type_and_members()
    {
        await using var broker = await StartFast();
        await CreateTopic(broker.Bootstrap, "ct", 2);
        await Produce(broker.Bootstrap, "ct", 10);
        using var theirs = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        var modern = new ConfluentMember(broker.Bootstrap, "modern", "ct", protocol: GroupProtocol.Consumer, clientId: "modern-1");
        var classic = new ConfluentMember(broker.Bootstrap, "old-school", "ct", clientId: "classic-1");
        try
        {
            await Eventually.True(() => modern.Received.Count == 10 && classic.Received.Count == 10, "both groups read everything");
            await Eventually.True(() => modern.Assigned.Count == 2, "the consumer member owns both partitions");

            var listed = (await theirs.ListConsumerGroupsAsync()).Valid.ToDictionary(g => g.GroupId);
            Assert.Equal(ConsumerGroupType.Consumer, listed["modern"].Type);
            Assert.Equal(ConsumerGroupType.Classic, listed["old-school"].Type);
            Assert.Equal(ConsumerGroupState.Stable, listed["modern"].State);
            var onlyConsumer = await theirs.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { MatchTypes = [ConsumerGroupType.Consumer] });
            Assert.Equal(["modern"], onlyConsumer.Valid.Select(g => g.GroupId));

            var described = (await theirs.DescribeConsumerGroupsAsync(["modern", "old-school"])).ConsumerGroupDescriptions.ToDictionary(g => g.GroupId);
            var group = described["modern"];
            Assert.Equal(ConsumerGroupType.Consumer, group.GroupType);
            Assert.Equal(ConsumerGroupState.Stable, group.State);
            Assert.Equal("uniform", group.PartitionAssignor);
            var member = Assert.Single(group.Members);
            Assert.Equal("modern-1", member.ClientId);
            Assert.Equal([0, 1], member.Assignment.TopicPartitions.Where(p => p.Topic == "ct").Select(p => p.Partition.Value).Order());
            Assert.Equal([0, 1], member.TargetAssignment.TopicPartitions.Where(p => p.Topic == "ct").Select(p => p.Partition.Value).Order());
            Assert.Equal(ConsumerGroupType.Classic, described["old-school"].GroupType);
            Assert.Equal("classic-1", Assert.Single(described["old-school"].Members).ClientId);
        }
        finally
        {
            modern.Dispose();
            classic.Dispose();
        }
    }
}
