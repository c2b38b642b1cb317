using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Broker;

public class ConfluentConfigTests
{
    [Fact]
    public async Task Topic_configs_are_created_described_altered_and_enforced()
    {
        await using var broker = await TempBroker.StartAsync();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = "configured",
            NumPartitions = 1,
            ReplicationFactor = 1,
            Configs = new Dictionary<string, string> { ["retention.ms"] = "3600000", ["cleanup.policy"] = "compact" },
        }]);
        var bad = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = "bad-config", NumPartitions = 1, ReplicationFactor = 1,
            Configs = new Dictionary<string, string> { ["retention.ms"] = "soon" },
        }]));
        Assert.Equal(ErrorCode.InvalidConfig, bad.Results.Single().Error.Code);

        var resource = new ConfigResource { Type = ResourceType.Topic, Name = "configured" };
        var described = (await admin.DescribeConfigsAsync([resource])).Single();
        Assert.Equal("3600000", described.Entries["retention.ms"].Value);
        Assert.False(described.Entries["retention.ms"].IsDefault);
        Assert.Equal("compact", described.Entries["cleanup.policy"].Value);
        Assert.True(described.Entries["segment.bytes"].IsDefault);

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "max.message.bytes", Value = "200", IncrementalOperation = AlterConfigOpType.Set },
                          new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete }],
        });
        described = (await admin.DescribeConfigsAsync([resource])).Single();
        Assert.Equal("200", described.Entries["max.message.bytes"].Value);
        Assert.True(described.Entries["retention.ms"].IsDefault);

        // The lowered max.message.bytes now refuses a big batch.
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, MessageTimeoutMs = 5000 }).Build();
        var tooBig = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("configured", new Message<Null, string> { Value = new string('x', 500) }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, tooBig.Error.Code);

        var brokerConfigs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "0" }])).Single();
        Assert.Equal("1", brokerConfigs.Entries["default.replication.factor"].Value);

        // Survives a restart.
        await broker.RestartAsync();
        using var admin2 = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        Assert.Equal("200", (await admin2.DescribeConfigsAsync([resource])).Single().Entries["max.message.bytes"].Value);
    }
}
