using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Broker;

/// <summary>Confluent.Kafka (librdkafka 2.16) against a Samsa broker: admin, produce, assign-mode consume.</summary>
public class ConfluentProduceFetchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Confluent_creates_a_topic_produces_and_reads_everything_back()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "orders", NumPartitions = 3, ReplicationFactor = 1 }]);
            var meta = admin.GetMetadata("orders", TimeSpan.FromSeconds(10));
            Assert.Equal(3, meta.Topics.Single().Partitions.Count);
            var ex = await Assert.ThrowsAsync<CreateTopicsException>(() =>
                admin.CreateTopicsAsync([new TopicSpecification { Name = "orders", NumPartitions = 1, ReplicationFactor = 1 }]));
            Assert.Equal(ErrorCode.TopicAlreadyExists, ex.Results.Single().Error.Code);
        }

        var sent = new List<DeliveryResult<string, string>>();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, LingerMs = 5 }).Build())
        {
            for (int i = 0; i < 300; i++)
                sent.Add(await producer.ProduceAsync("orders", new Message<string, string> { Key = $"k{i % 17}", Value = $"v{i}" }));
        }
        Assert.All(sent, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        // Keys land on the same partition every time, and offsets are dense per partition.
        foreach (var byPartition in sent.GroupBy(d => d.Partition.Value))
            Assert.Equal(Enumerable.Range(0, byPartition.Count()).Select(i => (long)i), byPartition.Select(d => d.Offset.Value));

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.Bootstrap,
            GroupId = "unused-for-assign",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset("orders", p, Offset.Beginning)));
        var received = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow + Deadline;
        while (received.Count < 300 && DateTime.UtcNow < until)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null)
                received.Add(r);
        }
        Assert.Equal(300, received.Count);
        Assert.Equal(sent.Select(d => d.Value).Order(), received.Select(r => r.Message.Value).Order());
        foreach (var r in received)
            Assert.Equal(sent.Single(d => d.Value == r.Message.Value).TopicPartitionOffset, r.TopicPartitionOffset);
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Compressed_batches_are_stored_as_sent_and_read_back(CompressionType compression)
    {
        await using var broker = await TempBroker.StartAsync();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, CompressionType = compression, LingerMs = 20 }).Build())
        {
            var tasks = Enumerable.Range(0, 100).Select(i => producer.ProduceAsync("c", new Message<Null, string> { Value = new string('x', 100) + i })).ToList();
            await Task.WhenAll(tasks);
        }
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "g" }).Build();
        consumer.Assign(new TopicPartitionOffset("c", 0, Offset.Beginning));
        int count = 0;
        var until = DateTime.UtcNow + Deadline;
        while (count < 100 && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not null)
                count++;
        }
        Assert.Equal(100, count);
    }

    [Fact]
    public async Task Data_survives_a_broker_restart_and_offsets_continue()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
            await producer.ProduceAsync("r", new Message<Null, string> { Value = "before" });
        await broker.RestartAsync();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            var d = await producer.ProduceAsync("r", new Message<Null, string> { Value = "after" });
            Assert.Equal(1, d.Offset.Value);
        }
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "g" }).Build();
        consumer.Assign(new TopicPartitionOffset("r", 0, Offset.Beginning));
        var values = new List<string>();
        var until = DateTime.UtcNow + Deadline;
        while (values.Count < 2 && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
                values.Add(r.Message.Value);
        }
        Assert.Equal(["before", "after"], values);
    }
}

public class ConfluentHeadersAndSeekTests
{
    [Fact]
    public async Task Keys_headers_and_timestamps_survive_and_seek_starts_where_asked()
    {
        await using var broker = await TempBroker.StartAsync();
        var when = new DateTime(2031, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            for (int i = 0; i < 10; i++)
            {
                var headers = new Headers { { "trace", System.Text.Encoding.UTF8.GetBytes($"t{i}") }, { "empty", null } };
                await producer.ProduceAsync("h", new Message<string, string> { Key = $"k{i}", Value = $"v{i}", Headers = headers, Timestamp = new Timestamp(when.AddSeconds(i)) });
            }
        }
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "h" }).Build();
        consumer.Assign(new TopicPartitionOffset("h", 0, 6));
        var got = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (got.Count < 4 && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
                got.Add(r);
        }
        Assert.Equal([6L, 7L, 8L, 9L], got.Select(r => r.Offset.Value));
        var first = got[0].Message;
        Assert.Equal(("k6", "v6"), (first.Key, first.Value));
        Assert.Equal(when.AddSeconds(6), first.Timestamp.UtcDateTime);
        Assert.Equal("t6", System.Text.Encoding.UTF8.GetString(first.Headers.GetLastBytes("trace")));
        Assert.Null(first.Headers.GetLastBytes("empty"));

        consumer.Seek(new TopicPartitionOffset("h", 0, 2));
        ConsumeResult<string, string>? again = null;
        until = DateTime.UtcNow.AddSeconds(30);
        while (again is null && DateTime.UtcNow < until)
            again = consumer.Consume(TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, again!.Offset.Value);
    }
}

public class ConfluentAcksAndValidateOnlyTests
{
    [Fact]
    public async Task Acks_zero_gets_no_response_but_the_records_land_and_validate_only_creates_nothing()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "dry", NumPartitions = 2, ReplicationFactor = 1 }], new CreateTopicsOptions { ValidateOnly = true });
            Assert.DoesNotContain(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == "dry");
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "fire", NumPartitions = 1, ReplicationFactor = 1 }]);
        }
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, Acks = Acks.None }).Build())
        {
            for (int i = 0; i < 20; i++)
            {
                var d = await producer.ProduceAsync("fire", new Message<Null, string> { Value = $"f{i}" });
                Assert.Equal(Offset.Unset, d.Offset); // acks=0: the broker says nothing back
            }
            producer.Flush(TimeSpan.FromSeconds(10));
        }
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "fire" }).Build();
        var until = DateTime.UtcNow.AddSeconds(30);
        WatermarkOffsets marks;
        do
        {
            marks = consumer.QueryWatermarkOffsets(new TopicPartition("fire", 0), TimeSpan.FromSeconds(5));
        }
        while (marks.High.Value < 20 && DateTime.UtcNow < until);
        Assert.Equal(20, marks.High.Value);
    }
}
