using System.Diagnostics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using static Samsa.Interop.Tests.Broker.ShareWire;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// Share groups (KIP-932) end to end on the wire, with raw-protocol share consumers: two members
/// of one group on a one-partition topic, and what each acknowledgement type, a lock running out,
/// a member leaving and a broker restart do to what they are given.
/// </summary>
public sealed class ShareGroupWireTests
{
    private const string Topic = "jobs";

    private static async Task<(TempBroker Broker, Guid TopicId)> SetUp(int records, Func<Samsa.Broker.BrokerOptions, Samsa.Broker.BrokerOptions>? configure = null)
    {
        var broker = await StartAsync(configure);
        var id = await CreateTopicAsync(broker.Bootstrap, Topic);
        if (records > 0)
            await ProduceAsync(broker.Bootstrap, Topic, 0, records);
        return (broker, id);
    }

    [Fact]
    public async Task Two_members_get_disjoint_records()
    {
        var (broker, id) = await SetUp(10);
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);

        var fa = await a.FetchAsync(maxRecords: 4);
        var fb = await b.FetchAsync(maxRecords: 4);
        var fa2 = await a.FetchAsync(maxRecords: 4);

        Assert.Equal(ErrorCode.None, fa.ErrorCode);
        Assert.Equal(30_000, fa.AcquisitionLockTimeoutMs);
        var gotA = Acquired(fa).Concat(Acquired(fa2)).ToList();
        var gotB = Acquired(fb);
        Assert.Equal(["v0", "v1", "v2", "v3"], Acquired(fa).Select(r => r.Value));
        Assert.Equal(["v4", "v5", "v6", "v7"], gotB.Select(r => r.Value));
        Assert.Equal(["v8", "v9"], Acquired(fa2).Select(r => r.Value));
        Assert.All(gotA.Concat(gotB), r => Assert.Equal(1, r.DeliveryCount));
        Assert.Empty(gotA.Select(r => r.Offset).Intersect(gotB.Select(r => r.Offset)));
    }

    [Fact]
    public async Task Accepted_records_are_not_delivered_again_released_ones_are_with_count_two_rejected_ones_never()
    {
        var (broker, id) = await SetUp(9);
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);
        Assert.Equal(9, Acquired(await a.FetchAsync()).Count);

        // Piggybacked on the next fetch: accept 0-2, release 3-5, reject 6-8. The released ones come back at once, to a, second delivery.
        var next = await a.FetchAsync(acks: [(0, 2, AcknowledgeTypeByte.Accept), (3, 5, AcknowledgeTypeByte.Release), (6, 8, AcknowledgeTypeByte.Reject)]);

        Assert.Equal(0, Partition(next).AcknowledgeErrorCode);
        Assert.Equal([(3L, "v3", (short)2), (4L, "v4", (short)2), (5L, "v5", (short)2)], Acquired(next));
        // Released again, with ShareAcknowledge this time: b gets them, third delivery; nothing else is left.
        var ack = await a.AcknowledgeAsync(3, 5, AcknowledgeTypeByte.Release);
        Assert.Equal(ErrorCode.None, ack.ErrorCode);
        Assert.Equal(ErrorCode.None, ack.Responses.Single().Partitions.Single().ErrorCode);
        var toB = await b.FetchAsync();
        Assert.Equal([(3L, "v3", (short)3), (4L, "v4", (short)3), (5L, "v5", (short)3)], Acquired(toB));
        Assert.Equal(ErrorCode.None, (await b.AcknowledgeAsync(3, 5, AcknowledgeTypeByte.Accept)).Responses.Single().Partitions.Single().ErrorCode);
        Assert.Empty(Acquired(await a.FetchAsync()));
        Assert.Empty(Acquired(await b.FetchAsync()));
        // Acknowledging what another member holds is INVALID_RECORD_STATE (offsets already done are skipped, as in Kafka).
        await ProduceAsync(broker.Bootstrap, Topic, 9, 1);
        Assert.Equal([(9L, "v9", (short)1)], Acquired(await b.FetchAsync()));
        Assert.Equal((short)ErrorCode.InvalidRecordState, Partition(await a.FetchAsync(acks: [(9, 9, AcknowledgeTypeByte.Accept)])).AcknowledgeErrorCode);
        Assert.Equal(0, Partition(await a.FetchAsync(acks: [(0, 2, AcknowledgeTypeByte.Accept)])).AcknowledgeErrorCode);
    }

    [Fact]
    public async Task A_record_whose_lock_runs_out_goes_to_the_other_member()
    {
        var (broker, id) = await SetUp(3, o => o with { ShareRecordLockDuration = TimeSpan.FromSeconds(1) });
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);
        Assert.Equal(3, Acquired(await a.FetchAsync()).Count);
        Assert.Empty(Acquired(await b.FetchAsync()));

        // b waits; the lock expiry wakes its fetch long before MaxWaitMs.
        var clock = Stopwatch.StartNew();
        var fetched = await b.FetchAsync(maxWaitMs: 20_000);

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        Assert.Equal([(0L, "v0", (short)2), (1L, "v1", (short)2), (2L, "v2", (short)2)], Acquired(fetched));
        // a's late acknowledgement is refused: the records are b's now.
        Assert.Equal((short)ErrorCode.InvalidRecordState, Partition(await a.FetchAsync(acks: [(0, 2, AcknowledgeTypeByte.Accept)])).AcknowledgeErrorCode);
    }

    [Fact]
    public async Task A_member_that_leaves_gives_back_what_it_held_when_it_closes_its_session_or_soon_after()
    {
        var (broker, id) = await SetUp(6);
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);
        using var c = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-c", Topic, id);
        Assert.Equal(2, Acquired(await a.FetchAsync(maxRecords: 2)).Count);
        Assert.Equal(2, Acquired(await c.FetchAsync(maxRecords: 2)).Count);

        // Leaving first and acknowledging after (librdkafka's order at close): the acknowledgement counts,
        // and what was not acknowledged goes back when the session closes.
        Assert.Equal(-1, (await a.LeaveAsync()).MemberEpoch);
        Assert.Equal(ErrorCode.UnknownMemberId, (await a.FetchAsync()).ErrorCode);
        var close = await a.AcknowledgeAsync(0, 0, AcknowledgeTypeByte.Accept, epoch: -1);
        Assert.Equal(ErrorCode.None, close.ErrorCode);
        Assert.Equal(ErrorCode.None, close.Responses.Single().Partitions.Single().ErrorCode);
        // Given back with its delivery counted (Kafka since KAFKA-19972; KAFKA-17541 had taken it back):
        // b gets a's record as a second delivery, the ones nobody had as first deliveries.
        Assert.Equal([(1L, "v1", (short)2), (4L, "v4", (short)1), (5L, "v5", (short)1)], Acquired(await b.FetchAsync()));

        // A member that leaves and never closes its session: its records go back after a short grace.
        Assert.Equal(-1, (await c.LeaveAsync()).MemberEpoch);
        var clock = Stopwatch.StartNew();
        var fetched = Acquired(await b.FetchAsync(maxWaitMs: 20_000));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(15));
        Assert.Equal([(2L, "v2", (short)2), (3L, "v3", (short)2)], fetched);
    }

    [Fact]
    public async Task Closing_the_session_gives_back_what_the_member_held()
    {
        var (broker, id) = await SetUp(2);
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);
        Assert.Equal(2, Acquired(await a.FetchAsync()).Count);

        var close = await a.AcknowledgeAsync(0, 0, AcknowledgeTypeByte.Accept, epoch: -1);

        Assert.Equal(ErrorCode.None, close.ErrorCode);
        Assert.Equal([(1L, "v1", (short)2)], Acquired(await b.FetchAsync())); // its first delivery counted (KAFKA-19972)
        Assert.Equal(ErrorCode.ShareSessionNotFound, (await a.FetchAsync(epoch: 1)).ErrorCode);
    }

    [Fact]
    public async Task A_restart_keeps_what_was_acknowledged_and_frees_what_was_in_flight()
    {
        var (broker, id) = await SetUp(10);
        await using var _ = broker;
        using (var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id))
        {
            Assert.Equal(10, Acquired(await a.FetchAsync()).Count);
            var acked = await a.FetchAsync(maxRecords: 0, acks: [(0, 3, AcknowledgeTypeByte.Accept), (4, 5, AcknowledgeTypeByte.Reject), (6, 6, AcknowledgeTypeByte.Release)]);
            Assert.Equal(0, Partition(acked).AcknowledgeErrorCode);
        }

        await broker.RestartAsync();

        // Membership came back from __consumer_offsets, share-partition state from __share_group_state;
        // the session did not (a new one starts at epoch 0).
        using (var c = await RawConnection.ConnectAsync(broker.Bootstrap))
        {
            var described = await c.SendAsync<ShareGroupDescribeResponse>(new ShareGroupDescribeRequest { GroupIds = ["g"] }, 1);
            Assert.Equal(["member-a"], described.Groups.Single().Members.Select(m => m.MemberId));
        }
        using var again = new ShareWireMember(await RawConnection.ConnectAsync(broker.Bootstrap), "g", "member-a", id);
        Assert.Equal(ErrorCode.ShareSessionNotFound, (await again.FetchAsync(epoch: 3)).ErrorCode);
        var fetched = Acquired(await again.FetchAsync());
        // 6 was released once (count 1 kept); 7-9 were in flight and are delivered again as if they had not been.
        Assert.Equal([(6L, "v6", (short)2), (7L, "v7", (short)1), (8L, "v8", (short)1), (9L, "v9", (short)1)], fetched);
    }

    [Fact]
    public async Task A_fetch_waits_for_records_to_be_written()
    {
        var (broker, id) = await SetUp(0);
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        Assert.Empty(Acquired(await a.FetchAsync()));

        var clock = Stopwatch.StartNew();
        var fetch = a.FetchAsync(maxWaitMs: 20_000);
        await Task.Delay(300);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 2, perBatch: 2);
        var response = await fetch;

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(["v0", "v1"], Acquired(response).Select(r => r.Value));
        // Nothing more to get: MaxWaitMs is kept.
        clock.Restart();
        Assert.Empty(Acquired(await a.FetchAsync(maxWaitMs: 400)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task No_more_records_are_in_flight_than_the_record_lock_limit_and_an_acknowledgement_makes_room()
    {
        var (broker, id) = await SetUp(12, o => o with { SharePartitionMaxRecordLocks = 5 });
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);
        Assert.Equal(5, Acquired(await a.FetchAsync()).Count);
        Assert.Empty(Acquired(await b.FetchAsync()));

        // b waits; a's acknowledgement moves the start offset and wakes it.
        var waiting = b.FetchAsync(maxWaitMs: 20_000);
        await Task.Delay(200);
        Assert.Equal(ErrorCode.None, (await a.AcknowledgeAsync(0, 4, AcknowledgeTypeByte.Accept)).ErrorCode);
        Assert.Equal(["v5", "v6", "v7", "v8", "v9"], Acquired(await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Select(r => r.Value));
    }

    [Fact]
    public async Task Version_two_can_cap_an_acquisition_at_max_records()
    {
        var broker = await StartAsync();
        await using var _ = broker;
        var id = await CreateTopicAsync(broker.Bootstrap, Topic);
        await ProduceAsync(broker.Bootstrap, Topic, 0, 10, perBatch: 10);
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);

        // Batch mode (v1) takes a whole batch past MaxRecords; record mode (v2, mode 1) stops at it.
        Assert.Equal(3, Acquired(await a.FetchAsync(maxRecords: 3, version: 2, acquireMode: 1)).Count);
        Assert.Equal(7, Acquired(await b.FetchAsync(maxRecords: 3)).Count);
        Assert.Equal(ErrorCode.InvalidRequest, (await a.FetchAsync(version: 2, acquireMode: 5)).ErrorCode);
    }

    [Fact]
    public async Task Share_sessions_are_checked_as_Kafka_checks_them()
    {
        var (broker, id) = await SetUp(2, o => o with { ShareMaxSessions = 1 });
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var b = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-b", Topic, id);

        Assert.Equal(ErrorCode.ShareSessionNotFound, (await a.FetchAsync(epoch: 1)).ErrorCode);
        Assert.Equal(ErrorCode.InvalidRequest, (await a.FetchAsync(epoch: 0, acks: [(0, 0, AcknowledgeTypeByte.Accept)])).ErrorCode);
        Assert.Equal(ErrorCode.InvalidShareSessionEpoch, (await a.AcknowledgeAsync(0, 0, AcknowledgeTypeByte.Accept, epoch: 0)).ErrorCode);
        Assert.Equal(ErrorCode.ShareSessionNotFound, (await a.AcknowledgeAsync(0, 0, AcknowledgeTypeByte.Accept, epoch: 1)).ErrorCode);
        Assert.Equal(ErrorCode.None, (await a.FetchAsync()).ErrorCode);
        Assert.Equal(ErrorCode.InvalidShareSessionEpoch, (await a.FetchAsync(epoch: 7)).ErrorCode);
        Assert.Equal(ErrorCode.None, (await a.FetchAsync()).ErrorCode);
        // group.share.max.share.sessions=1: b cannot open one while a's is open.
        Assert.Equal(ErrorCode.ShareSessionLimitReached, (await b.FetchAsync()).ErrorCode);
        // Someone who is not in the group gets nothing.
        using var stranger = new ShareWireMember(await RawConnection.ConnectAsync(broker.Bootstrap), "g", "stranger", id);
        Assert.Equal(ErrorCode.UnknownMemberId, (await stranger.FetchAsync()).ErrorCode);
        // The renew type is v2's.
        Assert.Equal((short)ErrorCode.InvalidRequest, Partition(await a.FetchAsync(acks: [(0, 0, AcknowledgeTypeByte.Renew)])).AcknowledgeErrorCode);
    }

    [Fact]
    public async Task Share_groups_are_listed_described_and_advertised_as_Kafka_does()
    {
        var (broker, id) = await SetUp(1);
        await using var _ = broker;
        using var a = await ShareWireMember.JoinAsync(broker.Bootstrap, "g", "member-a", Topic, id);
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);

        var listed = await c.SendAsync<ListGroupsResponse>(new ListGroupsRequest { TypesFilter = ["share"] }, 5);
        Assert.Equal([("g", "share", "share", "Stable")], listed.Groups.Select(g => (g.GroupId, g.GroupType, g.ProtocolType, g.GroupState)));
        var described = await c.SendAsync<ShareGroupDescribeResponse>(new ShareGroupDescribeRequest { GroupIds = ["g", "nope"] }, 1);
        var g = described.Groups[0];
        Assert.Equal((ErrorCode.None, "Stable", "simple"), (g.ErrorCode, g.GroupState, g.AssignorName));
        var member = g.Members.Single();
        Assert.Equal("member-a", member.MemberId);
        Assert.Equal([Topic], member.SubscribedTopicNames);
        Assert.Equal([(id, Topic, 0)], member.Assignment.TopicPartitions.Select(t => (t.TopicId, t.TopicName, t.Partitions.Single())));
        Assert.Equal(ErrorCode.GroupIdNotFound, described.Groups[1].ErrorCode);
        // DescribeGroups is for classic groups; ConsumerGroupDescribe for consumer groups.
        var classic = await c.SendAsync<DescribeGroupsResponse>(new DescribeGroupsRequest { Groups = ["g"] }, 6);
        Assert.Equal((ErrorCode.GroupIdNotFound, "Dead"), (classic.Groups[0].ErrorCode, classic.Groups[0].GroupState));
        var consumer = await c.SendAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeRequest { GroupIds = ["g"] }, 0);
        Assert.Equal(ErrorCode.GroupIdNotFound, consumer.Groups[0].ErrorCode);

        var versions = await c.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3);
        var share = versions.ApiKeys.Where(k => k.ApiKey is 76 or 77 or 78 or 79).ToDictionary(k => k.ApiKey, k => (k.MinVersion, k.MaxVersion));
        Assert.Equal((short)1, share[76].MaxVersion);
        Assert.Equal((short)1, share[77].MaxVersion);
        Assert.Equal((short)2, share[78].MaxVersion);
        Assert.Equal((short)2, share[79].MaxVersion);
    }

    [Fact]
    public async Task With_share_version_zero_the_share_apis_are_not_advertised()
    {
        await using var broker = await StartAsync(o => o with { ShareVersion = 0 });
        using var c = await RawConnection.ConnectAsync(broker.Bootstrap);

        var versions = await c.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3);

        Assert.DoesNotContain(versions.ApiKeys, k => k.ApiKey is 76 or 77 or 78 or 79 or 90 or 91 or 92);
    }
}
