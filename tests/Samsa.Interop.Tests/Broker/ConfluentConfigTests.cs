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

public class ConfluentTimestampAndIdempotenceTests
{
    [Fact]
    public async Task LogAppendTime_topics_stamp_the_broker_clock_and_idempotent_producers_write_each_record_once()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "stamped", NumPartitions = 1, ReplicationFactor = 1,
                Configs = new Dictionary<string, string> { ["message.timestamp.type"] = "LogAppendTime" },
            }]);
        }
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, EnableIdempotence = true, LingerMs = 5 }).Build())
        {
            var old = new Timestamp(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => producer.ProduceAsync("stamped", new Message<Null, string> { Value = $"v{i}", Timestamp = old })));
            Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), results.Select(r => r.Offset.Value).Order());
        }
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "ts" }).Build();
        consumer.Assign(new TopicPartitionOffset("stamped", 0, Offset.Beginning));
        var seen = new List<ConsumeResult<Null, string>>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (seen.Count < 50 && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
                seen.Add(r);
        }
        Assert.Equal(50, seen.Count);
        Assert.All(seen, r => Assert.Equal(TimestampType.LogAppendTime, r.Message.Timestamp.Type));
        Assert.All(seen, r => Assert.True(r.Message.Timestamp.UtcDateTime.Year >= 2026));
    }
}

public class ConfluentBrokerConfigTests
{
    [Fact]
    public async Task Group_configs_are_set_described_kept_across_a_restart_and_dropped_with_the_group()
    {
        await using var broker = await TempBroker.StartAsync();
        var group = new ConfigResource { Type = ResourceType.Group, Name = "tuned" };
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [group] = [new ConfigEntry { Name = "consumer.session.timeout.ms", Value = "50000", IncrementalOperation = AlterConfigOpType.Set }],
            });
            var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [group] = [new ConfigEntry { Name = "consumer.session.timeout.ms", Value = "5000", IncrementalOperation = AlterConfigOpType.Set }],
            }));
            Assert.Equal(ErrorCode.InvalidConfig, refused.Results.Single().Error.Code);
            Assert.Contains("group.consumer.min.session.timeout.ms", refused.Results.Single().Error.Reason, StringComparison.Ordinal);
        }

        await broker.RestartAsync();
        using var again = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        var entries = (await again.DescribeConfigsAsync([group])).Single().Entries;
        Assert.Equal("50000", entries["consumer.session.timeout.ms"].Value);
        Assert.False(entries["consumer.session.timeout.ms"].IsDefault);
        Assert.True(entries["share.record.lock.duration.ms"].IsDefault);

        // The group exists once a member has committed; deleting it takes its configs along.
        await again.CreateTopicsAsync([new TopicSpecification { Name = "tuned-input", NumPartitions = 1, ReplicationFactor = 1 }]);
        using (var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "tuned" }).Build())
            consumer.Commit([new TopicPartitionOffset("tuned-input", 0, 0)]);
        await again.DeleteGroupsAsync(["tuned"]);
        Assert.True((await again.DescribeConfigsAsync([group])).Single().Entries["consumer.session.timeout.ms"].IsDefault);
    }

    [Fact]
    public async Task Dynamic_broker_settings_change_at_run_time_and_persist()
    {
        await using var broker = await TempBroker.StartAsync();
        var brokerResource = new ConfigResource { Type = ResourceType.Broker, Name = "0" };
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [brokerResource] = [new ConfigEntry { Name = "num.partitions", Value = "3", IncrementalOperation = AlterConfigOpType.Set }],
            });
            var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [brokerResource] = [new ConfigEntry { Name = "log.dirs", Value = "/elsewhere", IncrementalOperation = AlterConfigOpType.Set }],
            }));
            Assert.Equal(ErrorCode.InvalidConfig, refused.Results.Single().Error.Code);
            var described = (await admin.DescribeConfigsAsync([brokerResource])).Single();
            Assert.Equal("3", described.Entries["num.partitions"].Value);
            Assert.True(described.Entries["log.dirs"].IsReadOnly);

            // Kafka's per-broker reconfigurable SASL keys (librdkafka's admin test sets one) are
            // accepted and described, and a malformed value is refused naming the key.
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [brokerResource] = [new ConfigEntry { Name = "sasl.kerberos.min.time.before.relogin", Value = "58000", IncrementalOperation = AlterConfigOpType.Set }],
            });
            Assert.Equal("58000", (await admin.DescribeConfigsAsync([brokerResource])).Single().Entries["sasl.kerberos.min.time.before.relogin"].Value);
            var malformed = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [brokerResource] = [new ConfigEntry { Name = "sasl.login.refresh.window.factor", Value = "2", IncrementalOperation = AlterConfigOpType.Set }],
            }));
            Assert.Equal(ErrorCode.InvalidConfig, malformed.Results.Single().Error.Code);
            Assert.Contains("sasl.login.refresh.window.factor", malformed.Results.Single().Error.Reason, StringComparison.Ordinal);
        }

        await broker.RestartAsync();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build();
        await producer.ProduceAsync("auto-created", new Message<Null, string> { Value = "x" });
        using var admin2 = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        Assert.Equal(3, admin2.GetMetadata("auto-created", TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count);
    }
}

public class RetentionTests
{
    [Fact]
    public async Task Retention_deletes_old_segments_and_consumers_see_the_new_log_start()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { SegmentBytes = 2048, RetentionCheckInterval = TimeSpan.FromMilliseconds(200) });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "aging", NumPartitions = 1, ReplicationFactor = 1,
                Configs = new Dictionary<string, string> { ["retention.ms"] = "3600000" },
            }]);
        }
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, LingerMs = 0 }).Build())
        {
            var old = new Timestamp(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            for (int i = 0; i < 20; i++)
                await producer.ProduceAsync("aging", new Message<Null, string> { Value = new string('o', 500), Timestamp = old });
            await producer.ProduceAsync("aging", new Message<Null, string> { Value = "fresh" }); // now: keeps the active segment
        }
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "aging" }).Build();
        var until = DateTime.UtcNow.AddSeconds(30);
        WatermarkOffsets marks;
        do
        {
            marks = consumer.QueryWatermarkOffsets(new TopicPartition("aging", 0), TimeSpan.FromSeconds(5));
        }
        while (marks.Low.Value == 0 && DateTime.UtcNow < until);
        Assert.True(marks.Low.Value > 0, "retention never moved the log start");
        Assert.Equal(21, marks.High.Value);
    }

    [Fact]
    public async Task Per_topic_segment_bytes_and_segment_ms_roll_that_topics_logs_and_changes_apply_at_once()
    {
        await using var broker = await TempBroker.StartAsync(); // broker-wide log.segment.bytes: 1 GiB
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        await admin.CreateTopicsAsync([
            new TopicSpecification { Name = "small", NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["segment.bytes"] = "2048" } },
            new TopicSpecification { Name = "young", NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["segment.ms"] = "1" } },
        ]);
        int Segments(string topic) => Directory.GetFiles(Path.Combine(broker.Directory, topic + "-0"), "*.log").Length;
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, LingerMs = 0 }).Build();
        for (int i = 0; i < 10; i++)
            await producer.ProduceAsync("small", new Message<Null, string> { Value = new string('s', 500) });
        Assert.True(Segments("small") >= 3, $"{Segments("small")} segment(s) of at most 2048 bytes for 10 batches of over 500");

        for (int i = 0; i < 3; i++)
        {
            await producer.ProduceAsync("young", new Message<Null, string> { Value = "y" });
            await Task.Delay(5); // the segment must age past segment.ms (1 ms); nothing else is waited for
        }
        Assert.Equal(3, Segments("young"));

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [new ConfigResource { Type = ResourceType.Topic, Name = "small" }] = [new ConfigEntry { Name = "segment.bytes", Value = "1048576", IncrementalOperation = AlterConfigOpType.Set }],
        });
        int before = Segments("small");
        for (int i = 0; i < 10; i++)
            await producer.ProduceAsync("small", new Message<Null, string> { Value = new string('s', 500) });
        Assert.Equal(before, Segments("small")); // 1 MiB now: the active segment takes them all
    }
}
