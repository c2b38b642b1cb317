using Samsa.Protocol;
using Samsa.Protocol.Messages;
using static Samsa.Interop.Tests.Broker.ShareWire;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// The share-group admin APIs on the wire: DescribeShareGroupOffsets (start offsets and lag),
/// AlterShareGroupOffsets and DeleteShareGroupOffsets (empty groups only), DeleteGroups of a share group.
/// </summary>
public sealed class ShareGroupAdminWireTests
{
    private const string Topic = "jobs";

    private static async Task<DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup> Describe(RawConnection c, string group, string? topic = Topic, short version = 1)
    {
        var r = await c.SendAsync<DescribeShareGroupOffsetsResponse>(new DescribeShareGroupOffsetsRequest
        {
            Groups = [new() { GroupId = group, Topics = topic is null ? null : [new() { TopicName = topic, Partitions = [0, 1] }] }],
        }, version);
        return r.Groups.Single();
    }

    [Fact]
    public async Task Start_offsets_and_lag_are_described()
    {
        await using var broker = await StartAsync();
        var id = await CreateTopicAsync(broker.Bootstrap, Topic, partitions: 2);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 10);
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        Assert.Equal(10, Acquired(await a.FetchAsync()).Count);
        Assert.Equal(0, Partition(await a.FetchAsync(maxRecords: 0, acks: [(0, 4, AcknowledgeTypeByte.Accept), (6, 6, AcknowledgeTypeByte.Reject)])).AcknowledgeErrorCode);
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);

        var described = await Describe(c, "g");

        Assert.Equal(ErrorCode.None, described.ErrorCode);
        var topic = described.Topics.Single();
        Assert.Equal((Topic, id), (topic.TopicName, topic.TopicId));
        // Partition 0: start 5, lag 10 - 5 - 1 (offset 6 is done) = 4. Partition 1 was never fetched: no state.
        Assert.Equal([(0, 5L, 4L), (1, -1L, -1L)], topic.Partitions.Select(p => (p.PartitionIndex, p.StartOffset, p.Lag)));
        // v0 has no lag; every partition with state when no topics are named; unknown topics are not errors.
        var all = await Describe(c, "g", topic: null, version: 0);
        Assert.Equal([(Topic, 0, 5L)], all.Topics.SelectMany(t => t.Partitions.Select(p => (t.TopicName, p.PartitionIndex, p.StartOffset))));
        var unknown = await Describe(c, "g", topic: "nope");
        Assert.Equal((Guid.Empty, -1L), (unknown.Topics.Single().TopicId, unknown.Topics.Single().Partitions[0].StartOffset));
        Assert.Equal(ErrorCode.GroupIdNotFound, (await Describe(c, "not-a-group", topic: null)).ErrorCode);
    }

    [Fact]
    public async Task Offsets_of_an_empty_share_group_can_be_altered_and_deleted()
    {
        await using var broker = await StartAsync();
        var id = await CreateTopicAsync(broker.Bootstrap, Topic);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 10);
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);
        var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        Assert.Equal(10, Acquired(await a.FetchAsync()).Count);
        Task<AlterShareGroupOffsetsResponse> Alter(string group, string topic, long offset) =>
            c.SendAsync<AlterShareGroupOffsetsResponse>(new AlterShareGroupOffsetsRequest
            {
                GroupId = group,
                Topics = [new() { TopicName = topic, Partitions = [new() { PartitionIndex = 0, StartOffset = offset }] }],
            }, 0);
        Task<DeleteShareGroupOffsetsResponse> Delete(string group, string topic) =>
            c.SendAsync<DeleteShareGroupOffsetsResponse>(new DeleteShareGroupOffsetsRequest { GroupId = group, Topics = [new() { TopicName = topic }] }, 0);

        Assert.Equal(ErrorCode.NonEmptyGroup, (await Alter("g", Topic, 8)).ErrorCode);
        Assert.Equal(ErrorCode.NonEmptyGroup, (await Delete("g", Topic)).ErrorCode);
        Assert.Equal(ErrorCode.GroupIdNotFound, (await Alter("nope", Topic, 8)).ErrorCode);
        await a.AcknowledgeAsync(0, 1, AcknowledgeTypeByte.Accept, epoch: -1);
        await a.LeaveAsync();
        a.Dispose();

        var altered = await Alter("g", Topic, 8);
        Assert.Equal(ErrorCode.None, altered.ErrorCode);
        Assert.Equal(ErrorCode.None, altered.Responses.Single().Partitions.Single().ErrorCode);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await Alter("g", "nope", 1)).Responses.Single().Partitions.Single().ErrorCode);
        Assert.Equal(8L, (await Describe(c, "g")).Topics.Single().Partitions[0].StartOffset);
        using (var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id))
        {
            Assert.Equal(["v8", "v9"], Acquired(await b.FetchAsync()).Select(r => r.Value));
            await b.AcknowledgeAsync(8, 9, AcknowledgeTypeByte.Release, epoch: -1);
            await b.LeaveAsync();
        }

        var deleted = await Delete("g", Topic);
        Assert.Equal(ErrorCode.None, deleted.ErrorCode);
        Assert.Equal((Topic, id, ErrorCode.None), (deleted.Responses.Single().TopicName, deleted.Responses.Single().TopicId, deleted.Responses.Single().ErrorCode));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await Delete("g", Topic)).Responses.Single().ErrorCode);
        Assert.Equal(-1L, (await Describe(c, "g")).Topics.Single().Partitions[0].StartOffset);
        // Forgotten: a new start from share.auto.offset.reset (earliest here).
        using var d = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-d", Topic, id);
        Assert.Equal(10, Acquired(await d.FetchAsync()).Count);
    }

    [Fact]
    public async Task Deleting_an_empty_share_group_deletes_its_state()
    {
        await using var broker = await StartAsync();
        var id = await CreateTopicAsync(broker.Bootstrap, Topic);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 4);
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);
        var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        Assert.Equal(4, Acquired(await a.FetchAsync()).Count);
        await a.AcknowledgeAsync(0, 3, AcknowledgeTypeByte.Accept);
        Task<DeleteGroupsResponse> DeleteGroup() => c.SendAsync<DeleteGroupsResponse>(new DeleteGroupsRequest { GroupsNames = ["g"] }, 2);

        Assert.Equal(ErrorCode.NonEmptyGroup, (await DeleteGroup()).Results.Single().ErrorCode);
        await a.LeaveAsync();
        a.Dispose();
        Assert.Equal(ErrorCode.None, (await DeleteGroup()).Results.Single().ErrorCode);

        var described = await c.SendAsync<ShareGroupDescribeResponse>(new ShareGroupDescribeRequest { GroupIds = ["g"] }, 1);
        Assert.Equal(ErrorCode.GroupIdNotFound, described.Groups.Single().ErrorCode);
        Assert.Equal(-1L, (await Describe(c, "g")).Topics.Single().Partitions[0].StartOffset);
        await broker.RestartAsync();
        using var c2 = await RawConnection.ConnectAsync(broker.Bootstrap);
        Assert.Equal(-1L, (await Describe(c2, "g")).Topics.Single().Partitions[0].StartOffset);
        // The group starts over: everything is delivered again.
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);
        Assert.Equal(4, Acquired(await b.FetchAsync()).Count);
    }

    [Fact]
    public async Task A_deleted_topic_takes_its_share_state_with_it()
    {
        await using var broker = await StartAsync();
        var id = await CreateTopicAsync(broker.Bootstrap, Topic);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 3);
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);
        using (var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id))
        {
            Assert.Equal(3, Acquired(await a.FetchAsync()).Count);
            await a.AcknowledgeAsync(0, 2, AcknowledgeTypeByte.Accept, epoch: -1);
            await a.LeaveAsync();
        }
        Assert.Equal(3L, (await Describe(c, "g")).Topics.Single().Partitions[0].StartOffset);

        var deleted = await c.SendAsync<DeleteTopicsResponse>(new DeleteTopicsRequest { TopicNames = [Topic], TimeoutMs = 10_000 }, 5);
        Assert.Equal(ErrorCode.None, deleted.Responses.Single().ErrorCode);
        var again = await CreateTopicAsync(broker.Bootstrap, Topic);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 2);

        Assert.NotEqual(id, again);
        Assert.Equal(-1L, (await Describe(c, "g")).Topics.Single().Partitions[0].StartOffset);
        await broker.RestartAsync();
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, again);
        Assert.Equal(["v0", "v1"], Acquired(await b.FetchAsync()).Select(r => r.Value));
    }

    [Fact]
    public async Task The_offset_apis_are_advertised()
    {
        await using var broker = await StartAsync();
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);

        var versions = (await c.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3)).ApiKeys.ToDictionary(k => k.ApiKey, k => (k.MinVersion, k.MaxVersion));

        Assert.Equal(((short)0, (short)1), versions[90]);
        Assert.Equal(((short)0, (short)0), versions[91]);
        Assert.Equal(((short)0, (short)0), versions[92]);
    }
}
