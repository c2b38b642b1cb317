using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Interop.Tests.Groups;

namespace Samsa.Interop.Tests.Edges;

/// <summary>Kafka's topic configs are all accepted and range-checked (librdkafka test 0077); the cleaner runs on its own backoff.</summary>
public class TopicConfigEdgeTests
{
    // One valid, non-default value for every topic config of Kafka 4.0's LogConfig (and 3.x's removed three).
    private static readonly Dictionary<string, string> AllKafkaTopicConfigs = new()
    {
        ["cleanup.policy"] = "compact,delete", ["retention.ms"] = "-1", ["retention.bytes"] = "1000000",
        ["segment.bytes"] = "1048576", ["segment.ms"] = "3600000", ["index.interval.bytes"] = "1024",
        ["max.message.bytes"] = "2000000", ["message.timestamp.type"] = "LogAppendTime", ["delete.retention.ms"] = "1000",
        ["min.compaction.lag.ms"] = "10", ["max.compaction.lag.ms"] = "60000", ["min.cleanable.dirty.ratio"] = "0.1",
        ["flush.messages"] = "1000", ["flush.ms"] = "1000", ["min.insync.replicas"] = "1",
        ["unclean.leader.election.enable"] = "true", ["compression.type"] = "zstd", ["compression.gzip.level"] = "9",
        ["compression.lz4.level"] = "17", ["compression.zstd.level"] = "-5", ["segment.jitter.ms"] = "100",
        ["segment.index.bytes"] = "4096", ["file.delete.delay.ms"] = "0", ["preallocate"] = "true",
        ["message.timestamp.before.max.ms"] = "86400000", ["message.timestamp.after.max.ms"] = "3600000",
        ["leader.replication.throttled.replicas"] = "0:0", ["follower.replication.throttled.replicas"] = "*",
        ["remote.storage.enable"] = "false", ["local.retention.ms"] = "-2", ["local.retention.bytes"] = "-2",
        ["remote.log.copy.disable"] = "false", ["remote.log.delete.on.disable"] = "false",
        ["message.format.version"] = "2.8-IV1", ["message.timestamp.difference.max.ms"] = "1000", ["message.downconversion.enable"] = "false",
    };

    [Fact]
    public async Task Every_kafka_topic_config_is_accepted_and_out_of_range_values_are_invalid_config()
    {
        await using var broker = await TempBroker.StartAsync();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "all", NumPartitions = 1, ReplicationFactor = 1, Configs = AllKafkaTopicConfigs }]);
        var described = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "all" }])).Single().Entries;
        foreach (var (key, value) in AllKafkaTopicConfigs)
            Assert.Equal((key, value), (key, described[key].Value));

        foreach (var (key, bad) in new[] { ("file.delete.delay.ms", "-1"), ("max.compaction.lag.ms", "0"), ("compression.gzip.level", "10"), ("segment.index.bytes", "x"), ("preallocate", "yes"), ("no.such.config", "1") })
        {
            var e = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "bad", NumPartitions = 1, ReplicationFactor = 1, Configs = new() { [key] = bad },
            }]));
            Assert.Equal(ErrorCode.InvalidConfig, e.Results.Single().Error.Code);
            Assert.Contains(key, e.Results.Single().Error.Reason, StringComparison.Ordinal);
        }

        // AlterConfigs takes them too.
        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>> { [new ConfigResource { Type = ResourceType.Topic, Name = "all" }] = new List<ConfigEntry>
        {
            new() { Name = "file.delete.delay.ms", Value = "5", IncrementalOperation = AlterConfigOpType.Set },
        } });
        described = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "all" }])).Single().Entries;
        Assert.Equal("5", described["file.delete.delay.ms"].Value);
    }

    [Fact]
    public async Task The_cleaner_compacts_on_its_backoff_not_on_the_retention_timer()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            RetentionCheckInterval = TimeSpan.FromHours(1),
            LogCleanerBackoff = TimeSpan.FromMilliseconds(100),
        });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "table", NumPartitions = 1, ReplicationFactor = 1,
                Configs = new() { ["cleanup.policy"] = "compact", ["segment.bytes"] = "1024" },
            }]);
        }
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, LingerMs = 0 }).Build())
        {
            for (int i = 0; i < 100; i++)
                await producer.ProduceAsync("table", new Message<string, string> { Key = "k" + (i % 5), Value = new string('v', 100) });
        }
        await Eventually.True(() => Count(broker.Bootstrap, "table") < 40, "the cleaner removed most of the 100 superseded records");
    }

    private static int Count(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "count", EnablePartitionEof = true, EnableAutoCommit = false }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        int count = 0;
        while (consumer.Consume(TimeSpan.FromSeconds(10)) is { } result && !result.IsPartitionEOF)
            count++;
        return count;
    }
}
