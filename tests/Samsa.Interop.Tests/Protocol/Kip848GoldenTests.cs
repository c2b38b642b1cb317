using System.Net;
using Confluent.Kafka;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.TestKit;
using ApiKey = Samsa.Protocol.ApiKey;

namespace Samsa.Interop.Tests.Protocol;

/// <summary>
/// librdkafka's KIP-848 ConsumerGroupHeartbeat requests, captured between a
/// Confluent consumer and librdkafka's mock cluster (which implements the new protocol) and decoded
/// by our generated messages. The proxy rewrites broker addresses in Metadata and FindCoordinator
/// responses so every connection passes through it.
/// </summary>
public sealed class Kip848GoldenTests
{
    [Fact]
    public async Task Consumer_group_heartbeat_bytes_decode()
    {
        using var mock = new MockCluster(brokers: 1);
        mock.CreateTopic("k848", 2);
        string upstream = mock.BootstrapServers.Split(',')[0];
        var upstreamEndpoint = IPEndPoint.Parse(upstream);
        int port = 0;
        await using var proxy = new FrameCaptureProxy(upstreamEndpoint, 0, (request, body) => Samsa.Interop.Tests.Groups.ProxiedCluster.RewriteAddresses(request, body, (_, _) => port));
        port = proxy.Port;
        string bootstrap = $"127.0.0.1:{port}";

        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "k848-group",
            GroupProtocol = GroupProtocol.Consumer,
            ClientId = "k848-consumer",
        }).Build())
        {
            consumer.Subscribe("k848");
            var until = DateTime.UtcNow.AddSeconds(30);
            while (consumer.Assignment.Count == 0 && DateTime.UtcNow < until)
                consumer.Consume(TimeSpan.FromMilliseconds(100));
            Assert.Equal(2, consumer.Assignment.Count);
            consumer.Close();
        }
        var heartbeats = proxy.Requests((short)ApiKey.ConsumerGroupHeartbeat)
            .Select(f => (ConsumerGroupHeartbeatRequest)KafkaFrame.ReadRequest(f.Body, out _))
            .ToList();
        Assert.NotEmpty(heartbeats);
        var first = heartbeats[0];
        Assert.Equal("k848-group", first.GroupId);
        Assert.Equal(0, first.MemberEpoch); // joining
        Assert.Contains("k848", first.SubscribedTopicNames!);
        Assert.Contains(heartbeats, h => h.MemberEpoch == -1); // leaving on close

    }
}
