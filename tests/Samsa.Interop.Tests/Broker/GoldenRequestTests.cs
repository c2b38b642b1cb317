using System.Net;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.TestKit;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// Bytes librdkafka 2.16 really sends, captured by a proxy and decoded by our generated messages:
/// every field that matters is checked against what the client was configured with.
/// </summary>
public class GoldenRequestTests
{
    [Fact]
    public async Task Confluent_requests_decode_field_by_field()
    {
        // The proxy port is advertised, so every connection the client makes goes through it.
        int proxyPort = FreePort();
        await using var broker = await TempBroker.StartAsync(o => o with { AdvertisedHost = "127.0.0.1", AdvertisedPort = proxyPort, GroupInitialRebalanceDelay = TimeSpan.Zero });
        await using var proxy = new FrameCaptureProxy(new IPEndPoint(IPAddress.Loopback, broker.Broker.Port), proxyPort);
        string bootstrap = $"127.0.0.1:{proxyPort}";

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, ClientId = "golden-producer", EnableIdempotence = true }).Build())
            await producer.ProduceAsync("golden", new Message<Null, string> { Value = "v" });

        using (var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "golden-group",
            GroupInstanceId = "golden-instance",
            ClientId = "golden-consumer",
            SessionTimeoutMs = 7000,
            MaxPollIntervalMs = 60000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build())
        {
            consumer.Subscribe("golden");
            var until = DateTime.UtcNow.AddSeconds(30);
            ConsumeResult<Null, string>? r = null;
            while (r is null && DateTime.UtcNow < until)
                r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            Assert.NotNull(r);
            consumer.Commit(r);
            consumer.Close();
        }

        short v;
        RequestHeader header;

        // A dynamic member that heartbeats quickly and leaves on close.
        using (var dynamicConsumer = new ConsumerBuilder<Null, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "golden-dynamic",
            HeartbeatIntervalMs = 100,
            SessionTimeoutMs = 6000,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build())
        {
            dynamicConsumer.Subscribe("golden");
            var until = DateTime.UtcNow.AddSeconds(30);
            while ((dynamicConsumer.Assignment.Count == 0 || !DynamicHeartbeats(proxy).Any()) && DateTime.UtcNow < until)
                dynamicConsumer.Consume(TimeSpan.FromMilliseconds(100));
            dynamicConsumer.Close();
        }
        var heartbeat = DynamicHeartbeats(proxy).First();
        Assert.True(heartbeat.GenerationId >= 1);
        var leaveFrame = proxy.Requests((short)ApiKey.LeaveGroup).Single();
        v = leaveFrame.ApiVersion;
        var leave = (LeaveGroupRequest)KafkaFrame.ReadRequest(leaveFrame.Body, out _);
        Assert.Equal("golden-dynamic", leave.GroupId);
        Assert.Equal(heartbeat.MemberId, v >= 3 ? leave.Members.Single().MemberId : leave.MemberId);
        // The leader's SyncGroup carries the assignment it computed, in the consumer protocol's bytes.
        var leaderSync = proxy.Requests((short)ApiKey.SyncGroup)
            .Select(f => (SyncGroupRequest)KafkaFrame.ReadRequest(f.Body, out _))
            .First(sg => sg.GroupId == "golden-dynamic" && sg.Assignments.Count > 0);
        var assignment = VersionedData.Read<ConsumerProtocolAssignment>(leaderSync.Assignments.Single().Assignment, out _)!;
        Assert.Equal("golden", assignment.AssignedPartitions.Single().Topic);
        Assert.Equal([0], assignment.AssignedPartitions.Single().Partitions);

        // Admin calls, through the same proxy.
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, ClientId = "golden-admin" }).Build())
        {
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "golden-admin", NumPartitions = 2, ReplicationFactor = 1 }]);
            await admin.CreatePartitionsAsync([new Confluent.Kafka.Admin.PartitionsSpecification { Topic = "golden-admin", IncreaseTo = 3 }]);
            await admin.DeleteRecordsAsync([new TopicPartitionOffset("golden", 0, 1)]);
            var groups = await admin.ListConsumerGroupsAsync();
            Assert.Contains(groups.Valid, g => g.GroupId == "golden-group");
            var described = await admin.DescribeConsumerGroupsAsync(["golden-group"]);
            Assert.Equal("golden-group", described.ConsumerGroupDescriptions.Single().GroupId);
            // The static member closed without LeaveGroup, so it still holds its place until its
            // session times out: Kafka refuses both operations, and so do we.
            var offsetsError = await Assert.ThrowsAsync<DeleteConsumerGroupOffsetsException>(() =>
                admin.DeleteConsumerGroupOffsetsAsync("golden-group", [new TopicPartition("golden", 0)]));
            Assert.Equal(Confluent.Kafka.ErrorCode.GroupSubscribedToTopic, offsetsError.Result.Partitions.Single().Error.Code);
            var deleteError = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync(["golden-group"]));
            Assert.Equal(Confluent.Kafka.ErrorCode.NonEmptyGroup, deleteError.Results.Single().Error.Code);
            var topicResource = new ConfigResource { Type = ResourceType.Topic, Name = "golden-admin" };
            await admin.DescribeConfigsAsync([topicResource]);
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [topicResource] = [new ConfigEntry { Name = "retention.ms", Value = "1000", IncrementalOperation = AlterConfigOpType.Set }],
            });
#pragma warning disable CS0618 // AlterConfigs is deprecated, and still sent by older tools: capture it too.
            await admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [topicResource] = [new ConfigEntry { Name = "retention.ms", Value = "2000" }],
            });
#pragma warning restore CS0618
            await admin.DescribeClusterAsync(); // librdkafka answers this from a Metadata request, not DescribeCluster
            await admin.DeleteTopicsAsync(["golden-admin"]);
        }

        var describeConfigs = Decode<DescribeConfigsRequest>(proxy, ApiKey.DescribeConfigs, out _, out _);
        Assert.Equal(("golden-admin", (sbyte)2), (describeConfigs.Resources.Single().ResourceName, describeConfigs.Resources.Single().ResourceType));
        var incremental = Decode<IncrementalAlterConfigsRequest>(proxy, ApiKey.IncrementalAlterConfigs, out _, out _).Resources.Single().Configs.Single();
        Assert.Equal(("retention.ms", "1000", (sbyte)0), (incremental.Name, incremental.Value, incremental.ConfigOperation));
        var alter = Decode<AlterConfigsRequest>(proxy, ApiKey.AlterConfigs, out _, out _).Resources.Single().Configs.Single();
        Assert.Equal(("retention.ms", "2000"), (alter.Name, alter.Value));
        var init = Decode<InitProducerIdRequest>(proxy, ApiKey.InitProducerId, out _, out _);
        Assert.Null(init.TransactionalId);
        var listOffsets = Decode<ListOffsetsRequest>(proxy, ApiKey.ListOffsets, out _, out _);
        Assert.Equal(-2, listOffsets.Topics.Single(t => t.Name == "golden").Partitions.Single().Timestamp); // earliest

        var createPartitions = Decode<CreatePartitionsRequest>(proxy, ApiKey.CreatePartitions, out _, out _);
        Assert.Equal(("golden-admin", 3), (createPartitions.Topics.Single().Name, createPartitions.Topics.Single().Count));
        var deleteRecords = Decode<DeleteRecordsRequest>(proxy, ApiKey.DeleteRecords, out _, out _);
        Assert.Equal(1, deleteRecords.Topics.Single().Partitions.Single().Offset);
        var create = Decode<CreateTopicsRequest>(proxy, ApiKey.CreateTopics, out _, out _);
        Assert.Equal(2, create.Topics.Single(t => t.Name == "golden-admin").NumPartitions);
        Assert.Equal(["golden-group"], Decode<DescribeGroupsRequest>(proxy, ApiKey.DescribeGroups, out _, out _).Groups);
        // librdkafka asks the KIP-848 API first and falls back to DescribeGroups for classic groups.
        Assert.Equal(["golden-group"], Decode<ConsumerGroupDescribeRequest>(proxy, ApiKey.ConsumerGroupDescribe, out _, out _).GroupIds);
        Assert.Equal(["golden-group"], Decode<DeleteGroupsRequest>(proxy, ApiKey.DeleteGroups, out _, out _).GroupsNames);
        Assert.Equal("golden-group", Decode<OffsetDeleteRequest>(proxy, ApiKey.OffsetDelete, out _, out _).GroupId);
        Decode<ListGroupsRequest>(proxy, ApiKey.ListGroups, out _, out _);
        var deleteTopics = Decode<DeleteTopicsRequest>(proxy, ApiKey.DeleteTopics, out _, out v);
        Assert.Contains("golden-admin", v >= 6 ? deleteTopics.Topics.Select(t => t.Name) : deleteTopics.TopicNames);
        Assert.NotEmpty(Decode<ProduceRequest>(proxy, ApiKey.Produce, out _, out _).TopicData);
        Assert.NotEmpty(Decode<FetchRequest>(proxy, ApiKey.Fetch, out _, out _).Topics);
        Assert.Equal("golden-group", Decode<SyncGroupRequest>(proxy, ApiKey.SyncGroup, out _, out _).GroupId);
        Assert.Equal("golden-group", Decode<OffsetFetchRequest>(proxy, ApiKey.OffsetFetch, out _, out v) is var of && v >= 8 ? of.Groups.Single().GroupId : of.GroupId);
        Assert.Equal("golden-group", Decode<FindCoordinatorRequest>(proxy, ApiKey.FindCoordinator, out _, out v) is var fc && v >= 4 ? fc.CoordinatorKeys.Single() : fc.Key);

        var apiVersions = Decode<ApiVersionsRequest>(proxy, ApiKey.ApiVersions, out header, out v);
        Assert.Equal(3, v);
        Assert.Equal("confluent-kafka-dotnet", apiVersions.ClientSoftwareName);
        Assert.StartsWith("2.16", apiVersions.ClientSoftwareVersion, StringComparison.Ordinal);

        var metadata = proxy.Requests((short)ApiKey.Metadata)
            .Select(f => (MetadataRequest)KafkaFrame.ReadRequest(f.Body, out _))
            .First(m => m.Topics?.Any(t => t.Name == "golden") == true);
        Assert.Contains(metadata.Topics!, t => t.Name == "golden");

        var join = Decode<JoinGroupRequest>(proxy, ApiKey.JoinGroup, out header, out v);
        Assert.Equal("golden-consumer", header.ClientId);
        Assert.Equal("golden-group", join.GroupId);
        Assert.Equal("golden-instance", join.GroupInstanceId);
        Assert.Equal(7000, join.SessionTimeoutMs);
        Assert.Equal(60000, join.RebalanceTimeoutMs);
        Assert.Equal("consumer", join.ProtocolType);
        var subscription = VersionedData.Read<ConsumerProtocolSubscription>(join.Protocols.First().Metadata, out _)!;
        Assert.Equal(["golden"], subscription.Topics);

        var commit = Decode<OffsetCommitRequest>(proxy, ApiKey.OffsetCommit, out _, out _);
        Assert.Equal("golden-group", commit.GroupId);
        Assert.Equal("golden-instance", commit.GroupInstanceId);
        var p = commit.Topics.Single(t => t.Name == "golden").Partitions.Single();
        Assert.Equal((0, 1L), (p.PartitionIndex, p.CommittedOffset));
    }

    private static IEnumerable<HeartbeatRequest> DynamicHeartbeats(FrameCaptureProxy proxy) =>
        proxy.Requests((short)ApiKey.Heartbeat)
            .Select(f => (HeartbeatRequest)KafkaFrame.ReadRequest(f.Body, out _))
            .Where(h => h.GroupId == "golden-dynamic");

    private static T Decode<T>(FrameCaptureProxy proxy, ApiKey key, out RequestHeader header, out short version)
        where T : class, IRequest
    {
        var frame = proxy.Requests((short)key).First();
        version = frame.ApiVersion;
        return Assert.IsType<T>(KafkaFrame.ReadRequest(frame.Body, out header));
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
