using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

/// <summary>A transactional id as ListTransactions reports it.</summary>
/// <param name="TransactionalId">The producer's transactional.id.</param>
/// <param name="ProducerId">The producer id it currently holds.</param>
/// <param name="State">Kafka's state name: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence.</param>
public sealed record TransactionListing(string TransactionalId, long ProducerId, string State);

/// <summary>A transactional id as its coordinator describes it (DescribeTransactions, KIP-664).</summary>
/// <param name="TransactionalId">The producer's transactional.id.</param>
/// <param name="State">Kafka's state name (see <see cref="TransactionListing.State"/>).</param>
/// <param name="ProducerId">The producer id it holds.</param>
/// <param name="ProducerEpoch">The producer epoch (bumped by each InitProducerId and each fencing).</param>
/// <param name="TimeoutMs">The producer's transaction.timeout.ms.</param>
/// <param name="StartTimeMs">When the current transaction's first partition was added (Unix ms), or null when none is open.</param>
/// <param name="CoordinatorId">The broker that coordinates the id.</param>
/// <param name="Partitions">The partitions in the current transaction (those still waiting for a marker while it is being completed).</param>
public sealed record TransactionDescription(string TransactionalId, string State, long ProducerId, short ProducerEpoch, int TimeoutMs, long? StartTimeMs, int CoordinatorId,
    IReadOnlyList<TopicPartition> Partitions);

public sealed partial class KafkaAdminClient
{
    /// <summary>
    /// Every transactional id on every broker (ListTransactions), optionally only those in the given
    /// states, held by the given producer ids, or running for longer than <paramref name="runningLongerThan"/>
    /// (ListTransactions v1, Kafka 3.8+). A state name no broker knows is an <see cref="ArgumentException"/>.
    /// </summary>
    public async Task<IReadOnlyList<TransactionListing>> ListTransactionsAsync(IEnumerable<string>? states = null, IEnumerable<long>? producerIds = null,
        TimeSpan? runningLongerThan = null, CancellationToken cancellationToken = default)
    {
        var request = new ListTransactionsRequest
        {
            StateFilters = states?.ToList() ?? [],
            ProducerIdFilters = producerIds?.ToList() ?? [],
            DurationFilter = runningLongerThan is { } d ? (long)d.TotalMilliseconds : -1,
        };
        var metadata = await _cluster.RefreshMetadataAsync([], cancellationToken).ConfigureAwait(false);
        var result = new List<TransactionListing>();
        foreach (var node in metadata.Brokers.Values)
        {
            var connection = await _cluster.ConnectAsync(node, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
            if (request.DurationFilter >= 0 && (!connection.TryGetVersion(ApiKey.ListTransactions, out short version) || version < 1))
                throw new Errors.UnsupportedVersionException($"{node} cannot filter transactions by duration (ListTransactions v1, Kafka 3.8+).");
            var response = await connection.SendAsync<ListTransactionsResponse>(request, cancellationToken).ConfigureAwait(false);
            if (response.UnknownStateFilters.Count > 0)
                throw new ArgumentException($"{node} knows no transaction state {string.Join(", ", response.UnknownStateFilters)} (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence).", nameof(states));
            ThrowFirst([(response.ErrorCode, null, $"listing transactions on {node}")]);
            result.AddRange(response.TransactionStates.Select(t => new TransactionListing(t.TransactionalId, t.ProducerId, t.TransactionState)));
        }
        return result.OrderBy(t => t.TransactionalId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Describes a transactional id at its coordinator (FindCoordinator key type 1, then DescribeTransactions).</summary>
    public async Task<TransactionDescription> DescribeTransactionAsync(string transactionalId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(transactionalId);
        var find = await _cluster.SendToAnyAsync<FindCoordinatorResponse>(
            new FindCoordinatorRequest { Key = transactionalId, KeyType = 1, CoordinatorKeys = [transactionalId] }, cancellationToken).ConfigureAwait(false);
        var (error, message, id, host, port) = find.Coordinators.Count > 0
            ? (find.Coordinators[0].ErrorCode, find.Coordinators[0].ErrorMessage, find.Coordinators[0].NodeId, find.Coordinators[0].Host, find.Coordinators[0].Port)
            : (find.ErrorCode, find.ErrorMessage, find.NodeId, find.Host, find.Port);
        ThrowFirst([(error, message, $"the coordinator of transactional id {transactionalId}")]);
        var connection = await _cluster.ConnectAsync(new BrokerNode(id, host, port), ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
        var response = await connection.SendAsync<DescribeTransactionsResponse>(new DescribeTransactionsRequest { TransactionalIds = [transactionalId] }, cancellationToken).ConfigureAwait(false);
        var state = response.TransactionStates.Single();
        ThrowFirst([(state.ErrorCode, null, $"transactional id {transactionalId}")]);
        return new TransactionDescription(state.TransactionalId, state.TransactionState, state.ProducerId, state.ProducerEpoch, state.TransactionTimeoutMs,
            state.TransactionStartTimeMs >= 0 ? state.TransactionStartTimeMs : null, id,
            state.Topics.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p))).OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition).ToList());
    }
}
