using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Internal.Network;
using Samsa.Client.Internal.Producer;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Tests.Producer;

/// <summary>
/// The transaction manager's coordinator requests against a scripted coordinator, on fake time:
/// which answers are retried (and after how long), which re-find the coordinator, and which end
/// as abortable or fatal errors.
/// </summary>
public sealed class TransactionManagerTests : IDisposable
{
    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(100);
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedCoordinator _coordinator = new();
    private readonly TransactionStateMachine _state = new("txn");
    private readonly TransactionManager _manager;

    public TransactionManagerTests() =>
        _manager = new TransactionManager(_state, _coordinator, TimeSpan.FromMinutes(1), Backoff, _time, NullLogger.Instance);

    public void Dispose() => _manager.Dispose();

    /// <summary>The scripted coordinator answers at once, so an operation waits only on fake time: each step advances it.</summary>
    private async Task Run(Task operation, TimeSpan step)
    {
        for (int i = 0; i < 100 && !operation.IsCompleted; i++)
        {
            await Task.Yield();
            if (!operation.IsCompleted)
                _time.Advance(step);
        }
        Assert.True(operation.IsCompleted, "the operation did not finish within 100 steps of fake time");
        await operation;
    }

    private async Task Init()
    {
        _coordinator.Answer(ApiKey.InitProducerId, _ => new InitProducerIdResponse { ProducerId = 42, ProducerEpoch = 3 });
        _state.BeginInit();
        await Run(_manager.InitProducerIdAsync(bump: false, CancellationToken.None), Backoff);
    }

    [Fact]
    public async Task InitProducerId_retries_loading_and_concurrent_transactions_and_finds_a_moved_coordinator_again()
    {
        _coordinator.Answer(ApiKey.InitProducerId,
            _ => new InitProducerIdResponse { ErrorCode = ErrorCode.ConcurrentTransactions },
            _ => new InitProducerIdResponse { ErrorCode = ErrorCode.CoordinatorLoadInProgress },
            _ => new InitProducerIdResponse { ErrorCode = ErrorCode.NotCoordinator },
            r => new InitProducerIdResponse { ProducerId = 42, ProducerEpoch = 0 });
        _state.BeginInit();
        var init = _manager.InitProducerIdAsync(bump: false, CancellationToken.None);
        await Task.Yield();
        Assert.False(init.IsCompleted); // waiting retry.backoff.ms on fake time
        await Run(init, Backoff);
        Assert.Equal((TransactionState.Ready, 42L, (short)0), (_state.State, _state.ProducerId, _state.Epoch));
        Assert.Equal(2, _coordinator.Lookups[1]); // once at first, once after NOT_COORDINATOR
        var sent = _coordinator.Sent.OfType<InitProducerIdRequest>().ToList();
        Assert.Equal(4, sent.Count);
        Assert.All(sent, r => Assert.Equal(("txn", 60_000, -1L), (r.TransactionalId, r.TransactionTimeoutMs, r.ProducerId)));
    }

    [Theory]
    [InlineData(ErrorCode.ProducerFenced)]
    [InlineData(ErrorCode.InvalidProducerEpoch)] // an older coordinator's fencing answer
    public async Task InitProducerId_answered_fenced_is_fatal(ErrorCode error)
    {
        _coordinator.Answer(ApiKey.InitProducerId, _ => new InitProducerIdResponse { ErrorCode = error });
        _state.BeginInit();
        await Assert.ThrowsAsync<ProducerFencedException>(() => Run(_manager.InitProducerIdAsync(false, CancellationToken.None), Backoff));
        Assert.Equal(TransactionState.FatalError, _state.State);
    }

    [Fact]
    public async Task A_transactional_id_the_principal_may_not_use_is_fatal_at_lookup()
    {
        _coordinator.LookupError = ErrorCode.TransactionalIdAuthorizationFailed;
        _state.BeginInit();
        await Assert.ThrowsAsync<TransactionalIdAuthorizationException>(() => Run(_manager.InitProducerIdAsync(false, CancellationToken.None), Backoff));
        Assert.Equal(TransactionState.FatalError, _state.State);
    }

    [Fact]
    public async Task AddPartitions_sends_every_waiting_partition_in_one_request_and_retries_concurrent_transactions_after_20_ms()
    {
        await Init();
        _state.BeginTransaction();
        _state.MaybeAddPartition("a", 0);
        _state.MaybeAddPartition("a", 1);
        _state.MaybeAddPartition("b", 0);
        _coordinator.Answer(ApiKey.AddPartitionsToTxn,
            r => AddPartitionsAnswer(r, ErrorCode.ConcurrentTransactions),
            r => AddPartitionsAnswer(r, ErrorCode.None));
        // Steps of 20 ms: the retry after CONCURRENT_TRANSACTIONS must not wait the whole retry.backoff.ms.
        var add = _manager.AddPartitionsAsync(CancellationToken.None);
        await Task.Yield();
        _time.Advance(TimeSpan.FromMilliseconds(20));
        await Task.Yield();
        Assert.True(add.IsCompleted, "retried after 20 ms");
        await add;
        var sent = _coordinator.Sent.OfType<AddPartitionsToTxnRequest>().ToList();
        Assert.Equal(2, sent.Count);
        Assert.Equal(["a:0,1", "b:0"], sent[1].V3AndBelowTopics.Select(t => $"{t.Name}:{string.Join(",", t.Partitions)}").Order());
        Assert.Equal((42L, (short)3), (sent[1].V3AndBelowProducerId, sent[1].V3AndBelowProducerEpoch));
        Assert.True(_state.IsSendAllowed("a", 1) && _state.IsSendAllowed("b", 0));
        Assert.True(_state.TransactionStarted);
        Assert.Equal(3, _coordinator.Versions[ApiKey.AddPartitionsToTxn]); // v4+ is the brokers' batched form
    }

    [Fact]
    public async Task An_abort_stops_partitions_still_waiting_to_join_and_AddingSettled_tells_it_when()
    {
        await Init();
        _state.BeginTransaction();
        _state.MaybeAddPartition("a", 0);
        _coordinator.Answer(ApiKey.AddPartitionsToTxn, r => AddPartitionsAnswer(r, ErrorCode.ConcurrentTransactions));
        var add = _manager.AddPartitionsAsync(CancellationToken.None);
        await Task.Yield();
        Assert.False(_manager.AddingSettled.IsCompleted); // backing off before its retry
        _state.BeginAbort();
        await Run(add, TimeSpan.FromMilliseconds(20));
        Assert.True(_manager.AddingSettled.IsCompleted);
        Assert.Single(_coordinator.Sent.OfType<AddPartitionsToTxnRequest>()); // no retry once aborting
        Assert.False(_state.TransactionStarted); // so the abort needs no EndTxn
        Assert.False(_state.IsSendAllowed("a", 0));
    }

    [Fact]
    public async Task A_topic_the_principal_may_not_write_makes_the_transaction_abortable()
    {
        await Init();
        _state.BeginTransaction();
        _state.MaybeAddPartition("secret", 0);
        _state.MaybeAddPartition("open", 0);
        _coordinator.Answer(ApiKey.AddPartitionsToTxn, r => new AddPartitionsToTxnResponse
        {
            ResultsByTopicV3AndBelow =
            [
                Result("secret", 0, ErrorCode.TopicAuthorizationFailed),
                Result("open", 0, ErrorCode.OperationNotAttempted),
            ],
        });
        await Assert.ThrowsAsync<TopicAuthorizationException>(() => Run(_manager.AddPartitionsAsync(CancellationToken.None), Backoff));
        Assert.Equal(TransactionState.AbortableError, _state.State);
        Assert.False(_state.IsSendAllowed("open", 0));
        Assert.False(_state.HasPartitionsToAdd);
    }

    [Fact]
    public async Task Offsets_go_to_the_transaction_coordinator_then_to_the_groups_coordinator_with_the_members_generation()
    {
        await Init();
        _state.BeginTransaction();
        _coordinator.Answer(ApiKey.AddOffsetsToTxn, _ => new AddOffsetsToTxnResponse { ErrorCode = ErrorCode.CoordinatorLoadInProgress }, _ => new AddOffsetsToTxnResponse());
        _coordinator.Answer(ApiKey.TxnOffsetCommit,
            r => CommitAnswer(r, (p, _) => p == 0 ? ErrorCode.None : ErrorCode.NotCoordinator),
            r => CommitAnswer(r, (_, _) => ErrorCode.None));
        var group = new ConsumerGroupMetadata("g", 5, "member-1", "instance-1");
        await Run(_manager.SendOffsetsAsync([new TopicPartitionOffset("in", 0, 10), new TopicPartitionOffset("in", 1, 20, Metadata: "m")], group, CancellationToken.None), Backoff);
        var add = _coordinator.Sent.OfType<AddOffsetsToTxnRequest>().Last();
        Assert.Equal(("txn", "g", 42L, (short)3), (add.TransactionalId, add.GroupId, add.ProducerId, add.ProducerEpoch));
        var commits = _coordinator.Sent.OfType<TxnOffsetCommitRequest>().ToList();
        Assert.Equal(2, commits.Count);
        Assert.Equal(("g", 5, "member-1", "instance-1"), (commits[0].GroupId, commits[0].GenerationId, commits[0].MemberId, commits[0].GroupInstanceId));
        Assert.Equal([1], commits[1].Topics.Single().Partitions.Select(p => p.PartitionIndex)); // only what was not committed yet
        Assert.Equal(2, _coordinator.Lookups[0]); // the group's coordinator, found again after NOT_COORDINATOR
        Assert.True(_state.TransactionStarted);
    }

    [Fact]
    public async Task A_stale_generation_in_the_offset_commit_is_abortable_CommitFailed()
    {
        await Init();
        _state.BeginTransaction();
        _coordinator.Answer(ApiKey.AddOffsetsToTxn, _ => new AddOffsetsToTxnResponse());
        _coordinator.Answer(ApiKey.TxnOffsetCommit, r => CommitAnswer(r, (_, _) => ErrorCode.IllegalGeneration));
        await Assert.ThrowsAsync<CommitFailedException>(() =>
            Run(_manager.SendOffsetsAsync([new TopicPartitionOffset("in", 0, 1)], new ConsumerGroupMetadata("g", 1, "m", null), CancellationToken.None), Backoff));
        Assert.Equal(TransactionState.AbortableError, _state.State);
    }

    [Fact]
    public async Task Group_metadata_needs_TxnOffsetCommit_v3_and_an_older_coordinator_is_fatal_UnsupportedVersion()
    {
        await Init();
        _state.BeginTransaction();
        _coordinator.Versions[ApiKey.TxnOffsetCommit] = 2;
        _coordinator.Answer(ApiKey.AddOffsetsToTxn, _ => new AddOffsetsToTxnResponse());
        var error = await Assert.ThrowsAsync<KafkaException>(() =>
            Run(_manager.SendOffsetsAsync([new TopicPartitionOffset("in", 0, 1)], new ConsumerGroupMetadata("g", 1, "m", null), CancellationToken.None), Backoff));
        Assert.Equal(ErrorCode.UnsupportedVersion, error.Error);
        Assert.Equal(TransactionState.FatalError, _state.State);
        Assert.Empty(_coordinator.Sent.OfType<TxnOffsetCommitRequest>());
    }

    [Fact]
    public async Task EndTxn_with_an_unknown_producer_id_is_abortable_and_asks_for_an_epoch_bump()
    {
        await Init();
        _state.BeginTransaction();
        _state.BeginCommit();
        _coordinator.Answer(ApiKey.EndTxn, _ => new EndTxnResponse { ErrorCode = ErrorCode.UnknownProducerId });
        await Assert.ThrowsAnyAsync<KafkaException>(() => Run(_manager.EndTxnAsync(commit: true, CancellationToken.None), Backoff));
        Assert.Equal(TransactionState.AbortableError, _state.State);
        Assert.True(_state.EpochBumpRequired);
    }

    [Fact]
    public async Task The_epoch_bump_sends_the_current_id_and_epoch_and_restarts_sequences()
    {
        await Init();
        int bumped = 0;
        _manager.EpochBumped = () => bumped++;
        _state.BeginTransaction();
        _state.BatchFailed(new KafkaException(ErrorCode.MessageTooLarge, "too large"));
        _state.BeginAbort();
        Assert.True(_state.CompleteTransaction());
        _coordinator.Answer(ApiKey.InitProducerId, _ => new InitProducerIdResponse { ProducerId = 42, ProducerEpoch = 4 });
        await Run(_manager.InitProducerIdAsync(bump: true, CancellationToken.None), Backoff);
        var bump = _coordinator.Sent.OfType<InitProducerIdRequest>().Last();
        Assert.Equal((42L, (short)3), (bump.ProducerId, bump.ProducerEpoch));
        Assert.Equal((TransactionState.Ready, (short)4, 1), (_state.State, _state.Epoch, bumped));
    }

    [Fact]
    public async Task A_request_stops_retrying_once_the_producer_is_fenced_elsewhere()
    {
        await Init();
        _state.BeginTransaction();
        _coordinator.Answer(ApiKey.AddOffsetsToTxn, _ =>
        {
            _state.BatchFailed(new ProducerFencedException("a batch was fenced meanwhile"));
            return new AddOffsetsToTxnResponse { ErrorCode = ErrorCode.CoordinatorLoadInProgress };
        });
        await Assert.ThrowsAsync<ProducerFencedException>(() =>
            Run(_manager.SendOffsetsAsync([new TopicPartitionOffset("in", 0, 1)], new ConsumerGroupMetadata("g"), CancellationToken.None), Backoff));
        Assert.Single(_coordinator.Sent.OfType<AddOffsetsToTxnRequest>());
    }

    private static AddPartitionsToTxnResponse AddPartitionsAnswer(IRequest request, ErrorCode error) => new()
    {
        ResultsByTopicV3AndBelow = ((AddPartitionsToTxnRequest)request).V3AndBelowTopics
            .Select(t => new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult
            {
                Name = t.Name,
                ResultsByPartition = t.Partitions.Select(p => new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult { PartitionIndex = p, PartitionErrorCode = (short)error }).ToList(),
            }).ToList(),
    };

    private static AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult Result(string topic, int partition, ErrorCode error) => new()
    {
        Name = topic,
        ResultsByPartition = [new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult { PartitionIndex = partition, PartitionErrorCode = (short)error }],
    };

    private static TxnOffsetCommitResponse CommitAnswer(IRequest request, Func<int, string, ErrorCode> error) => new()
    {
        Topics = ((TxnOffsetCommitRequest)request).Topics.Select(t => new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error(p.PartitionIndex, t.Name) }).ToList(),
        }).ToList(),
    };

    /// <summary>A coordinator that answers each api from a script (the last answer repeats), at once.</summary>
    private sealed class ScriptedCoordinator : ITransactionTransport
    {
        private readonly Dictionary<ApiKey, Queue<Func<IRequest, IResponse>>> _script = [];
        private readonly Dictionary<ApiKey, Func<IRequest, IResponse>> _last = [];

        public List<IRequest> Sent { get; } = [];

        public Dictionary<sbyte, int> Lookups { get; } = new() { [0] = 0, [1] = 0 };

        public ErrorCode LookupError { get; set; }

        public Dictionary<ApiKey, short> Versions { get; } = new()
        {
            [ApiKey.InitProducerId] = 4,
            [ApiKey.AddPartitionsToTxn] = 4,
            [ApiKey.AddOffsetsToTxn] = 3,
            [ApiKey.TxnOffsetCommit] = 3,
            [ApiKey.EndTxn] = 3,
        };

        public void Answer(ApiKey api, params Func<IRequest, IResponse>[] answers) => _script[api] = new Queue<Func<IRequest, IResponse>>(answers);

        public Task<BrokerNode> FindCoordinatorAsync(string key, sbyte keyType, CancellationToken cancellationToken)
        {
            Lookups[keyType]++;
            return LookupError == ErrorCode.None
                ? Task.FromResult(new BrokerNode(1, "coordinator", 9092))
                : Task.FromException<BrokerNode>(KafkaException.FromError(LookupError));
        }

        public Task<short> VersionAsync(BrokerNode node, ApiKey api, CancellationToken cancellationToken) =>
            Task.FromResult(Versions.GetValueOrDefault(api, (short)-1));

        public Task<TResponse> SendAsync<TResponse>(BrokerNode node, IRequest request, short version, CancellationToken cancellationToken)
            where TResponse : IResponse, IApiMessage<TResponse>
        {
            Sent.Add(request);
            Versions[request.ApiKey] = version;
            var queue = _script[request.ApiKey];
            var answer = queue.Count > 0 ? queue.Dequeue() : _last[request.ApiKey];
            _last[request.ApiKey] = answer;
            return Task.FromResult((TResponse)answer(request));
        }
    }
}
