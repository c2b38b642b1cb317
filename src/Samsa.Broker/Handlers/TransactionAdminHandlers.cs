using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DescribeTransactions v0 (KIP-664): each id's state, producer, timeout, start time and partitions;
// TRANSACTIONAL_ID_NOT_FOUND for an unknown one, INVALID_REQUEST for "", and with an authorizer
// DESCRIBE on the id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
internal sealed class DescribeTransactionsHandler(TransactionCoordinator transactions) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeTransactions;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeTransactionsRequest)request;
        var response = new DescribeTransactionsResponse();
        foreach (string id in r.TransactionalIds)
        {
            var state = new DescribeTransactionsResponse.TransactionStateData { TransactionalId = id, ProducerId = -1, ProducerEpoch = -1, TransactionStartTimeMs = -1 };
            response.TransactionStates.Add(state);
            if (!context.Authorize(AclOperation.Describe, AclResourceType.TransactionalId, id))
            {
                state.ErrorCode = ErrorCode.TransactionalIdAuthorizationFailed;
                continue;
            }
            if (id.Length == 0)
            {
                state.ErrorCode = ErrorCode.InvalidRequest;
                continue;
            }
            var m = transactions.ShardFor(id).Get(id);
            if (m is null || m.State == TxnState.Dead)
            {
                state.ErrorCode = ErrorCode.TransactionalIdNotFound;
                continue;
            }
            state.TransactionState = TxnStates.Name(m.State);
            state.TransactionTimeoutMs = m.TimeoutMs;
            state.TransactionStartTimeMs = m.StartMs;
            state.ProducerId = m.ProducerId;
            state.ProducerEpoch = m.ProducerEpoch;
            state.Topics = m.Partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
                .Select(g => new DescribeTransactionsResponse.TopicData { Topic = g.Key, Partitions = g.Select(p => p.Partition).ToList() }).ToList();
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// ListTransactions v0-1: every known transactional id (Dead ones excepted) matching the state and
// producer-id filters (empty = all) and, v1, running longer than DurationFilter ms; unknown state
// names come back in UnknownStateFilters. With an authorizer only ids the caller may DESCRIBE.
internal sealed class ListTransactionsHandler(TransactionCoordinator transactions, TimeProvider time) : IApiHandler
{
    public ApiKey Key => ApiKey.ListTransactions;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ListTransactionsRequest)request;
        var response = new ListTransactionsResponse();
        var states = new HashSet<TxnState>();
        foreach (string name in r.StateFilters)
        {
            if (TxnStates.TryParse(name, out var s))
                states.Add(s);
            else
                response.UnknownStateFilters.Add(name);
        }
        // Only unknown names: nothing can match (Kafka answers an empty list with them).
        if (r.StateFilters.Count > 0 && states.Count == 0)
            return ValueTask.FromResult<IResponse?>(response);
        var producers = r.ProducerIdFilters.ToHashSet();
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var m in transactions.Shards.SelectMany(s => s.All()).OrderBy(m => m.TransactionalId, StringComparer.Ordinal))
        {
            if (m.State == TxnState.Dead || (states.Count > 0 && !states.Contains(m.State)) || (producers.Count > 0 && !producers.Contains(m.ProducerId)))
                continue;
            if (r.DurationFilter >= 0 && now - m.StartMs <= r.DurationFilter)
                continue;
            if (!context.Authorize(AclOperation.Describe, AclResourceType.TransactionalId, m.TransactionalId))
                continue;
            response.TransactionStates.Add(new ListTransactionsResponse.TransactionStateData { TransactionalId = m.TransactionalId, ProducerId = m.ProducerId, TransactionState = TxnStates.Name(m.State) });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
