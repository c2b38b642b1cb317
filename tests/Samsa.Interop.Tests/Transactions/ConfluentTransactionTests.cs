using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Transactions;

/// <summary>
/// Confluent.Kafka's transactional producer (librdkafka) against our transaction coordinator:
/// commit and abort across three partitions with offsets sent to the transaction, a zombie fenced
/// by a second producer with its transactional id, and a transaction left open aborted by its timeout.
/// read_committed consumers see only committed transactions; read_uncommitted ones see everything.
/// </summary>
public sealed class ConfluentTransactionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string Out = "tx-out";
    private const string In = "tx-in";
    private const string Group = "tx-group";

    private static async Task<TempBroker> StartAsync(Func<Samsa.Broker.BrokerOptions, Samsa.Broker.BrokerOptions>? configure = null)
    {
        var broker = await TempBroker.StartAsync(configure);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        await admin.CreateTopicsAsync([
            new TopicSpecification { Name = Out, NumPartitions = 3, ReplicationFactor = 1 },
            new TopicSpecification { Name = In, NumPartitions = 1, ReplicationFactor = 1 },
        ]);
        return broker;
    }

    private static IProducer<string, string> Producer(TempBroker broker, string transactionalId, int timeoutMs = 60_000) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = broker.Bootstrap,
            TransactionalId = transactionalId,
            TransactionTimeoutMs = timeoutMs,
            LingerMs = 2,
        }).Build();

    /// <summary>Everything up to the end a reader with this isolation may see (the LSO for read_committed), values in offset order per partition.</summary>
    private static List<string> ReadAll(TempBroker broker, IsolationLevel isolation, int partitions = 3, string topic = Out) =>
        ReadAll(broker.Bootstrap, isolation, partitions, topic);

    internal static List<string> ReadAll(string bootstrap, IsolationLevel isolation, int partitions, string topic)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = isolation,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var values = new List<string>();
        var atEnd = new HashSet<int>();
        var until = DateTime.UtcNow + Timeout;
        while (atEnd.Count < partitions && DateTime.UtcNow < until)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null)
                continue;
            if (r.IsPartitionEOF)
                atEnd.Add(r.Partition.Value);
            else
                values.Add(r.Message.Value);
        }
        Assert.Equal(partitions, atEnd.Count);
        return values;
    }

    private static IConsumer<string, string> OffsetsConsumer(TempBroker broker)
    {
        var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = Group, EnableAutoCommit = false }).Build();
        consumer.Assign(new TopicPartition(In, 0));
        return consumer;
    }

    private static long? CommittedInput(IConsumer<string, string> consumer)
    {
        var committed = consumer.Committed([new TopicPartition(In, 0)], Timeout).Single();
        return committed.Offset == Offset.Unset ? null : committed.Offset.Value;
    }

    private static async Task<(Samsa.Protocol.ErrorCode, long)> FetchInputOffset(TempBroker broker, bool requireStable)
    {
        using var wire = await RawConnection.ConnectAsync(broker.Bootstrap);
        var r = await wire.SendAsync<Samsa.Protocol.Messages.OffsetFetchResponse>(new Samsa.Protocol.Messages.OffsetFetchRequest
        {
            GroupId = Group,
            RequireStable = requireStable,
            Topics = [new() { Name = In, PartitionIndexes = [0] }],
        }, 7);
        var p = r.Topics.Single().Partitions.Single();
        return (p.ErrorCode, p.CommittedOffset);
    }

    private static void ProduceTo3(IProducer<string, string> producer, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
            producer.Produce(new TopicPartition(Out, i % 3), new Message<string, string> { Key = $"k{i}", Value = $"{prefix}{i}" });
        producer.Flush(Timeout);
    }

    [Fact]
    public async Task A_committed_transaction_over_three_partitions_with_offsets_is_seen_whole_by_both_isolation_levels()
    {
        await using var broker = await StartAsync();
        using var offsets = OffsetsConsumer(broker);
        using (var producer = Producer(broker, "tx-commit"))
        {
            producer.InitTransactions(Timeout);
            producer.BeginTransaction();
            ProduceTo3(producer, "c", 30);
            producer.SendOffsetsToTransaction([new TopicPartitionOffset(In, 0, 42)], offsets.ConsumerGroupMetadata, Timeout);
            // Before the commit nothing is visible to read_committed, and the offset is pending:
            // a require_stable fetch (librdkafka's, in read_committed) is told UNSTABLE_OFFSET_COMMIT.
            Assert.Empty(ReadAll(broker, IsolationLevel.ReadCommitted));
            var (error, offset) = await FetchInputOffset(broker, requireStable: true);
            Assert.Equal((Samsa.Protocol.ErrorCode.UnstableOffsetCommit, -1L), (error, offset));
            Assert.Equal((Samsa.Protocol.ErrorCode.None, -1L), await FetchInputOffset(broker, requireStable: false));
            producer.CommitTransaction(Timeout);
        }
        var expected = Enumerable.Range(0, 30).Select(i => $"c{i}").Order().ToList();
        Assert.Equal(expected, ReadAll(broker, IsolationLevel.ReadCommitted).Order());
        Assert.Equal(expected, ReadAll(broker, IsolationLevel.ReadUncommitted).Order());
        Assert.Equal(42, CommittedInput(offsets));
    }

    [Fact]
    public async Task An_aborted_transaction_is_invisible_to_read_committed_and_its_offsets_are_dropped()
    {
        await using var broker = await StartAsync();
        using var offsets = OffsetsConsumer(broker);
        using (var producer = Producer(broker, "tx-abort"))
        {
            producer.InitTransactions(Timeout);
            producer.BeginTransaction();
            ProduceTo3(producer, "a", 12);
            producer.SendOffsetsToTransaction([new TopicPartitionOffset(In, 0, 7)], offsets.ConsumerGroupMetadata, Timeout);
            producer.AbortTransaction(Timeout);

            producer.BeginTransaction();
            ProduceTo3(producer, "b", 6);
            producer.SendOffsetsToTransaction([new TopicPartitionOffset(In, 0, 3)], offsets.ConsumerGroupMetadata, Timeout);
            producer.CommitTransaction(Timeout);
        }
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"b{i}").Order(), ReadAll(broker, IsolationLevel.ReadCommitted).Order());
        Assert.Equal(18, ReadAll(broker, IsolationLevel.ReadUncommitted).Count);
        Assert.Equal(3, CommittedInput(offsets));
    }

    [Fact]
    public async Task A_second_producer_with_the_same_transactional_id_fences_the_first()
    {
        await using var broker = await StartAsync();
        using var zombie = Producer(broker, "tx-zombie");
        zombie.InitTransactions(Timeout);
        zombie.BeginTransaction();
        ProduceTo3(zombie, "z", 6);

        using (var successor = Producer(broker, "tx-zombie"))
        {
            successor.InitTransactions(Timeout); // aborts the zombie's open transaction
            successor.BeginTransaction();
            ProduceTo3(successor, "s", 3);
            successor.CommitTransaction(Timeout);
        }
        var error = Assert.ThrowsAny<KafkaException>(() => zombie.CommitTransaction(Timeout));
        Assert.True(error.Error.IsFatal || error is KafkaTxnRequiresAbortException, $"the zombie's commit failed with {error.Error}");
        Assert.Equal(["s0", "s1", "s2"], ReadAll(broker, IsolationLevel.ReadCommitted).Order());
        Assert.Equal(9, ReadAll(broker, IsolationLevel.ReadUncommitted).Count);
    }

    /// <summary>DescribeTransactions until the id is in <paramref name="wanted"/> (or the deadline passes): the state last seen.</summary>
    internal static Task<string> StateOf(TempBroker broker, string transactionalId, string wanted) => StateOf(broker.Bootstrap, transactionalId, wanted);

    internal static async Task<string> StateOf(string bootstrap, string transactionalId, string wanted)
    {
        using var wire = await RawConnection.ConnectAsync(bootstrap);
        string state = "";
        var until = DateTime.UtcNow + Timeout;
        while (state != wanted && DateTime.UtcNow < until)
        {
            var r = await wire.SendAsync<Samsa.Protocol.Messages.DescribeTransactionsResponse>(
                new Samsa.Protocol.Messages.DescribeTransactionsRequest { TransactionalIds = [transactionalId] }, 0);
            state = r.TransactionStates.Single().TransactionState;
            if (state != wanted)
                await Task.Delay(100);
        }
        return state;
    }

    [Fact]
    public async Task A_transaction_left_open_past_its_timeout_is_aborted_by_the_coordinator()
    {
        await using var broker = await StartAsync(o => o with { TransactionAbortCheckInterval = TimeSpan.FromMilliseconds(200) });
        using var abandoned = Producer(broker, "tx-abandoned", timeoutMs: 1500);
        abandoned.InitTransactions(Timeout);
        abandoned.BeginTransaction();
        ProduceTo3(abandoned, "x", 6);

        // The coordinator's check aborts it once 1.5 s have passed since its first partition was added.
        Assert.Equal("CompleteAbort", await StateOf(broker, "tx-abandoned", "CompleteAbort"));
        using (var later = Producer(broker, "tx-later"))
        {
            later.InitTransactions(Timeout);
            later.BeginTransaction();
            ProduceTo3(later, "ok", 3);
            later.CommitTransaction(Timeout);
        }
        Assert.Equal(["ok0", "ok1", "ok2"], ReadAll(broker, IsolationLevel.ReadCommitted).Order());
        Assert.ThrowsAny<KafkaException>(() => abandoned.CommitTransaction(Timeout));
        Assert.Equal(["ok0", "ok1", "ok2"], ReadAll(broker, IsolationLevel.ReadCommitted).Order());
    }
}
