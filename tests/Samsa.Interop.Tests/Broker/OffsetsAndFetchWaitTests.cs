using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Confluent.Kafka;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Interop.Tests.Broker;

public class OffsetsAndFetchWaitTests
{
    [Fact]
    public async Task Commits_for_a_topic_or_partition_that_does_not_exist_are_refused_and_the_rest_stored()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new Confluent.Kafka.AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "real", NumPartitions = 1, ReplicationFactor = 1 }]);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "ghosts" }).Build();
        // librdkafka reports the commit's first partition error (Kafka answers these as we do).
        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.ThrowsAny<KafkaException>(() => consumer.Commit([new TopicPartitionOffset("no-such-topic", 0, 5)])).Error.Code);
        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.ThrowsAny<KafkaException>(() => consumer.Commit([new TopicPartitionOffset("real", 3, 5)])).Error.Code);
        Assert.ThrowsAny<KafkaException>(() => consumer.Commit([new TopicPartitionOffset("real", 0, 5), new TopicPartitionOffset("no-such-topic", 0, 5)]));
        Assert.Equal(5, consumer.Committed([new TopicPartition("real", 0)], TimeSpan.FromSeconds(10)).Single().Offset.Value);
    }

    [Fact]
    public async Task Offsets_for_times_finds_the_first_record_at_or_after_a_timestamp()
    {
        await using var broker = await TempBroker.StartAsync();
        var start = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, LingerMs = 50 }).Build())
        {
            // One batch holding records one minute apart.
            var sends = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync("times", new Message<Null, string>
            {
                Value = $"m{i}",
                Timestamp = new Timestamp(start.AddMinutes(i)),
            })).ToList();
            await Task.WhenAll(sends);
        }
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "t" }).Build();
        var found = consumer.OffsetsForTimes([new TopicPartitionTimestamp("times", 0, new Timestamp(start.AddMinutes(4).AddSeconds(30)))], TimeSpan.FromSeconds(10));
        Assert.Equal(5, found.Single().Offset.Value);
        var beyond = consumer.OffsetsForTimes([new TopicPartitionTimestamp("times", 0, new Timestamp(start.AddHours(1)))], TimeSpan.FromSeconds(10));
        Assert.Equal(Offset.End, beyond.Single().Offset);
    }

    [Fact]
    public async Task A_waiting_fetch_returns_as_soon_as_a_produce_brings_data()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "wait", NumPartitions = 1, ReplicationFactor = 1 }]);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", broker.Broker.Port);
        var stream = client.GetStream();
        using (var buffer = new PooledBufferWriter())
        {
            // fetch.max.wait.ms = 20 s: the answer must come from the produce, not the timeout.
            KafkaFrame.WriteRequest(buffer, new FetchRequest
            {
                MaxWaitMs = 20_000,
                MinBytes = 1,
                MaxBytes = 1 << 20,
                SessionEpoch = -1,
                Topics = [new() { Topic = "wait", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
            }, 11, 1, "waiter");
            await stream.WriteAsync(buffer.WrittenMemory);
        }
        var watch = Stopwatch.StartNew();
        var size = new byte[4];
        var read = stream.ReadExactlyAsync(size).AsTask();
        Assert.False(read.IsCompleted);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
            await producer.ProduceAsync("wait", new Message<Null, string> { Value = "wake" });
        await read.WaitAsync(TimeSpan.FromSeconds(30));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body);
        var response = KafkaFrame.ReadResponse<FetchResponse>(body, 11, out _);
        Assert.True(response.Responses.Single().Partitions.Single().Records!.Value.Length > 0);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"answered after {watch.Elapsed}: the produce did not wake the fetch");
    }

    [Fact]
    public async Task A_fetch_without_enough_data_is_held_for_fetch_max_wait_ms()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
            await producer.ProduceAsync("held", new Message<Null, string> { Value = "small" });
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", broker.Broker.Port);
        var stream = client.GetStream();
        using (var buffer = new PooledBufferWriter())
        {
            // One small record is there, but fetch.min.bytes asks for 1 MiB: the broker waits out
            // fetch.max.wait.ms and then answers with what it has.
            KafkaFrame.WriteRequest(buffer, new FetchRequest
            {
                MaxWaitMs = 400,
                MinBytes = 1 << 20,
                MaxBytes = 1 << 20,
                SessionEpoch = -1,
                Topics = [new() { Topic = "held", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
            }, 11, 1, "held");
            await stream.WriteAsync(buffer.WrittenMemory);
        }
        var watch = Stopwatch.StartNew();
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var elapsed = watch.Elapsed;
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body);
        var response = KafkaFrame.ReadResponse<FetchResponse>(body, 11, out _);
        Assert.True(response.Responses.Single().Partitions.Single().Records!.Value.Length > 0);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(350), $"answered after {elapsed.TotalMilliseconds} ms, before fetch.max.wait.ms");
    }
}
