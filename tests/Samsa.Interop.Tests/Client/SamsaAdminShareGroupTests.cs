using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Share;
using Samsa.Interop.Tests.Groups;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// A share group in a known state on our broker, for the admin client's and <c>samsa groups</c>'
/// share-group views: group "workers" on topic "jobs" (one partition, 10 records), two members
/// sharing jobs-0; "holder" acknowledged offsets 0-2 and 5 and holds 3, 4 and 6-9, so the
/// share-partition starts at 3 with 6 records not done and 1 done ahead of the start.
/// </summary>
internal sealed class ShareGroupScene : IAsyncDisposable
{
    private readonly List<KafkaShareConsumer<string, string>> _members = [];

    private ShareGroupScene(SamsaBrokerShareTarget target) => Target = target;

    public SamsaBrokerShareTarget Target { get; }

    public string Bootstrap => Target.Bootstrap;

    public static async Task<ShareGroupScene> StartAsync()
    {
        var scene = new ShareGroupScene(await SamsaBrokerShareTarget.StartAsync());
        await scene.Target.CreateTopicAsync("jobs", 1);
        await Produce(scene.Bootstrap, "jobs", 10, partition: 0);
        var holder = scene.Member("holder");
        var held = new List<ConsumeResult<string, string>>();
        await Eventually.True(async () =>
        {
            held.AddRange(await holder.PollAsync(TimeSpan.FromMilliseconds(100)));
            return held.Count >= 10;
        }, "the holder acquired every record");
        foreach (var record in held.Where(r => r.Offset is 0 or 1 or 2 or 5))
            holder.Acknowledge(record);
        Assert.All(holder.CommitSync(), r => Assert.Null(r.Value));

        // The second member joins once the holder has everything, so it gets nothing.
        var idle = scene.Member("idle");
        await Eventually.True(async () =>
        {
            Assert.Empty(await idle.PollAsync(TimeSpan.FromMilliseconds(50)));
            return idle.Assignment.Count == 1 && holder.Assignment.Count == 1;
        }, "both members are assigned jobs-0");
        return scene;
    }

    private KafkaShareConsumer<string, string> Member(string clientId)
    {
        var member = new KafkaShareConsumer<string, string>(new ShareConsumerOptions
        {
            BootstrapServers = Bootstrap,
            GroupId = "workers",
            ClientId = clientId,
            AcknowledgementMode = ShareAcknowledgementMode.Explicit,
            FetchMaxWait = TimeSpan.FromMilliseconds(100),
        }, loggerFactory: TestLogging.Factory);
        member.Subscribe("jobs");
        _members.Add(member);
        return member;
    }

    /// <summary>Closes both members (the holder's unacknowledged records go back) and waits until the group is empty.</summary>
    public async Task StopMembersAsync(KafkaAdminClient admin)
    {
        foreach (var member in _members)
            await member.DisposeAsync();
        await Eventually.True(async () => (await admin.DescribeShareGroupAsync("workers")).Members.Count == 0, "the share group is empty");
    }

    /// <summary>A new member of "workers" that polls until it has <paramref name="count"/> records, accepting them (implicit mode), then closes.</summary>
    public async Task<List<ConsumeResult<string, string>>> ConsumeAsync(int count)
    {
        await using var member = new KafkaShareConsumer<string, string>(new ShareConsumerOptions
        {
            BootstrapServers = Bootstrap,
            GroupId = "workers",
            FetchMaxWait = TimeSpan.FromMilliseconds(100),
        }, loggerFactory: TestLogging.Factory);
        member.Subscribe("jobs");
        var got = new List<ConsumeResult<string, string>>();
        await Eventually.True(async () =>
        {
            got.AddRange(await member.PollAsync(TimeSpan.FromMilliseconds(100)));
            return got.Count >= count;
        }, $"{count} records");
        member.CommitSync();
        return got;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
            await member.DisposeAsync();
        await Target.DisposeAsync();
    }
}

/// <summary>Our admin client's share-group calls against our broker: ListGroups by type, ShareGroupDescribe, DescribeShareGroupOffsets.</summary>
public sealed class SamsaAdminShareGroupTests
{
    [Fact]
    public async Task A_share_group_is_listed_by_type_and_described_with_members_start_offset_and_lag()
    {
        await using var scene = await ShareGroupScene.StartAsync();
        await using var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = scene.Bootstrap });

        var listed = Assert.Single(await admin.ListGroupsAsync(null, [GroupType.Share]));
        Assert.Equal(("workers", GroupType.Share, "Stable", "share"), (listed.GroupId, listed.Type, listed.State, listed.ProtocolType));
        Assert.Empty(await admin.ListGroupsAsync(null, [GroupType.Consumer, GroupType.Classic]));

        var group = await admin.DescribeShareGroupAsync("workers");
        Assert.Equal((GroupType.Share, "Stable", "simple", "share"), (group.Type, group.State, group.Assignor, group.ProtocolType));
        Assert.Equal(["holder", "idle"], group.Members.Select(m => m.ClientId).Order());
        Assert.All(group.Members, m =>
        {
            Assert.Equal([new SamsaTopicPartition("jobs", 0)], m.Assignment);
            Assert.Equal(["jobs"], m.SubscribedTopics);
            Assert.True(m.MemberEpoch > 0);
        });
        Assert.True(group.GroupEpoch >= group.AssignmentEpoch && group.AssignmentEpoch > 0);

        var offsets = Assert.Single(await admin.ListShareGroupOffsetsAsync("workers"));
        Assert.Equal(new SharePartitionOffsets(new SamsaTopicPartition("jobs", 0), StartOffset: 3, Lag: 6, LogEndOffset: 10), offsets);
        Assert.Equal(1, offsets.CompletedAhead);

        // A share group is not a classic or consumer group, and the other way round.
        await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.DescribeGroupAsync("workers"));
        await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.DescribeShareGroupAsync("nobody"));
        await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.ListShareGroupOffsetsAsync("nobody"));
    }

    [Fact]
    public async Task An_empty_share_groups_start_offsets_are_altered_reset_and_deleted_and_the_group_is_deleted()
    {
        await using var scene = await ShareGroupScene.StartAsync();
        await using var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = scene.Bootstrap });
        var jobs0 = new SamsaTopicPartition("jobs", 0);

        // Kafka changes only an empty group.
        await Assert.ThrowsAsync<GroupNotEmptyException>(() => admin.AlterShareGroupOffsetsAsync("workers", new Dictionary<SamsaTopicPartition, long> { [jobs0] = 8 }));
        await Assert.ThrowsAsync<GroupNotEmptyException>(() => admin.DeleteShareGroupOffsetsAsync("workers", ["jobs"]));
        await Assert.ThrowsAsync<GroupNotEmptyException>(() => admin.DeleteShareGroupsAsync(["workers"]));
        await Assert.ThrowsAsync<GroupNotEmptyException>(() => admin.ResetShareGroupOffsetsAsync("workers", new OffsetResetSpec.ToLatest(), null, execute: true));
        await scene.StopMembersAsync(admin);

        // Altered to 8: a new member gets 8 and 9 only, and the group is then done with the partition.
        await admin.AlterShareGroupOffsetsAsync("workers", new Dictionary<SamsaTopicPartition, long> { [jobs0] = 8 });
        Assert.Equal(new SharePartitionOffsets(jobs0, StartOffset: 8, Lag: 2, LogEndOffset: 10), Assert.Single(await admin.ListShareGroupOffsetsAsync("workers")));
        Assert.Equal([8L, 9], (await scene.ConsumeAsync(2)).Select(r => r.Offset).Order());
        await Eventually.True(async () => (await admin.ListShareGroupOffsetsAsync("workers")).Single().StartOffset == 10, "the start offset reached the log end");

        // A dry run plans without changing; --to-earliest then sets the start back to the log start.
        var plan = await admin.ResetShareGroupOffsetsAsync("workers", new OffsetResetSpec.ShiftBy(-3), null, execute: false);
        Assert.Equal(7, plan[jobs0]);
        Assert.Equal(10, (await admin.ListShareGroupOffsetsAsync("workers")).Single().StartOffset);
        plan = await admin.ResetShareGroupOffsetsAsync("workers", new OffsetResetSpec.ToEarliest(), ["jobs"], execute: true);
        Assert.Equal(0, plan[jobs0]);
        Assert.Equal(0, (await admin.ListShareGroupOffsetsAsync("workers")).Single().StartOffset);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => admin.AlterShareGroupOffsetsAsync("workers", new Dictionary<SamsaTopicPartition, long> { [jobs0] = -1 }));
        var unknown = await Assert.ThrowsAnyAsync<Samsa.Client.KafkaException>(() => admin.AlterShareGroupOffsetsAsync("workers", new Dictionary<SamsaTopicPartition, long> { [new SamsaTopicPartition("nothing", 0)] = 0 }));
        Assert.Equal(Samsa.Protocol.ErrorCode.UnknownTopicOrPartition, unknown.Error);

        // Deleting the topic's state forgets the partition; deleting the group removes it.
        await admin.DeleteShareGroupOffsetsAsync("workers", ["jobs"]);
        Assert.Empty(await admin.ListShareGroupOffsetsAsync("workers"));
        await admin.DeleteShareGroupsAsync(["workers"]);
        Assert.Empty(await admin.ListGroupsAsync(null, [GroupType.Share]));
        await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.DeleteShareGroupsAsync(["workers"]));
        await Assert.ThrowsAsync<GroupNotFoundException>(() => admin.AlterShareGroupOffsetsAsync("nobody", new Dictionary<SamsaTopicPartition, long> { [jobs0] = 0 }));
    }
}
