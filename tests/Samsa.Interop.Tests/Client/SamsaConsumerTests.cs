using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Client.Consumer;
using Samsa.Interop.Tests.Groups;
using SamsaTopicPartition = Samsa.Client.TopicPartition;
using SamsaOffset = Samsa.Client.TopicPartitionOffset;
using AutoOffsetReset = Samsa.Client.Consumer.AutoOffsetReset;
using ConsumeResult = Samsa.Client.Consumer.ConsumeResult<string, string>;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;

namespace Samsa.Interop.Tests.Client;

/// <summary>Our consumer against the Samsa broker, with data written by Confluent.Kafka's producer.</summary>
public class SamsaConsumerTests
{
    internal static Task<TempBroker> Start() =>
        TempBroker.StartAsync(o => o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(200) });

    internal static async Task CreateTopic(string bootstrap, string name, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    internal static async Task Produce(string bootstrap, string topic, int count, int? partition = null, string prefix = "m", CompressionType compression = CompressionType.None)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, CompressionType = compression, LingerMs = 5 }).Build();
        for (int i = 0; i < count; i++)
        {
            var message = new Message<string, string> { Key = $"k{i}", Value = $"{prefix}{i}" };
            if (partition is { } p)
                producer.Produce(new Confluent.Kafka.TopicPartition(topic, p), message);
            else
                producer.Produce(topic, message);
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    internal static ConsumerOptions Options(string bootstrap, string? group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        SessionTimeout = TimeSpan.FromSeconds(6),
        HeartbeatInterval = TimeSpan.FromMilliseconds(500),
    };

    internal static async Task<List<ConsumeResult>> PollUntil(KafkaConsumer<string, string> consumer, int count, int seconds = 30)
    {
        var received = new List<ConsumeResult>();
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (received.Count < count)
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Received {received.Count} of {count} records.");
            received.AddRange(await consumer.PollAsync(TimeSpan.FromMilliseconds(200)));
        }
        return received;
    }

    [Fact]
    public async Task A_group_member_reads_every_record_then_a_new_member_resumes_at_the_committed_offset()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "orders", 4);
        await Produce(broker.Bootstrap, "orders", 200);

        await using (var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "g1") with { EnableAutoCommit = false, MaxPollRecords = 50 }, loggerFactory: TestLogging.Factory))
        {
            consumer.Subscribe("orders");
            var received = await PollUntil(consumer, 200);
            Assert.Equal(200, received.Count);
            Assert.Equal(200, received.Select(r => r.Value).Distinct().Count());
            Assert.Equal(4, consumer.Assignment.Count);
            // Per partition, offsets arrive in order with no gaps.
            foreach (var p in received.GroupBy(r => r.Partition))
                Assert.Equal(Enumerable.Range(0, p.Count()).Select(i => (long)i), p.Select(r => r.Offset));
            await consumer.CommitSyncAsync();
            var committed = await consumer.CommittedAsync(consumer.Assignment);
            Assert.Equal(200, committed.Values.Sum(o => o!.Value.Offset));
        }

        await Produce(broker.Bootstrap, "orders", 20, prefix: "late");
        await using var next = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "g1"), loggerFactory: TestLogging.Factory);
        next.Subscribe("orders");
        var rest = await PollUntil(next, 20);
        Assert.All(rest, r => Assert.StartsWith("late", r.Value));
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Records_compressed_by_librdkafka_are_read(CompressionType codec)
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "z", 1);
        await Produce(broker.Bootstrap, "z", 300, compression: codec);
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, null));
        consumer.Assign([new SamsaTopicPartition("z", 0)]);
        var received = await PollUntil(consumer, 300);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"m{i}"), received.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"k{i}"), received.Select(r => r.Key));
    }

    [Fact]
    public async Task A_standalone_consumer_assigns_seeks_and_commits_without_joining()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "s", 2);
        await Produce(broker.Bootstrap, "s", 50, partition: 1);
        var tp = new SamsaTopicPartition("s", 1);
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "standalone") with { EnableAutoCommit = false });
        consumer.Assign([tp]);
        consumer.Seek(new SamsaOffset("s", 1, 40));
        var received = await PollUntil(consumer, 10);
        Assert.Equal(40, received[0].Offset);
        Assert.Equal(50, consumer.Position(tp));
        await consumer.CommitSyncAsync([new SamsaOffset("s", 1, 45)]);
        Assert.Equal(45, (await consumer.CommittedAsync([tp]))[tp]!.Value.Offset);

        consumer.SeekToBeginning([tp]);
        Assert.Equal(0, consumer.Position(tp));
        consumer.SeekToEnd([tp]);
        Assert.Equal(50, consumer.Position(tp));
        Assert.Equal(50, consumer.EndOffsets([tp])[tp]);
        Assert.Equal(0, consumer.BeginningOffsets([tp])[tp]);

        var times = consumer.OffsetsForTimes(new Dictionary<SamsaTopicPartition, DateTimeOffset> { [tp] = DateTimeOffset.UtcNow.AddHours(-1) });
        Assert.Equal(0, times[tp]!.Offset);
        Assert.Null(consumer.OffsetsForTimes(new Dictionary<SamsaTopicPartition, DateTimeOffset> { [tp] = DateTimeOffset.UtcNow.AddHours(1) })[tp]);

        // Confluent's admin client sees the standalone commit.
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        var offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("standalone", [new Confluent.Kafka.TopicPartition("s", 1)])]);
        Assert.Equal(45, offsets.Single().Partitions.Single().Offset.Value);
    }

    [Fact]
    public async Task Wakeup_from_another_thread_makes_a_blocked_poll_throw()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "w", 1);
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, null));
        consumer.Assign([new SamsaTopicPartition("w", 0)]);
        var poll = Task.Run(() => consumer.Poll(TimeSpan.FromMinutes(5)));
        await Task.Delay(300); // let the poll block; the assertion does not depend on it
        consumer.Wakeup();
        await Assert.ThrowsAsync<WakeupException>(() => poll.WaitAsync(TimeSpan.FromSeconds(10)));
        // A wakeup with no poll running makes the next poll throw, once.
        consumer.Wakeup();
        Assert.Throws<WakeupException>(() => consumer.Poll(TimeSpan.FromSeconds(1)));
        Assert.Empty(consumer.Poll(TimeSpan.FromMilliseconds(100)));
    }
}

/// <summary>What our consumer puts on the wire, captured between it and the Samsa broker.</summary>
public class SamsaConsumerWireTests
{
    [Fact]
    public async Task Fetches_use_an_incremental_session_that_lists_only_what_changed()
    {
        int proxyPort;
        using (var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            l.Start();
            proxyPort = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        }
        await using var broker = await TempBroker.StartAsync(o => o with { AdvertisedHost = "127.0.0.1", AdvertisedPort = proxyPort });
        await using var proxy = new Samsa.TestKit.FrameCaptureProxy(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, broker.Broker.Port), proxyPort);
        string bootstrap = $"127.0.0.1:{proxyPort}";
        await CreateTopic(bootstrap, "sess", 4);
        for (int round = 0; round < 10; round++)
            await Produce(bootstrap, "sess", 40, prefix: $"r{round}-"); // ten batches per partition
        // One batch per partition per fetch (the broker always returns at least one whole batch).
        await using var consumer = new KafkaConsumer<string, string>(Options(bootstrap, null) with { MaxPollRecords = 10, MaxPartitionFetchBytes = 64 });
        consumer.Assign(Enumerable.Range(0, 4).Select(p => new SamsaTopicPartition("sess", p)));
        var received = await PollUntil(consumer, 400);
        Assert.Equal(400, received.Select(r => (r.Partition, r.Offset)).Distinct().Count());

        var fetches = proxy.Requests((short)Samsa.Protocol.ApiKey.Fetch)
            .Select(f => Samsa.Protocol.Messages.KafkaFrame.ReadRequest(f.Body, out _) is Samsa.Protocol.Messages.FetchRequest r ? r : null)
            .OfType<Samsa.Protocol.Messages.FetchRequest>()
            .ToList();
        Assert.True(fetches.Count > 0 && fetches[0].SessionId == 0 && fetches[0].SessionEpoch == 0, string.Join(" ", fetches.Select(f => $"{f.SessionId}/{f.SessionEpoch}/{f.Topics.Sum(t => t.Partitions.Count)}")));
        Assert.True(fetches.Any(f => f.SessionEpoch > 0), string.Join(" ", fetches.Select(f => $"{f.SessionId}/{f.SessionEpoch}/{f.Topics.Sum(t => t.Partitions.Count)}")));
        var incremental = fetches.Where(f => f.SessionEpoch > 0).ToList();
        Assert.NotEmpty(incremental);
        Assert.All(incremental, f => Assert.NotEqual(0, f.SessionId));
        // Epochs count up within the session.
        Assert.Equal(Enumerable.Range(1, incremental.Count), incremental.Select(f => f.SessionEpoch));
        // Incremental requests carry fewer partitions than the full one on average: only those that moved.
        Assert.True(incremental.Average(f => f.Topics.Sum(t => t.Partitions.Count)) < 4);
    }
}
