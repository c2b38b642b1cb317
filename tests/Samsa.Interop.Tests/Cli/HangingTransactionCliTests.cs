using Confluent.Kafka;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using SamsaErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Interop.Tests.Cli;

/// <summary>
/// KIP-664 end to end: a transactional batch whose coordinator never heard of it (written in process,
/// as if the coordinator had lost it) holds the last stable offset back, so a read_committed
/// Confluent.Kafka consumer stops in front of it. samsa transactions find-hanging names it,
/// describe-producers shows it, abort writes the marker, and the reader moves on.
/// </summary>
public sealed class HangingTransactionCliTests
{
    private const string Topic = "stuck";
    private const long Producer = 4242;

    private static void Append(TempBroker broker, bool transactional, long producerId, int sequence, string value, long timestamp)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 3, BaseSequence = sequence, IsTransactional = transactional };
        builder.Add(timestamp, "k"u8, false, System.Text.Encoding.UTF8.GetBytes(value), false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        Assert.True(broker.Broker.Topics.TryGet(Topic, out var topic));
        Assert.Equal(SamsaErrorCode.None, topic.Partitions[0].AppendChecked(output.WrittenSpan.ToArray()).Error);
    }

    /// <summary>Everything a read_committed reader gets until it reaches the end it may read to (librdkafka reports EOF at the last stable offset).</summary>
    private static List<string> ReadCommitted(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"reader-{Guid.NewGuid():N}",
            IsolationLevel = Confluent.Kafka.IsolationLevel.ReadCommitted,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        var values = new List<string>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is { IsPartitionEOF: true })
                return values;
            if (r?.Message is not null)
                values.Add(r.Message.Value);
        }
        throw new TimeoutException($"No end of partition within 30 s; read so far: {string.Join(",", values)}");
    }

    [Fact]
    public async Task Find_hanging_describe_producers_and_abort_free_read_committed_readers()
    {
        await using var broker = await TempBroker.StartAsync();
        Assert.Equal(SamsaErrorCode.None, broker.Broker.Topics.Create(Topic, 1).Error);
        long hourAgo = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        Append(broker, transactional: false, producerId: -1, sequence: -1, "before", hourAgo);       // 0
        Append(broker, transactional: true, Producer, 0, "orphan", hourAgo);                          // 1: never ended
        Append(broker, transactional: false, producerId: -1, sequence: -1, "after", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()); // 2
        string[] b = ["--bootstrap-server", broker.Bootstrap];

        // The reader gets what is below the open transaction and nothing past it.
        Assert.Equal(["before"], ReadCommitted(broker.Bootstrap));

        var producers = await CliTests.Samsa("", ["transactions", "describe-producers", "--topic", Topic, "--partition", "0", .. b]);
        Assert.True(producers.Exit == 0, producers.Err);
        Assert.Matches($@"{Producer}\s+3\s+0\s+\S+ \S+\s+-1\s+1", producers.Out);

        var found = await CliTests.Samsa("", ["transactions", "find-hanging", "--max-transaction-timeout", "15", "--output", "json", .. b]);
        Assert.True(found.Exit == 0, found.Err);
        Assert.Contains($"\"producerId\": {Producer}", found.Out, StringComparison.Ordinal);
        Assert.Contains("\"startOffset\": 1", found.Out, StringComparison.Ordinal);

        var wrong = await CliTests.Samsa("", ["transactions", "abort", "--topic", Topic, "--partition", "0", "--start-offset", "2", .. b]);
        Assert.Equal(2, wrong.Exit);
        Assert.Contains("No open transaction starts at offset 2", wrong.Err, StringComparison.Ordinal);

        var aborted = await CliTests.Samsa("", ["transactions", "abort", "--topic", Topic, "--partition", "0", "--start-offset", "1", .. b]);
        Assert.True(aborted.Exit == 0, aborted.Err);
        Assert.Contains($"Aborted the transaction of producer {Producer}", aborted.Out, StringComparison.Ordinal);

        // The aborted record stays hidden, the one behind it is now readable, and nothing hangs.
        Assert.Equal(["before", "after"], ReadCommitted(broker.Bootstrap));
        var none = await CliTests.Samsa("", ["transactions", "find-hanging", "--output", "json", .. b]);
        Assert.DoesNotContain("producerId", none.Out, StringComparison.Ordinal);
    }
}
