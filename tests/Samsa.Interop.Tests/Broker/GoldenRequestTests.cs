using System.Net;
using Confluent.Kafka;
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

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, ClientId = "golden-producer" }).Build())
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

        var apiVersions = Decode<ApiVersionsRequest>(proxy, ApiKey.ApiVersions, out var header, out short v);
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
