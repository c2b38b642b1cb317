using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using ConfluentIsolation = Confluent.Kafka.IsolationLevel;
using Message = Samsa.Client.Producer.Message<string, string>;
using TopicPartitionOffset = Samsa.Client.TopicPartitionOffset;

namespace Samsa.Interop.Tests.Transactions;

/// <summary>
/// Our transactional producer and consumer against our broker: consume-transform-produce with the
/// consumer's group metadata (KIP-447), commit and abort, read back by Confluent's read_committed reader.
/// </summary>
public sealed class SamsaClientTransactionTests
{
    [Fact]
    public async Task Consume_transform_produce_commits_output_and_offsets_together_and_an_abort_leaves_neither()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(50) });
        await CreateTopic(broker.Bootstrap, "in", 1);
        await CreateTopic(broker.Bootstrap, "out", 3);
        await Produce(broker.Bootstrap, "in", 10);

        await using var source = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "ctp") with { EnableAutoCommit = false });
        source.Subscribe("in");
        var input = await PollUntil(source, 10);
        var group = source.GroupMetadata!;
        Assert.True(group.GenerationId > 0, $"a member in a generation: {group}");

        await using var producer = new KafkaProducer<string, string>(new ProducerOptions
        {
            BootstrapServers = broker.Bootstrap,
            TransactionalId = "ctp-ours",
            Linger = TimeSpan.FromMilliseconds(2),
        });
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        var sends = input.Select((r, i) => producer.ProduceAsync("out", new Message(r.Key, "t-" + r.Value) { Partition = i % 3 })).ToList();
        await producer.SendOffsetsToTransactionAsync([new TopicPartitionOffset("in", 0, input[^1].Offset + 1)], group);
        await producer.CommitTransactionAsync();
        await Task.WhenAll(sends);

        producer.BeginTransaction();
        var aborted = Enumerable.Range(0, 6).Select(i => producer.ProduceAsync("out", new Message("k", $"aborted{i}") { Partition = i % 3 })).ToList();
        // Written before the abort (an abort drops batches not yet sent), so the log holds them.
        await Task.WhenAll(aborted);
        await producer.SendOffsetsToTransactionAsync([new TopicPartitionOffset("in", 0, 3)], group);
        await producer.AbortTransactionAsync();

        var expected = input.Select(r => "t-" + r.Value).Order().ToList();
        Assert.Equal(expected, ConfluentTransactionTests.ReadAll(broker.Bootstrap, ConfluentIsolation.ReadCommitted, 3, "out").Order());
        Assert.Equal(16, ConfluentTransactionTests.ReadAll(broker.Bootstrap, ConfluentIsolation.ReadUncommitted, 3, "out").Count);
        await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap });
        var committed = (await admin.ListGroupOffsetsAsync("ctp")).Single(l => l.Partition.Topic == "in");
        Assert.Equal(10, committed.Committed);
    }
}
