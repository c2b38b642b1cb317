using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Interop.Tests.Edges;

/// <summary>Produce and Fetch answered as Kafka answers them at the edges librdkafka's suite found (tests 0011, 0082).</summary>
public class ProduceFetchEdgeTests
{
    private static async Task CreateTopic(string bootstrap, string name, int partitions, Dictionary<string, string>? configs = null)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }]);
    }

    private static byte[] Batch(params (string? Key, int ValueSize)[] records)
    {
        using var builder = new RecordBatchBuilder();
        foreach (var (key, size) in records)
            builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), key is null ? default : System.Text.Encoding.UTF8.GetBytes(key), key is null, new byte[size], false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    private static async Task<ProduceResponse.PartitionProduceResponse> Produce(RawConnection connection, string topic, int partition, byte[] records, short version = 9)
    {
        var r = await connection.SendAsync<ProduceResponse>(new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = topic, PartitionData = [new() { Index = partition, Records = records }] }],
        }, version);
        return r.Responses.Single().PartitionResponses.Single();
    }

    [Fact]
    public async Task Keyless_records_on_a_compacted_topic_refuse_the_batch_with_record_errors()
    {
        await using var broker = await TempBroker.StartAsync();
        await CreateTopic(broker.Bootstrap, "compacted", 1, new() { ["cleanup.policy"] = "compact" });
        await CreateTopic(broker.Bootstrap, "plain", 1);
        using var connection = await RawConnection.ConnectAsync(broker.Bootstrap);

        var refused = await Produce(connection, "compacted", 0, Batch(("a", 10), (null, 10), ("b", 10), (null, 10)));
        Assert.Equal(ErrorCode.InvalidRecord, refused.ErrorCode);
        Assert.Equal([1, 3], refused.RecordErrors.Select(e => e.BatchIndex));
        Assert.All(refused.RecordErrors, e => Assert.Contains("without key in topic partition compacted-0", e.BatchIndexErrorMessage, StringComparison.Ordinal));
        Assert.Contains("2 record errors", refused.ErrorMessage, StringComparison.Ordinal);

        // Nothing of the refused batch was written; keyed records go in, and keyless ones elsewhere too.
        var accepted = await Produce(connection, "compacted", 0, Batch(("a", 10), ("b", 10)));
        Assert.Equal((ErrorCode.None, 0L), (accepted.ErrorCode, accepted.BaseOffset));
        Assert.Equal(ErrorCode.None, (await Produce(connection, "plain", 0, Batch((null, 10)))).ErrorCode);

        // librdkafka (Confluent.Kafka) sees Kafka's error for a keyless record.
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build();
        var e = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("compacted", new Message<Null, string> { Value = "v" }));
        Assert.Equal(Confluent.Kafka.ErrorCode.InvalidRecord, e.Error.Code);
    }

    private static async Task<FetchResponse> Fetch(RawConnection connection, string topic, int partitions, int maxBytes, int partitionMaxBytes)
    {
        return await connection.SendAsync<FetchResponse>(new FetchRequest
        {
            MaxWaitMs = 0,
            MinBytes = 1,
            MaxBytes = maxBytes,
            SessionEpoch = -1,
            Topics = [new() { Topic = topic, Partitions = Enumerable.Range(0, partitions).Select(p => new FetchRequest.FetchPartition { Partition = p, FetchOffset = 0, PartitionMaxBytes = partitionMaxBytes }).ToList() }],
        }, 11);
    }

    private static int[] Sizes(FetchResponse r) => r.Responses.Single().Partitions.OrderBy(p => p.PartitionIndex).Select(p => p.Records?.Length ?? 0).ToArray();

    [Fact]
    public async Task Fetch_lets_only_the_first_partition_with_data_exceed_max_bytes()
    {
        await using var broker = await TempBroker.StartAsync();
        await CreateTopic(broker.Bootstrap, "big", 3);
        using var connection = await RawConnection.ConnectAsync(broker.Bootstrap);
        const int value = 900_000; // test 0082: 900 KB records over 3 partitions, fetch.max.bytes=1000000
        for (int p = 0; p < 3; p++)
            Assert.Equal(ErrorCode.None, (await Produce(connection, "big", p, Batch(("k", value)))).ErrorCode);

        var sizes = Sizes(await Fetch(connection, "big", 3, 1_000_000, 1_048_576));
        Assert.True(sizes[0] > value, "the first partition's one batch is returned");
        Assert.Equal([0, 0], sizes[1..]);

        // Above partition_max_bytes too, only for the first partition with data.
        sizes = Sizes(await Fetch(connection, "big", 3, 50 * 1024 * 1024, 1000));
        Assert.True(sizes[0] > value);
        Assert.Equal([0, 0], sizes[1..]);

        // Room for all: every partition answers.
        Assert.All(Sizes(await Fetch(connection, "big", 3, 50 * 1024 * 1024, 1_048_576)), s => Assert.True(s > value));

        // Small batches fill the budget with whole batches and never pass it.
        for (int i = 0; i < 20; i++)
            Assert.Equal(ErrorCode.None, (await Produce(connection, "big", 1, Batch(("k", 1000)))).ErrorCode);
        var r = await connection.SendAsync<FetchResponse>(new FetchRequest
        {
            MaxBytes = value + 10_000,
            SessionEpoch = -1,
            Topics = [new() { Topic = "big", Partitions = [new() { Partition = 0, PartitionMaxBytes = 1_048_576 }, new() { Partition = 1, FetchOffset = 1, PartitionMaxBytes = 1_048_576 }] }],
        }, 11);
        var got = Sizes(r);
        Assert.True(got[0] > value && got[1] > 0 && got.Sum() <= value + 10_000, $"sizes {string.Join(",", got)}");
    }
}
