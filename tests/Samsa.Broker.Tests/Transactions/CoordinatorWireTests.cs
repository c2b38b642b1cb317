using System.Net;
using Samsa.Broker.Tests.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests.Transactions;

/// <summary>The transaction coordinator's APIs on the wire: what ApiVersions lists, per-version errors, KIP-890 verification, Describe/ListTransactions, a restart.</summary>
public sealed class CoordinatorWireTests : IAsyncLifetime
{
    private const string Topic = "wire";
    private const string Id = "wire-txn";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-coordwire-" + Guid.NewGuid().ToString("N"));
    private SamsaBroker _broker = null!;
    private Wire _wire = null!;

    private BrokerOptions Options => new() { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1, TransactionStateLogPartitions = 3 };

    public async Task InitializeAsync()
    {
        _broker = await SamsaBroker.StartAsync(Options);
        Assert.Equal(ErrorCode.None, _broker.Topics.Create(Topic, 2).Error);
        _wire = await Wire.ConnectAsync(_broker.Port);
    }

    public async Task DisposeAsync()
    {
        await _wire.DisposeAsync();
        await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(long Pid, short Epoch)> Init(short version = 4, long pid = -1, short epoch = -1, ErrorCode expected = ErrorCode.None)
    {
        var r = await _wire.SendAsync<InitProducerIdResponse>(new InitProducerIdRequest { TransactionalId = Id, TransactionTimeoutMs = 60_000, ProducerId = pid, ProducerEpoch = epoch }, version);
        Assert.Equal(expected, r.ErrorCode);
        return (r.ProducerId, r.ProducerEpoch);
    }

    private async Task<Dictionary<int, ErrorCode>> AddPartitions(long pid, short epoch, string topic, params int[] partitions)
    {
        var r = await _wire.SendAsync<AddPartitionsToTxnResponse>(new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = Id,
            V3AndBelowProducerId = pid,
            V3AndBelowProducerEpoch = epoch,
            V3AndBelowTopics = [new() { Name = topic, Partitions = [.. partitions] }],
        }, 3);
        return r.ResultsByTopicV3AndBelow.Single().ResultsByPartition.ToDictionary(p => p.PartitionIndex, p => (ErrorCode)p.PartitionErrorCode);
    }

    private async Task<ErrorCode> Produce(long pid, short epoch, int partition, short version, int sequence = 0)
    {
        using var builder = new RecordBatchBuilder { ProducerId = pid, ProducerEpoch = epoch, BaseSequence = sequence, IsTransactional = true };
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), [1], false, [2], false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        var r = await _wire.SendAsync<ProduceResponse>(new ProduceRequest
        {
            TransactionalId = Id,
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = Topic, PartitionData = [new() { Index = partition, Records = output.WrittenSpan.ToArray() }] }],
        }, version);
        return r.Responses.Single().PartitionResponses.Single().ErrorCode;
    }

    [Fact]
    public async Task ApiVersions_lists_the_transaction_apis_and_FindCoordinator_answers_this_broker_for_transactional_ids()
    {
        var versions = await _wire.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3);
        var served = versions.ApiKeys.ToDictionary(k => (ApiKey)k.ApiKey, k => (k.MinVersion, k.MaxVersion));
        Assert.Equal((0, 6), served[ApiKey.InitProducerId]);
        Assert.Equal((0, 4), served[ApiKey.AddPartitionsToTxn]);
        Assert.Equal((0, 4), served[ApiKey.AddOffsetsToTxn]);
        Assert.Equal((0, 4), served[ApiKey.EndTxn]);
        Assert.Equal((0, 4), served[ApiKey.TxnOffsetCommit]);
        Assert.Equal((0, 0), served[ApiKey.DescribeTransactions]);
        Assert.Equal((0, 1), served[ApiKey.ListTransactions]);

        var single = await _wire.SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { Key = Id, KeyType = 1 }, 3);
        Assert.Equal((ErrorCode.None, _broker.Port), (single.ErrorCode, single.Port));
        var batched = await _wire.SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = [Id, "other"] }, 4);
        Assert.All(batched.Coordinators, c => Assert.Equal((ErrorCode.None, _broker.Port), (c.ErrorCode, c.Port)));
    }

    [Fact]
    public async Task AddPartitionsToTxn_names_an_unknown_partition_and_attempts_none_of_the_others()
    {
        var (pid, epoch) = await Init();
        var results = await AddPartitions(pid, epoch, Topic, 0, 9);
        Assert.Equal(ErrorCode.OperationNotAttempted, results[0]);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, results[9]);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (await AddPartitions(pid, epoch, "__consumer_offsets", 0))[0]);
        Assert.Equal(ErrorCode.InvalidTxnState, await EndTxn(pid, epoch, commit: true)); // nothing was added
    }

    private async Task<ErrorCode> EndTxn(long pid, short epoch, bool commit, short version = 3) =>
        (await _wire.SendAsync<EndTxnResponse>(new EndTxnRequest { TransactionalId = Id, ProducerId = pid, ProducerEpoch = epoch, Committed = commit }, version)).ErrorCode;

    [Fact]
    public async Task A_transactional_batch_for_a_partition_not_in_the_transaction_is_refused_as_Kafka_refuses_it()
    {
        var (pid, epoch) = await Init();
        Assert.Equal(ErrorCode.InvalidTxnState, await Produce(pid, epoch, 0, version: 9));
        Assert.Equal(ErrorCode.TransactionAbortable, await Produce(pid, epoch, 0, version: 11));
        Assert.Equal(ErrorCode.None, (await AddPartitions(pid, epoch, Topic, 0))[0]);
        Assert.Equal(ErrorCode.None, await Produce(pid, epoch, 0, version: 9));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, await Produce(pid, (short)(epoch + 1), 0, version: 9, sequence: 0));

        // What a partition leader asks (v4, VerifyOnly): partition 0 is in, 1 is not.
        var verify = await _wire.SendAsync<AddPartitionsToTxnResponse>(new AddPartitionsToTxnRequest
        {
            Transactions = [new() { TransactionalId = Id, ProducerId = pid, ProducerEpoch = epoch, VerifyOnly = true, Topics = [new() { Name = Topic, Partitions = [0, 1] }] }],
        }, 4);
        var byPartition = verify.ResultsByTransaction.Single().TopicResults.Single().ResultsByPartition.ToDictionary(p => p.PartitionIndex, p => (ErrorCode)p.PartitionErrorCode);
        Assert.Equal(ErrorCode.None, byPartition[0]);
        Assert.Equal(ErrorCode.TransactionAbortable, byPartition[1]);

        Assert.Equal(ErrorCode.None, await EndTxn(pid, epoch, commit: true));
        Assert.True(_broker.Topics.TryGet(Topic, out var topic));
        Assert.Equal(topic.Partitions[0].LogEndOffset, topic.Partitions[0].LastStableOffset);
        Assert.Equal(2, topic.Partitions[0].LogEndOffset); // the batch and its COMMIT marker
    }

    [Fact]
    public async Task A_fenced_producer_is_told_INVALID_PRODUCER_EPOCH_by_old_versions_and_PRODUCER_FENCED_by_new_ones()
    {
        var (pid, epoch) = await Init();
        await Init();
        Assert.Equal(ErrorCode.InvalidProducerEpoch, await EndTxn(pid, epoch, commit: true, version: 1));
        Assert.Equal(ErrorCode.ProducerFenced, await EndTxn(pid, epoch, commit: true, version: 2));
        await Init(version: 3, pid: pid + 100, epoch: 0, expected: ErrorCode.InvalidProducerEpoch);
        await Init(version: 4, pid: pid + 100, epoch: 0, expected: ErrorCode.ProducerFenced);
        var timeout = await _wire.SendAsync<InitProducerIdResponse>(new InitProducerIdRequest { TransactionalId = Id, TransactionTimeoutMs = 3_600_000, ProducerId = -1, ProducerEpoch = -1 }, 4);
        Assert.Equal(ErrorCode.InvalidTransactionTimeout, timeout.ErrorCode);
    }

    [Fact]
    public async Task Describe_and_ListTransactions_show_an_open_transaction_and_survive_a_restart()
    {
        var (pid, epoch) = await Init();
        await AddPartitions(pid, epoch, Topic, 1, 0);
        var described = (await _wire.SendAsync<DescribeTransactionsResponse>(new DescribeTransactionsRequest { TransactionalIds = [Id, "nobody"] }, 0)).TransactionStates;
        Assert.Equal((ErrorCode.None, "Ongoing", pid, epoch, 60_000), (described[0].ErrorCode, described[0].TransactionState, described[0].ProducerId, described[0].ProducerEpoch, described[0].TransactionTimeoutMs));
        Assert.Equal([0, 1], described[0].Topics.Single(t => t.Topic == Topic).Partitions);
        Assert.Equal(ErrorCode.TransactionalIdNotFound, described[1].ErrorCode);

        var listed = await _wire.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest { StateFilters = ["Ongoing", "Bogus"] }, 1);
        Assert.Equal(["Bogus"], listed.UnknownStateFilters);
        Assert.Equal((Id, pid, "Ongoing"), (listed.TransactionStates.Single().TransactionalId, listed.TransactionStates.Single().ProducerId, listed.TransactionStates.Single().TransactionState));
        Assert.Empty((await _wire.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest { StateFilters = ["Empty"] }, 0)).TransactionStates);
        Assert.Empty((await _wire.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest { ProducerIdFilters = [pid + 1] }, 0)).TransactionStates);

        await _wire.DisposeAsync();
        await _broker.DisposeAsync();
        _broker = await SamsaBroker.StartAsync(Options);
        _wire = await Wire.ConnectAsync(_broker.Port);
        var again = (await _wire.SendAsync<DescribeTransactionsResponse>(new DescribeTransactionsRequest { TransactionalIds = [Id] }, 0)).TransactionStates.Single();
        Assert.Equal(("Ongoing", pid, epoch), (again.TransactionState, again.ProducerId, again.ProducerEpoch));
        Assert.Equal(ErrorCode.None, await EndTxn(pid, epoch, commit: false));
        var aborted = (await _wire.SendAsync<DescribeTransactionsResponse>(new DescribeTransactionsRequest { TransactionalIds = [Id] }, 0)).TransactionStates.Single();
        Assert.Equal("CompleteAbort", aborted.TransactionState);
        Assert.Empty(aborted.Topics);
    }
}
