using Confluent.Kafka;
using Samsa.Client.Consumer;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using SamsaConsumerOptions = Samsa.Client.Consumer.ConsumerOptions;
using SamsaErrorCode = Samsa.Protocol.ErrorCode;
using SamsaIsolation = Samsa.Client.Consumer.IsolationLevel;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// read_committed against our partition side of transactions, with no coordinator: transactional
/// batches sent by a raw Produce as Kafka's producers build them, markers appended in-process as
/// the transaction coordinator does. Confluent.Kafka (librdkafka) and our consumer, read_committed
/// and read_uncommitted, must see exactly what Kafka's readers would.
/// </summary>
public sealed class TransactionalReadTests
{
    private const string Topic = "txn-read";
    private const long Committing = 100, Aborting = 200, Hanging = 300, Plain = 400;

    // In offset order: c0-c2 (committed), a0-a2 (aborted), n0-n1 (no transaction), markers at 8 and 9,
    // o0 (a transaction still open: the LSO stays at 10), p0 (no transaction, above the LSO).
    private static readonly string[] Uncommitted = ["c0", "c1", "c2", "a0", "a1", "a2", "n0", "n1", "o0", "p0"];
    private static readonly string[] CommittedWhileOpen = ["c0", "c1", "c2", "n0", "n1"];
    private static readonly string[] CommittedAfterAbort = ["c0", "c1", "c2", "n0", "n1", "p0"];

    private static byte[] Batch(long producerId, int sequence, string prefix, int records, bool transactional)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = sequence, IsTransactional = transactional };
        for (int i = 0; i < records; i++)
            builder.Add(now, System.Text.Encoding.UTF8.GetBytes($"k{i}"), false, System.Text.Encoding.UTF8.GetBytes($"{prefix}{i}"), false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    private static void Marker(TempBroker broker, long producerId, ControlRecordType type)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = -1, IsTransactional = true, IsControl = true };
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ControlRecord.Key(type), false, ControlRecord.EndTransactionValue(0), false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        Assert.True(broker.Broker.Topics.TryGet(Topic, out var topic));
        Assert.Equal(SamsaErrorCode.None, topic.Partitions[0].AppendChecked(output.WrittenSpan.ToArray()).Error);
    }

    private static async Task Produce(RawConnection connection, byte[] batch)
    {
        var response = await connection.SendAsync<ProduceResponse>(new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = Topic, PartitionData = [new() { Index = 0, Records = batch }] }],
        }, 9);
        Assert.Equal(SamsaErrorCode.None, response.Responses.Single().PartitionResponses.Single().ErrorCode);
    }

    private static async Task<TempBroker> StartWithTransactions()
    {
        var broker = await TempBroker.StartAsync();
        Assert.Equal(SamsaErrorCode.None, broker.Broker.Topics.Create(Topic, 1).Error);
        using var raw = await RawConnection.ConnectAsync(broker.Bootstrap);
        await Produce(raw, Batch(Committing, 0, "c", 3, transactional: true)); // 0-2
        await Produce(raw, Batch(Aborting, 0, "a", 3, transactional: true));   // 3-5
        await Produce(raw, Batch(Plain, 0, "n", 2, transactional: false));     // 6-7
        Marker(broker, Committing, ControlRecordType.Commit);                   // 8
        Marker(broker, Aborting, ControlRecordType.Abort);                      // 9
        await Produce(raw, Batch(Hanging, 0, "o", 1, transactional: true));    // 10
        await Produce(raw, Batch(Plain, 2, "p", 1, transactional: false));     // 11
        return broker;
    }

    private static List<string> ConsumeConfluent(IConsumer<string, string> consumer, int count)
    {
        var values = new List<string>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (values.Count < count && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r)
                values.Add(r.Message.Value);
        }
        return values;
    }

    private static IConsumer<string, string> ConfluentConsumer(TempBroker broker, Confluent.Kafka.IsolationLevel isolation)
    {
        var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.Bootstrap,
            GroupId = "unused-for-assign",
            EnableAutoCommit = false,
            IsolationLevel = isolation,
            EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        return consumer;
    }

    [Fact]
    public async Task Confluent_read_committed_skips_aborted_records_and_stops_at_the_open_transaction()
    {
        await using var broker = await StartWithTransactions();
        using (var uncommitted = ConfluentConsumer(broker, Confluent.Kafka.IsolationLevel.ReadUncommitted))
            Assert.Equal(Uncommitted, ConsumeConfluent(uncommitted, Uncommitted.Length));

        using var committed = ConfluentConsumer(broker, Confluent.Kafka.IsolationLevel.ReadCommitted);
        Assert.Equal(CommittedWhileOpen, ConsumeConfluent(committed, CommittedWhileOpen.Length));
        // librdkafka asks ListOffsets with its isolation level: read_committed's end is the LSO.
        var end = committed.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition(Topic, 0), TimeSpan.FromSeconds(10));
        Assert.Equal(10, end.High.Value);

        // The hanging transaction aborts (as its timeout would): p0 is the next and only record.
        Marker(broker, Hanging, ControlRecordType.Abort);
        Assert.Equal(["p0"], ConsumeConfluent(committed, 1));
        Assert.Equal(13, committed.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition(Topic, 0), TimeSpan.FromSeconds(10)).High.Value);
    }

    [Fact]
    public async Task Our_consumer_read_committed_filters_aborted_records_with_the_brokers_aborted_list()
    {
        await using var broker = await StartWithTransactions();
        var options = new SamsaConsumerOptions { BootstrapServers = broker.Bootstrap, AutoOffsetReset = Samsa.Client.Consumer.AutoOffsetReset.Earliest };

        await using (var uncommitted = new KafkaConsumer<string, string>(options))
        {
            uncommitted.Assign([new SamsaTopicPartition(Topic, 0)]);
            Assert.Equal(Uncommitted, await Poll(uncommitted, Uncommitted.Length));
        }

        await using var committed = new KafkaConsumer<string, string>(options with { IsolationLevel = SamsaIsolation.ReadCommitted });
        committed.Assign([new SamsaTopicPartition(Topic, 0)]);
        Assert.Equal(CommittedWhileOpen, await Poll(committed, CommittedWhileOpen.Length));
        // ListOffsets latest under read_committed is the LSO: the open transaction's first offset.
        Assert.Equal(10, committed.EndOffsets([new SamsaTopicPartition(Topic, 0)])[new SamsaTopicPartition(Topic, 0)]);
        Marker(broker, Hanging, ControlRecordType.Abort);
        Assert.Equal(["p0"], await Poll(committed, 1));
        Assert.Equal(13, committed.Position(new SamsaTopicPartition(Topic, 0))); // past the last marker, at 12
    }

    private static async Task<List<string>> Poll(KafkaConsumer<string, string> consumer, int count)
    {
        var values = new List<string>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (values.Count < count && DateTime.UtcNow < until)
            values.AddRange((await consumer.PollAsync(TimeSpan.FromMilliseconds(200))).Select(r => r.Value));
        return values;
    }
}
