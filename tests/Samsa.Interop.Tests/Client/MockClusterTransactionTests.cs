using Confluent.Kafka;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Producer;
using Samsa.Interop.Tests.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using Samsa.TestKit;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using ErrorCode = Samsa.Protocol.ErrorCode;
using KafkaException = Samsa.Client.KafkaException;
using GroupProtocol = Samsa.Client.Consumer.GroupProtocol;
using IsolationLevel = Samsa.Client.Consumer.IsolationLevel;
using Message = Samsa.Client.Producer.Message<string, string>;
using SamsaTopicPartition = Samsa.Client.TopicPartition;
using TopicPartitionOffset = Samsa.Client.TopicPartitionOffset;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// Our transactional producer against librdkafka's mock cluster, a Kafka with a transaction
/// coordinator we did not write (InitProducerId with transactional ids, AddPartitionsToTxn,
/// AddOffsetsToTxn, TxnOffsetCommit, EndTxn, control batches and read_committed filtering).
/// </summary>
public sealed class MockClusterTransactionTests : IDisposable
{
    private readonly MockCluster _mock = new(brokers: 3);

    public void Dispose() => _mock.Dispose();

    private KafkaProducer<string, string> Producer(string transactionalId, Func<ProducerOptions, ProducerOptions>? configure = null)
    {
        var options = new ProducerOptions
        {
            BootstrapServers = _mock.BootstrapServers,
            TransactionalId = transactionalId,
            Linger = TimeSpan.FromMilliseconds(2),
            RetryBackoff = TimeSpan.FromMilliseconds(20),
            MaxBlock = TimeSpan.FromSeconds(30),
        };
        return new KafkaProducer<string, string>(configure?.Invoke(options) ?? options, loggerFactory: TestLogging.Factory);
    }

    private KafkaConsumer<string, string> ReadCommitted(string? group = null) =>
        new(Options(_mock.BootstrapServers, group) with
        {
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnableAutoCommit = false,
            MaxApiVersions = MockClusterConsumerTests.MockVersionCaps,
            // The mock writes its COMMIT/ABORT control batches with a CRC of 0.
            CheckCrcs = false,
        }, loggerFactory: TestLogging.Factory);

    private static List<Confluent.Kafka.ConsumeResult<string, string>> ConfluentReadCommitted(string bootstrap, string topic, int atLeast, TimeSpan patience)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "rc-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            IsolationLevel = Confluent.Kafka.IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Subscribe(topic);
        var received = new List<Confluent.Kafka.ConsumeResult<string, string>>();
        var until = DateTime.UtcNow + patience;
        while (received.Count < atLeast && DateTime.UtcNow < until)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null && !r.IsPartitionEOF)
                received.Add(r);
        }
        consumer.Close();
        return received;
    }

    /// <summary>Reads every partition of <paramref name="topic"/> from the start until <paramref name="sentinel"/> was seen on each, returning the values before it.</summary>
    private async Task<List<string>> ReadCommittedUntilSentinel(string topic, int partitions, string sentinel)
    {
        await using var consumer = ReadCommitted();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new SamsaTopicPartition(topic, p)));
        var values = new List<string>();
        var seen = new HashSet<int>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (seen.Count < partitions)
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Sentinel seen on {seen.Count} of {partitions} partitions; read {values.Count} records.");
            foreach (var r in await consumer.PollAsync(TimeSpan.FromMilliseconds(200)))
            {
                if (r.Value == sentinel)
                    seen.Add(r.Partition);
                else
                    values.Add(r.Value!);
            }
        }
        return values;
    }

    [Fact]
    public async Task A_committed_transaction_over_three_partitions_with_offsets_is_seen_whole_by_read_committed_readers()
    {
        _mock.CreateTopic("in", 1);
        _mock.CreateTopic("out", 3);
        await Produce(_mock.BootstrapServers, "in", 10);
        await using var source = new KafkaConsumer<string, string>(Options(_mock.BootstrapServers, "ctp-g") with
        {
            EnableAutoCommit = false,
            MaxApiVersions = MockClusterConsumerTests.MockVersionCaps,
        }, loggerFactory: TestLogging.Factory);
        source.Subscribe("in");
        var input = await PollUntil(source, 10);
        var group = source.GroupMetadata!;
        Assert.True(group.GenerationId > 0 && group.MemberId.Length > 0, $"a member in a generation: {group}");

        await using var route = new ProxiedCluster(_mock.BootstrapServers);
        await using var producer = Producer("ctp-txn", o => o with { BootstrapServers = route.Bootstrap });
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        var sends = input.Select((r, i) => producer.ProduceAsync("out", new Message(r.Key, "t-" + r.Value) { Partition = i % 3 })).ToList();
        await producer.SendOffsetsToTransactionAsync([new TopicPartitionOffset("in", 0, input[^1].Offset + 1)], group);
        await producer.CommitTransactionAsync();
        var delivered = await Task.WhenAll(sends);
        Assert.Equal(3, delivered.Select(d => d.Partition).Distinct().Count());

        // Ours, read_committed: every record. A later non-transactional sentinel per partition marks the end.
        await using (var plain = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = _mock.BootstrapServers }))
        {
            for (int p = 0; p < 3; p++)
                await plain.ProduceAsync("out", new Message("s", "end") { Partition = p });
        }
        var ours = await ReadCommittedUntilSentinel("out", 3, "end");
        Assert.Equal(input.Select(r => "t-" + r.Value).Order(), ours.Order());

        // Confluent's, read_committed: the same records.
        var theirs = ConfluentReadCommitted(_mock.BootstrapServers, "out", 13, TimeSpan.FromSeconds(30));
        Assert.Equal(input.Select(r => "t-" + r.Value).Order(), theirs.Where(r => r.Message.Value != "end").Select(r => r.Message.Value).Order());

        // The mock accepts TxnOffsetCommit but keeps no transactional offsets, so what reached it
        // is checked on the wire: AddOffsetsToTxn for the group, then TxnOffsetCommit (v3, with
        // the consumer's generation and member id) to the group's coordinator, then EndTxn(commit).
        var addOffsets = route.Requests(ApiKey.AddOffsetsToTxn).Select(f => (AddOffsetsToTxnRequest)KafkaFrame.ReadRequest(f.Body, out _)).ToList();
        Assert.Equal(["ctp-g"], addOffsets.Select(r => r.GroupId));
        var commits = route.Requests(ApiKey.TxnOffsetCommit).Select(f => (Version: f.ApiVersion, Request: (TxnOffsetCommitRequest)KafkaFrame.ReadRequest(f.Body, out _))).ToList();
        var (version, commit) = Assert.Single(commits);
        Assert.Equal(3, version);
        Assert.Equal(("ctp-txn", "ctp-g", group.GenerationId, group.MemberId), (commit.TransactionalId, commit.GroupId, commit.GenerationId, commit.MemberId));
        var partition = Assert.Single(Assert.Single(commit.Topics).Partitions);
        Assert.Equal((0, input[^1].Offset + 1), (partition.PartitionIndex, partition.CommittedOffset));
        var end = Assert.Single(route.Requests(ApiKey.EndTxn).Select(f => (EndTxnRequest)KafkaFrame.ReadRequest(f.Body, out _)));
        Assert.True(end.Committed);
        Assert.Equal(commit.ProducerId, end.ProducerId);
    }

    /// <summary>
    /// librdkafka's mock (2.16) answers Fetch with the log end as last stable offset and no
    /// aborted transactions (its read_committed filtering serves share groups only), so no
    /// consumer reading from it can hide an aborted transaction. What the abort must leave in the
    /// log is checked instead: every data batch transactional, under one producer id, followed on
    /// each partition by an ABORT marker, and the producer ready for the next transaction, whose
    /// records end with a COMMIT marker.
    /// </summary>
    [Fact]
    public async Task An_aborted_transaction_leaves_abort_markers_behind_its_records_on_every_partition()
    {
        _mock.CreateTopic("ab", 3);
        for (int p = 0; p < 3; p++)
            _mock.SetPartitionLeader("ab", p, 1);
        await using var producer = Producer("ab-txn");
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        var sends = Enumerable.Range(0, 30).Select(i => producer.ProduceAsync("ab", new Message($"k{i}", $"aborted{i}") { Partition = i % 3 })).ToList();
        await producer.FlushAsync(); // the records reach the log before the abort, so markers must follow them
        await producer.AbortTransactionAsync();
        await Task.WhenAll(sends); // written, then aborted: delivered as far as the partition is concerned

        producer.BeginTransaction();
        for (int p = 0; p < 3; p++)
            await producer.ProduceAsync("ab", new Message("s", "committed") { Partition = p });
        await producer.CommitTransactionAsync();

        for (int p = 0; p < 3; p++)
        {
            var log = await LogOf("ab", p);
            var markers = log.Where(b => b.Control is not null).ToList();
            Assert.Equal([ControlRecordType.Abort, ControlRecordType.Commit], markers.Select(b => b.Control!.Value));
            Assert.All(log, b => Assert.True(b.Header.IsTransactional, $"batch at {b.Header.BaseOffset} is transactional"));
            Assert.Single(log.Select(b => b.Header.ProducerId).Distinct());
            int abort = log.FindIndex(b => b.Control == ControlRecordType.Abort);
            Assert.Equal(10, log.Take(abort).Sum(b => b.Header.RecordCount));
            Assert.Equal(1, log.Skip(abort + 1).Where(b => b.Control is null).Sum(b => b.Header.RecordCount));
        }
    }

    /// <summary>The batches of a partition led by broker 1, read raw from offset 0 (the mock answers one batch per fetch).</summary>
    private async Task<List<(RecordBatchHeader Header, ControlRecordType? Control)>> LogOf(string topic, int partition)
    {
        using var raw = await RawConnection.ConnectAsync(_mock.BootstrapServers.Split(',')[0]);
        var batches = new List<(RecordBatchHeader, ControlRecordType?)>();
        long offset = 0;
        while (true)
        {
            var response = await raw.SendAsync<FetchResponse>(new FetchRequest
            {
                ReplicaId = -1,
                MaxWaitMs = 0,
                MinBytes = 0,
                MaxBytes = 1 << 20,
                Topics = [new FetchRequest.FetchTopic { Topic = topic, Partitions = [new FetchRequest.FetchPartition { Partition = partition, FetchOffset = offset, PartitionMaxBytes = 1 << 20 }] }],
            }, 4);
            var data = Assert.Single(Assert.Single(response.Responses).Partitions);
            Assert.Equal(ErrorCode.None, data.ErrorCode);
            var buffer = data.Records ?? ReadOnlyMemory<byte>.Empty;
            if (buffer.IsEmpty)
                return batches;
            while (RecordBatch.TryReadNext(ref buffer, out var batch))
            {
                ControlRecordType? control = null;
                if (batch.Header.IsControl)
                {
                    foreach (var record in batch.GetRecords())
                        control = ControlRecord.ReadType(record.Key!.Value.Span);
                }
                batches.Add((batch.Header, control));
                offset = batch.Header.BaseOffset + batch.Header.LastOffsetDelta + 1;
            }
        }
    }

    [Fact]
    public async Task Records_still_unsent_when_the_transaction_aborts_fail_with_TransactionAbortedException()
    {
        _mock.CreateTopic("un", 1);
        await using var producer = Producer("un-txn", o => o with { Linger = TimeSpan.FromMinutes(1), DeliveryTimeout = TimeSpan.FromMinutes(5) });
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        var send = producer.ProduceAsync("un", new Message("k", "never"));
        await producer.AbortTransactionAsync();
        await Assert.ThrowsAsync<TransactionAbortedException>(() => send);
    }

    [Fact]
    public async Task Calls_out_of_order_are_refused_with_InvalidOperationException()
    {
        _mock.CreateTopic("oo", 1);
        await using var producer = Producer("oo-txn");
        Assert.Throws<InvalidOperationException>(() => producer.BeginTransaction());
        await Assert.ThrowsAsync<InvalidOperationException>(() => producer.ProduceAsync("oo", new Message("k", "v")));
        producer.InitTransactions(); // the synchronous forms, as Java's
        Assert.Throws<InvalidOperationException>(() => producer.InitTransactions());
        await Assert.ThrowsAsync<InvalidOperationException>(() => producer.ProduceAsync("oo", new Message("k", "v")));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await producer.CommitTransactionAsync());
        producer.BeginTransaction();
        Assert.Throws<InvalidOperationException>(() => producer.BeginTransaction());
        await producer.ProduceAsync("oo", new Message("k", "v"));
        producer.CommitTransaction();
        Assert.Throws<InvalidOperationException>(() => producer.AbortTransaction());
    }

    [Fact]
    public async Task A_fenced_answer_from_the_coordinator_makes_every_later_call_throw_ProducerFenced()
    {
        _mock.CreateTopic("fz", 2);
        await using var producer = Producer("fz-txn");
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        _mock.PushRequestErrors((short)ApiKey.AddPartitionsToTxn, (short)ErrorCode.ProducerFenced);
        var send = producer.ProduceAsync("fz", new Message("k", "v") { Partition = 0 });
        await Assert.ThrowsAsync<ProducerFencedException>(async () => await producer.CommitTransactionAsync());
        await Assert.ThrowsAnyAsync<KafkaException>(() => send);
        await Assert.ThrowsAsync<ProducerFencedException>(async () => await producer.AbortTransactionAsync());
        Assert.Throws<ProducerFencedException>(() => producer.BeginTransaction());
        await Assert.ThrowsAsync<ProducerFencedException>(() => producer.ProduceAsync("fz", new Message("k", "v")));
    }

    /// <summary>
    /// librdkafka's mock hands a second producer with the same transactional id a new producer id
    /// instead of bumping the epoch of the first, so it never fences the first by itself. What a
    /// Kafka coordinator answers the zombie is played by injection: INVALID_PRODUCER_EPOCH (what
    /// coordinators before KIP-588 answer, and Java maps to fenced) on the zombie's EndTxn.
    /// </summary>
    [Fact]
    public async Task A_zombie_whose_EndTxn_is_answered_with_an_old_epoch_is_fenced_and_a_second_producer_carries_on()
    {
        _mock.CreateTopic("zz", 1);
        await using var first = Producer("zz-txn");
        await first.InitTransactionsAsync();
        first.BeginTransaction();
        await first.ProduceAsync("zz", new Message("k", "zombie"));

        await using var second = Producer("zz-txn");
        await second.InitTransactionsAsync();
        _mock.PushRequestErrors((short)ApiKey.EndTxn, (short)ErrorCode.InvalidProducerEpoch);

        await Assert.ThrowsAsync<ProducerFencedException>(async () => await first.CommitTransactionAsync());
        Assert.Throws<ProducerFencedException>(() => first.BeginTransaction());
        await Assert.ThrowsAsync<ProducerFencedException>(async () => await first.AbortTransactionAsync());
        await Assert.ThrowsAsync<ProducerFencedException>(() => first.ProduceAsync("zz", new Message("k", "v")));

        second.BeginTransaction();
        await second.ProduceAsync("zz", new Message("k", "live"));
        await second.CommitTransactionAsync();
    }

    [Fact]
    public async Task Retriable_coordinator_errors_are_retried_and_the_transaction_commits()
    {
        _mock.CreateTopic("rt", 2);
        _mock.CreateTopic("rt-in", 1);
        _mock.SetCoordinator("transaction", "rt-txn", 2);
        _mock.PushRequestErrors((short)ApiKey.InitProducerId, (short)ErrorCode.ConcurrentTransactions, (short)ErrorCode.CoordinatorLoadInProgress, (short)ErrorCode.NotCoordinator);
        await using var producer = Producer("rt-txn");
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        _mock.PushRequestErrors((short)ApiKey.AddPartitionsToTxn, (short)ErrorCode.ConcurrentTransactions, (short)ErrorCode.NotCoordinator);
        _mock.PushRequestErrors((short)ApiKey.AddOffsetsToTxn, (short)ErrorCode.CoordinatorLoadInProgress);
        _mock.PushRequestErrors((short)ApiKey.TxnOffsetCommit, (short)ErrorCode.NotCoordinator);
        _mock.PushRequestErrors((short)ApiKey.EndTxn, (short)ErrorCode.ConcurrentTransactions, (short)ErrorCode.CoordinatorNotAvailable);
        var sends = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync("rt", new Message($"k{i}", $"v{i}") { Partition = i % 2 })).ToList();
        await producer.SendOffsetsToTransactionAsync([new TopicPartitionOffset("rt-in", 0, 5)], new ConsumerGroupMetadata("rt-g"));
        await producer.CommitTransactionAsync();
        await Task.WhenAll(sends);
        var values = await ReadCommittedUntilSentinelAfterCommit("rt", 2);
        Assert.Equal(10, values.Count);
    }

    [Fact]
    public async Task A_stale_group_generation_makes_the_transaction_abortable_and_it_aborts_cleanly()
    {
        _mock.CreateTopic("sg", 1);
        await using var producer = Producer("sg-txn");
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        await producer.ProduceAsync("sg", new Message("k", "v"));
        _mock.PushRequestErrors((short)ApiKey.TxnOffsetCommit, (short)ErrorCode.IllegalGeneration);
        await Assert.ThrowsAsync<CommitFailedException>(async () =>
            await producer.SendOffsetsToTransactionAsync([new TopicPartitionOffset("sg", 0, 1)], new ConsumerGroupMetadata("sg-g", 3, "member-1", null)));
        var commit = await Assert.ThrowsAnyAsync<KafkaException>(async () => await producer.CommitTransactionAsync());
        Assert.IsType<CommitFailedException>(commit.InnerException);
        await producer.AbortTransactionAsync();
        producer.BeginTransaction();
        await producer.ProduceAsync("sg", new Message("k", "after"));
        await producer.CommitTransactionAsync();
    }

    [Fact]
    public async Task A_failed_send_makes_commit_throw_and_the_abort_bumps_the_epoch()
    {
        _mock.CreateTopic("fs", 1);
        _mock.SetPartitionLeader("fs", 0, 1);
        await using var producer = Producer("fs-txn");
        await producer.InitTransactionsAsync();
        producer.BeginTransaction();
        await producer.ProduceAsync("fs", new Message("k", "first"));
        _mock.PushRequestErrors((short)ApiKey.Produce, (short)ErrorCode.InvalidRecord);
        await Assert.ThrowsAnyAsync<KafkaException>(() => producer.ProduceAsync("fs", new Message("k", "refused")));
        await Assert.ThrowsAnyAsync<KafkaException>(async () => await producer.CommitTransactionAsync());
        await producer.AbortTransactionAsync(); // EndTxn(abort), then InitProducerId with the current epoch (KIP-360)

        producer.BeginTransaction();
        await producer.ProduceAsync("fs", new Message("k", "second"));
        await producer.CommitTransactionAsync();
        var log = await LogOf("fs", 0);
        Assert.Equal([(short)0, (short)0, (short)1, (short)1], log.Select(b => b.Header.ProducerEpoch));
        Assert.Equal([null, ControlRecordType.Abort, null, ControlRecordType.Commit], log.Select(b => b.Control));
        Assert.Equal(0, log[2].Header.BaseSequence); // the bumped epoch starts its sequence over
    }

    [Fact]
    public async Task A_call_that_outlives_max_block_throws_a_timeout_keeps_running_and_is_waited_for_by_calling_it_again()
    {
        _mock.CreateTopic("tm", 1);
        _mock.SetCoordinator("transaction", "tm-txn", 2);
        _mock.SetBrokerDown(2);
        await using var producer = Producer("tm-txn", o => o with { MaxBlock = TimeSpan.FromMilliseconds(500) });
        await Assert.ThrowsAsync<KafkaTimeoutException>(async () => await producer.InitTransactionsAsync());
        // Still running: another transactional call is refused until it completes.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await producer.CommitTransactionAsync());
        Assert.Contains("InitTransactions", refused.Message);
        Assert.Throws<InvalidOperationException>(() => producer.BeginTransaction());

        _mock.SetBrokerUp(2);
        await using var patient = Producer("tm-txn-other"); // a second producer shows the coordinator is back
        await patient.InitTransactionsAsync();
        await Eventually.True(async () =>
        {
            try
            {
                await producer.InitTransactionsAsync();
                return true;
            }
            catch (KafkaTimeoutException)
            {
                return false;
            }
        }, "the first InitTransactions completed once the coordinator was back");
        producer.BeginTransaction();
        await producer.ProduceAsync("tm", new Message("k", "v"));
        await producer.CommitTransactionAsync();
    }

    [Theory]
    [InlineData(GroupProtocol.Classic, "static-1")]
    [InlineData(GroupProtocol.Classic, null)]
    [InlineData(GroupProtocol.Consumer, null)]
    public async Task GroupMetadata_names_the_member_under_both_protocols(GroupProtocol protocol, string? instance)
    {
        _mock.CreateTopic("gm", 2);
        _mock.SetGroupConsumerHeartbeatInterval(TimeSpan.FromSeconds(1));
        await Produce(_mock.BootstrapServers, "gm", 4);
        string group = $"gm-{protocol}-{instance}";
        var options = protocol == GroupProtocol.Consumer
            ? OurConsumerKip848Tests.ConsumerProtocolOptions(_mock.BootstrapServers, group)
            : Options(_mock.BootstrapServers, group);
        await using var consumer = new KafkaConsumer<string, string>(options with
        {
            GroupInstanceId = instance,
            EnableAutoCommit = false,
            RetryBackoff = TimeSpan.FromMilliseconds(50),
            MaxApiVersions = MockClusterConsumerTests.MockVersionCaps,
        }, loggerFactory: TestLogging.Factory);
        Assert.Equal(new ConsumerGroupMetadata(group, -1, "", instance), consumer.GroupMetadata);
        consumer.Subscribe("gm");
        await PollUntil(consumer, 4);
        var metadata = consumer.GroupMetadata!;
        Assert.True(metadata.GenerationId > 0, $"a generation (member epoch) once in the group: {metadata}");
        Assert.NotEmpty(metadata.MemberId);
        Assert.Equal((group, instance), (metadata.GroupId, metadata.GroupInstanceId));
    }

    private async Task<List<string>> ReadCommittedUntilSentinelAfterCommit(string topic, int partitions)
    {
        await using (var plain = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = _mock.BootstrapServers }))
        {
            for (int p = 0; p < partitions; p++)
                await plain.ProduceAsync(topic, new Message("s", "end") { Partition = p });
        }
        return await ReadCommittedUntilSentinel(topic, partitions, "end");
    }
}
