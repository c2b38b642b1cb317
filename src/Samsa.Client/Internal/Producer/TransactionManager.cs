using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// The coordinator side of a transactional producer (the request half of Java's
/// TransactionManager): InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn + TxnOffsetCommit and
/// EndTxn, each retried on the errors Java retries (re-finding the coordinator where that is the
/// cause) and otherwise classified as abortable or fatal in <see cref="TransactionStateMachine"/>.
/// One coordinator request is in flight at a time, as in Java. Retries wait retry.backoff.ms on the
/// producer's <see cref="TimeProvider"/>; they end when the state machine enters an error state or
/// the caller's token is cancelled.
/// </summary>
internal sealed partial class TransactionManager(
    TransactionStateMachine state,
    ITransactionTransport transport,
    TimeSpan transactionTimeout,
    TimeSpan retryBackoff,
    TimeProvider time,
    ILogger log) : IDisposable
{
    private const sbyte GroupKey = 0;
    private const sbyte TransactionKey = 1;
    // Java's ADD_PARTITIONS_RETRY_BACKOFF_MS: the previous transaction is usually just finishing.
    private static readonly TimeSpan ConcurrentTransactionsBackoff = TimeSpan.FromMilliseconds(20);

    private readonly SemaphoreSlim _oneRequest = new(1, 1);
    private BrokerNode? _coordinator;
    private readonly Dictionary<string, BrokerNode> _groupCoordinators = new(StringComparer.Ordinal);

    private volatile Task _adding = Task.CompletedTask;

    public TransactionStateMachine State => state;

    /// <summary>
    /// Completes when no AddPartitionsToTxn is under way: an abort must know whether the
    /// coordinator has partitions in the transaction (then it needs EndTxn) before it decides.
    /// </summary>
    public Task AddingSettled => _adding;

    /// <summary>After an epoch bump every partition's sequence starts at 0 again.</summary>
    public Action? EpochBumped { get; set; }

    private enum Next
    {
        Done,
        Retry,
        RetrySoon,
        FindCoordinator,
    }

    /// <summary>InitProducerId with the transactional id: the first one, or (with the current id and epoch) the KIP-360 bump.</summary>
    public async Task InitProducerIdAsync(bool bump, CancellationToken cancellationToken)
    {
        long producerId = bump ? state.ProducerId : -1;
        short epoch = bump ? state.Epoch : (short)-1;
        await RetryAsync("InitProducerId", TransactionKey, state.TransactionalId, async (node, token) =>
        {
            short version = await transport.VersionAsync(node, ApiKey.InitProducerId, token).ConfigureAwait(false);
            if (version < 0)
                throw Fatal(new KafkaException(ErrorCode.UnsupportedVersion, $"{node} does not speak InitProducerId."));
            state.CanBumpEpoch = version >= 3;
            if (bump && version < 3)
                throw Fatal(new KafkaException(ErrorCode.UnsupportedVersion, $"{node} cannot bump a producer epoch (InitProducerId v{version} < 3)."));
            var response = await transport.SendAsync<InitProducerIdResponse>(node, new InitProducerIdRequest
            {
                TransactionalId = state.TransactionalId,
                TransactionTimeoutMs = (int)transactionTimeout.TotalMilliseconds,
                ProducerId = producerId,
                ProducerEpoch = epoch,
            }, version, token).ConfigureAwait(false);
            switch (response.ErrorCode)
            {
                case ErrorCode.None:
                    state.Initialized(response.ProducerId, response.ProducerEpoch);
                    if (bump)
                        EpochBumped?.Invoke();
                    log.LogInformation("Transactional id {Id}: producer id {ProducerId}, epoch {Epoch}", state.TransactionalId, response.ProducerId, response.ProducerEpoch);
                    return Next.Done;
                case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable:
                    return Next.FindCoordinator;
                case ErrorCode.CoordinatorLoadInProgress or ErrorCode.ConcurrentTransactions:
                    return Next.Retry;
                case var e when e.IsRetriable():
                    return Next.Retry;
                case ErrorCode.InvalidProducerEpoch or ErrorCode.ProducerFenced:
                    throw Fatal(Fenced("InitProducerId"));
                default:
                    throw Fatal(KafkaException.FromError(response.ErrorCode, $"InitProducerId for transactional id '{state.TransactionalId}'"));
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// AddPartitionsToTxn for every partition waiting to join (one request per round). The sender
    /// calls it before draining, so no batch of a new partition leaves before the partition is in.
    /// </summary>
    public async Task AddPartitionsAsync(CancellationToken cancellationToken)
    {
        var partitions = state.TakePartitionsToAdd();
        if (partitions.Count == 0)
            return;
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _adding = settled.Task;
        bool added = false, retry = false;
        try
        {
            await RetryAsync("AddPartitionsToTxn", TransactionKey, state.TransactionalId, async (node, token) =>
            {
                if (state.State == TransactionState.AbortingTransaction)
                    return Next.Done; // not added: the abort needs them no more
                short version = Math.Min(await transport.VersionAsync(node, ApiKey.AddPartitionsToTxn, token).ConfigureAwait(false), (short)3);
                if (version < 0)
                    throw Fatal(new KafkaException(ErrorCode.UnsupportedVersion, $"{node} does not speak AddPartitionsToTxn."));
                var response = await transport.SendAsync<AddPartitionsToTxnResponse>(node, new AddPartitionsToTxnRequest
                {
                    V3AndBelowTransactionalId = state.TransactionalId,
                    V3AndBelowProducerId = state.ProducerId,
                    V3AndBelowProducerEpoch = state.Epoch,
                    V3AndBelowTopics = partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
                        .Select(g => new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = g.Key, Partitions = g.Select(p => p.Partition).ToList() })
                        .ToList(),
                }, version, token).ConfigureAwait(false);
                var next = OnAddPartitions(response, partitions.Count);
                added = next == Next.Done;
                return next;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            retry = true;
            throw;
        }
        finally
        {
            state.PartitionsAnswered(partitions, added, retry);
            settled.TrySetResult();
        }
    }

    private Next OnAddPartitions(AddPartitionsToTxnResponse response, int asked)
    {
        var unauthorized = new SortedSet<string>(StringComparer.Ordinal);
        var failed = new List<string>();
        int answered = 0;
        foreach (var topic in response.ResultsByTopicV3AndBelow)
        {
            foreach (var p in topic.ResultsByPartition)
            {
                answered++;
                var error = (ErrorCode)p.PartitionErrorCode;
                switch (error)
                {
                    case ErrorCode.None or ErrorCode.OperationNotAttempted:
                        continue;
                    case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable:
                        return Next.FindCoordinator;
                    case ErrorCode.ConcurrentTransactions:
                        return Next.RetrySoon;
                    case var e when e.IsRetriable():
                        return Next.Retry;
                    case ErrorCode.InvalidProducerEpoch or ErrorCode.ProducerFenced:
                        throw Fatal(Fenced("AddPartitionsToTxn"));
                    case ErrorCode.TransactionalIdAuthorizationFailed or ErrorCode.InvalidTxnState:
                        throw Fatal(KafkaException.FromError(error, $"AddPartitionsToTxn for transactional id '{state.TransactionalId}'"));
                    case ErrorCode.TopicAuthorizationFailed:
                        unauthorized.Add(topic.Name);
                        break;
                    case ErrorCode.UnknownProducerId or ErrorCode.InvalidProducerIdMapping:
                        throw Abortable(KafkaException.FromError(error, "AddPartitionsToTxn"), bumpEpoch: true);
                    default:
                        failed.Add($"{topic.Name}-{p.PartitionIndex}: {error}");
                        break;
                }
            }
        }
        if (unauthorized.Count > 0)
            throw Abortable(new TopicAuthorizationException($"Not authorized to write to {string.Join(", ", unauthorized)} in a transaction."));
        if (failed.Count > 0)
            throw Abortable(new KafkaException($"Could not add partitions to the transaction: {string.Join("; ", failed)}."));
        if (answered < asked)
            return Next.Retry; // a partition left out of the answer was not added
        return Next.Done;
    }

    /// <summary>AddOffsetsToTxn to the transaction coordinator, then TxnOffsetCommit to the group's coordinator (KIP-447 metadata from v3).</summary>
    public async Task SendOffsetsAsync(IReadOnlyList<TopicPartitionOffset> offsets, ConsumerGroupMetadata group, CancellationToken cancellationToken)
    {
        await RetryAsync("AddOffsetsToTxn", TransactionKey, state.TransactionalId, async (node, token) =>
        {
            short version = await transport.VersionAsync(node, ApiKey.AddOffsetsToTxn, token).ConfigureAwait(false);
            if (version < 0)
                throw Fatal(new KafkaException(ErrorCode.UnsupportedVersion, $"{node} does not speak AddOffsetsToTxn."));
            var response = await transport.SendAsync<AddOffsetsToTxnResponse>(node, new AddOffsetsToTxnRequest
            {
                TransactionalId = state.TransactionalId,
                ProducerId = state.ProducerId,
                ProducerEpoch = state.Epoch,
                GroupId = group.GroupId,
            }, version, token).ConfigureAwait(false);
            switch (response.ErrorCode)
            {
                case ErrorCode.None:
                    state.OffsetsAdded();
                    return Next.Done;
                case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable:
                    return Next.FindCoordinator;
                case ErrorCode.CoordinatorLoadInProgress or ErrorCode.ConcurrentTransactions:
                    return Next.Retry;
                case var e when e.IsRetriable():
                    return Next.Retry;
                case ErrorCode.UnknownProducerId or ErrorCode.InvalidProducerIdMapping:
                    throw Abortable(KafkaException.FromError(response.ErrorCode, "AddOffsetsToTxn"), bumpEpoch: true);
                case ErrorCode.InvalidProducerEpoch or ErrorCode.ProducerFenced:
                    throw Fatal(Fenced("AddOffsetsToTxn"));
                case ErrorCode.TransactionalIdAuthorizationFailed or ErrorCode.InvalidTxnState:
                    throw Fatal(KafkaException.FromError(response.ErrorCode, $"AddOffsetsToTxn for transactional id '{state.TransactionalId}'"));
                case ErrorCode.GroupAuthorizationFailed:
                    throw Abortable(KafkaException.FromError(response.ErrorCode, $"group {group.GroupId}"));
                default:
                    throw Fatal(KafkaException.FromError(response.ErrorCode, "AddOffsetsToTxn"));
            }
        }, cancellationToken).ConfigureAwait(false);
        await CommitOffsetsAsync(offsets, group, cancellationToken).ConfigureAwait(false);
    }

    private async Task CommitOffsetsAsync(IReadOnlyList<TopicPartitionOffset> offsets, ConsumerGroupMetadata group, CancellationToken cancellationToken)
    {
        var pending = offsets.ToDictionary(o => (o.Topic, o.Partition));
        await RetryAsync("TxnOffsetCommit", GroupKey, group.GroupId, async (node, token) =>
        {
            short version = await transport.VersionAsync(node, ApiKey.TxnOffsetCommit, token).ConfigureAwait(false);
            bool hasGroupMetadata = group.GenerationId > 0 || group.MemberId.Length > 0 || group.GroupInstanceId is not null;
            if (version < 0 || (version < 3 && hasGroupMetadata))
                throw Fatal(new KafkaException(ErrorCode.UnsupportedVersion,
                    $"{node} cannot commit offsets with the consumer's group metadata (TxnOffsetCommit v3, Kafka 2.5+); it speaks {(version < 0 ? "no version" : "v" + version)}."));
            var response = await transport.SendAsync<TxnOffsetCommitResponse>(node, new TxnOffsetCommitRequest
            {
                TransactionalId = state.TransactionalId,
                GroupId = group.GroupId,
                ProducerId = state.ProducerId,
                ProducerEpoch = state.Epoch,
                GenerationId = group.GenerationId,
                MemberId = group.MemberId,
                GroupInstanceId = group.GroupInstanceId,
                Topics = pending.Values.GroupBy(o => o.Topic, StringComparer.Ordinal).Select(g => new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic
                {
                    Name = g.Key,
                    Partitions = g.Select(o => new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition
                    {
                        PartitionIndex = o.Partition,
                        CommittedOffset = o.Offset,
                        CommittedLeaderEpoch = o.LeaderEpoch ?? -1,
                        CommittedMetadata = o.Metadata ?? "",
                    }).ToList(),
                }).ToList(),
            }, version, token).ConfigureAwait(false);
            return OnTxnOffsetCommit(response, pending, group.GroupId);
        }, cancellationToken).ConfigureAwait(false);
    }

    private Next OnTxnOffsetCommit(TxnOffsetCommitResponse response, Dictionary<(string, int), TopicPartitionOffset> pending, string groupId)
    {
        var next = Next.Done;
        foreach (var topic in response.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                switch (p.ErrorCode)
                {
                    case ErrorCode.None:
                        pending.Remove((topic.Name, p.PartitionIndex));
                        break;
                    case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.RequestTimedOut:
                        next = Next.FindCoordinator;
                        break;
                    case var e when e.IsRetriable():
                        next = next == Next.Done ? Next.Retry : next;
                        break;
                    case ErrorCode.GroupAuthorizationFailed:
                        throw Abortable(KafkaException.FromError(p.ErrorCode, $"group {groupId}"));
                    case ErrorCode.FencedInstanceId:
                        throw Abortable(KafkaException.FromError(p.ErrorCode, $"TxnOffsetCommit for group {groupId}"));
                    case ErrorCode.UnknownMemberId or ErrorCode.IllegalGeneration:
                        throw Abortable(new CommitFailedException(p.ErrorCode,
                            $"The transactional offset commit for group {groupId} failed: the consumer's group metadata is stale ({p.ErrorCode}); abort the transaction and poll again."));
                    case ErrorCode.InvalidProducerEpoch or ErrorCode.ProducerFenced:
                        throw Fatal(Fenced("TxnOffsetCommit"));
                    default:
                        throw Fatal(KafkaException.FromError(p.ErrorCode, $"TxnOffsetCommit for group {groupId}"));
                }
            }
        }
        // Partitions the answer left out are still pending.
        return pending.Count == 0 ? Next.Done : next == Next.Done ? Next.Retry : next;
    }

    /// <summary>EndTxn (commit or abort); the caller decides whether one is needed (something was added).</summary>
    public async Task EndTxnAsync(bool commit, CancellationToken cancellationToken)
    {
        await RetryAsync(commit ? "EndTxn(commit)" : "EndTxn(abort)", TransactionKey, state.TransactionalId, async (node, token) =>
        {
            short version = await transport.VersionAsync(node, ApiKey.EndTxn, token).ConfigureAwait(false);
            if (version < 0)
                throw Fatal(new KafkaException(ErrorCode.UnsupportedVersion, $"{node} does not speak EndTxn."));
            var response = await transport.SendAsync<EndTxnResponse>(node, new EndTxnRequest
            {
                TransactionalId = state.TransactionalId,
                ProducerId = state.ProducerId,
                ProducerEpoch = state.Epoch,
                Committed = commit,
            }, version, token).ConfigureAwait(false);
            switch (response.ErrorCode)
            {
                case ErrorCode.None:
                    return Next.Done;
                case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable:
                    return Next.FindCoordinator;
                case ErrorCode.CoordinatorLoadInProgress or ErrorCode.ConcurrentTransactions:
                    return Next.Retry;
                case var e when e.IsRetriable():
                    return Next.Retry;
                case ErrorCode.InvalidProducerEpoch or ErrorCode.ProducerFenced:
                    throw Fatal(Fenced("EndTxn"));
                case ErrorCode.TransactionalIdAuthorizationFailed or ErrorCode.InvalidTxnState:
                    throw Fatal(KafkaException.FromError(response.ErrorCode, $"EndTxn for transactional id '{state.TransactionalId}'"));
                case ErrorCode.UnknownProducerId or ErrorCode.InvalidProducerIdMapping:
                    throw Abortable(KafkaException.FromError(response.ErrorCode, "EndTxn"), bumpEpoch: true);
                default:
                    throw Fatal(KafkaException.FromError(response.ErrorCode, "EndTxn"));
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private ProducerFencedException Fenced(string api) => new(
        $"Producer with transactional id '{state.TransactionalId}' (producer id {state.ProducerId}, epoch {state.Epoch}) was fenced ({api}): another producer with the same transactional id started; close this one.");

    private KafkaException Fatal(KafkaException error)
    {
        log.LogWarning("Transactional id {Id}: fatal error: {Message}", state.TransactionalId, error.Message);
        state.FatalError(error);
        return error;
    }

    private KafkaException Abortable(KafkaException error, bool bumpEpoch = false)
    {
        log.LogInformation("Transactional id {Id}: abortable error: {Message}", state.TransactionalId, error.Message);
        state.AbortableError(error, bumpEpoch);
        return state.HasFatalError ? state.LastError ?? error : error;
    }

    public void Dispose() => _oneRequest.Dispose();
}
