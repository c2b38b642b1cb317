using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol.Messages;
using Crc32 = Samsa.Protocol.Records.Crc32;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Interop.Tests.Edges;

/// <summary>
/// Produce v0-2 are listed in ApiVersions (librdkafka's feature probe needs v0 there, KAFKA-18659),
/// so they are served: magic 0/1 message sets are up-converted as Kafka 3.x does (librdkafka tests
/// 0052 and 0092 at TEST_KAFKA_VERSION=3.9.0).
/// </summary>
public class LegacyProduceTests
{
    [Theory]
    [InlineData("none", "CreateTime")]
    [InlineData("gzip", "CreateTime")]
    [InlineData("snappy", "LogAppendTime")]
    [InlineData("gzip", "LogAppendTime")]
    public async Task Librdkafka_with_the_0_9_protocol_produces_and_its_records_read_back(string codec, string timestampType)
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "old", NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["message.timestamp.type"] = timestampType },
            }]);
        }
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // api.version.request=false with a 0.9 fallback: librdkafka sends Produce v1 with magic 0 message sets.
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = broker.Bootstrap, ApiVersionRequest = false, BrokerVersionFallback = "0.9.0.0",
            EnableIdempotence = false, CompressionType = Enum.Parse<CompressionType>(codec, ignoreCase: true), BatchNumMessages = 10, LingerMs = 5,
        }).Build())
        {
            var sent = Enumerable.Range(0, 30).Select(i => producer.ProduceAsync("old", new Message<string, string> { Key = i % 3 == 0 ? null! : "k" + i, Value = "v" + i })).ToList();
            foreach (var report in await Task.WhenAll(sent))
                Assert.Equal(PersistenceStatus.Persisted, report.Status);
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "old", EnablePartitionEof = true }).Build();
        consumer.Assign(new TopicPartitionOffset("old", 0, Offset.Beginning));
        var got = new List<ConsumeResult<string, string>>();
        while (consumer.Consume(TimeSpan.FromSeconds(10)) is { IsPartitionEOF: false } r)
            got.Add(r);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => "v" + i), got.Select(r => r.Message.Value));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i % 3 == 0 ? null : "k" + i), got.Select(r => r.Message.Key));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), got.Select(r => r.Offset.Value));
        if (timestampType == "LogAppendTime")
            Assert.All(got, r => Assert.True(r.Message.Timestamp.Type == TimestampType.LogAppendTime && r.Message.Timestamp.UnixTimestampMs >= before));
        else
            Assert.All(got, r => Assert.Equal(-1, r.Message.Timestamp.UnixTimestampMs)); // magic 0 has no timestamps, as on Kafka 3.x
    }

    [Fact]
    public async Task A_message_set_with_a_bad_crc_is_corrupt_and_nothing_is_written()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "raw", NumPartitions = 1, ReplicationFactor = 1 }]);
        using var connection = await RawConnection.ConnectAsync(broker.Bootstrap);
        var set = MagicOne(1234, "k"u8.ToArray(), "value"u8.ToArray());
        async Task<ProduceResponse.PartitionProduceResponse> Send(byte[] records) => (await connection.SendAsync<ProduceResponse>(new ProduceRequest
        {
            Acks = 1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = "raw", PartitionData = [new() { Index = 0, Records = records }] }],
        }, 2)).Responses.Single().PartitionResponses.Single();

        var first = await Send(set);
        Assert.Equal((ErrorCode.None, 0L), (first.ErrorCode, first.BaseOffset));
        set[^1] ^= 0xFF;
        Assert.Equal(ErrorCode.CorruptMessage, (await Send(set)).ErrorCode);
        set[^1] ^= 0xFF;
        var again = await Send(set);
        Assert.Equal((ErrorCode.None, 1L), (again.ErrorCode, again.BaseOffset));

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "raw", EnablePartitionEof = true }).Build();
        consumer.Assign(new TopicPartitionOffset("raw", 0, Offset.Beginning));
        var got = new List<ConsumeResult<string, string>>();
        while (consumer.Consume(TimeSpan.FromSeconds(10)) is { IsPartitionEOF: false } r)
            got.Add(r);
        Assert.Equal([("k", "value", 1234L), ("k", "value", 1234L)], got.Select(r => (r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs)));
    }

    /// <summary>One magic-1 message (offset 0, CreateTime) as an old client writes it.</summary>
    private static byte[] MagicOne(long timestamp, byte[] key, byte[] value)
    {
        var body = new List<byte> { 1, 0 };
        body.AddRange(BigEndian(timestamp));
        body.AddRange(BigEndian(key.Length));
        body.AddRange(key);
        body.AddRange(BigEndian(value.Length));
        body.AddRange(value);
        var message = new List<byte>();
        message.AddRange(BigEndian((int)Crc32.Compute([.. body])));
        message.AddRange(body);
        var set = new List<byte>();
        set.AddRange(BigEndian(0L));
        set.AddRange(BigEndian(message.Count));
        set.AddRange(message);
        return [.. set];
    }

    private static byte[] BigEndian(long v) => BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v));

    private static byte[] BigEndian(int v) => BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v));
}
