using Microsoft.Extensions.Logging;
using Samsa.Client.Errors;
using Samsa.Client.Internal.Network;

namespace Samsa.Client.Internal.Producer;

internal sealed partial class TransactionManager
{
    /// <summary>
    /// Runs one coordinator request until it is done: a lost connection, a timeout or a retriable
    /// error backs off retry.backoff.ms (20 ms for CONCURRENT_TRANSACTIONS, as Java) and tries again,
    /// looking the coordinator up again where the error says it moved. Stops with the state's error
    /// as soon as the producer is in an error state (another request or a batch failed).
    /// </summary>
    private async Task RetryAsync(string what, sbyte keyType, string key, Func<BrokerNode, CancellationToken, Task<Next>> attempt, CancellationToken cancellationToken)
    {
        while (true)
        {
            state.ThrowIfError();
            Next next;
            try
            {
                var node = await CoordinatorAsync(keyType, key, cancellationToken).ConfigureAwait(false);
                await _oneRequest.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    next = await attempt(node, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _oneRequest.Release();
                }
            }
            catch (KafkaException e) when (e.IsRetriable && !state.HasError)
            {
                log.LogDebug("Transactional id {Id}: {Request} failed ({Message}); retrying", state.TransactionalId, what, e.Message);
                next = Next.FindCoordinator;
            }
            if (next == Next.Done)
                return;
            if (next == Next.FindCoordinator)
                ForgetCoordinator(keyType, key);
            log.LogDebug("Transactional id {Id}: retrying {Request} ({Next})", state.TransactionalId, what, next);
            var wait = next == Next.RetrySoon && ConcurrentTransactionsBackoff < retryBackoff ? ConcurrentTransactionsBackoff : retryBackoff;
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<BrokerNode> CoordinatorAsync(sbyte keyType, string key, CancellationToken cancellationToken)
    {
        lock (_groupCoordinators)
        {
            if (keyType == TransactionKey && _coordinator is { } known)
                return known;
            if (keyType == GroupKey && _groupCoordinators.TryGetValue(key, out var group))
                return group;
        }
        BrokerNode node;
        try
        {
            node = await transport.FindCoordinatorAsync(key, keyType, cancellationToken).ConfigureAwait(false);
        }
        catch (TransactionalIdAuthorizationException e)
        {
            throw Fatal(e);
        }
        catch (GroupAuthorizationException e)
        {
            throw Abortable(e);
        }
        catch (KafkaException e) when (!e.IsRetriable)
        {
            throw Fatal(e);
        }
        lock (_groupCoordinators)
        {
            if (keyType == TransactionKey)
                _coordinator = node;
            else
                _groupCoordinators[key] = node;
        }
        log.LogDebug("Transactional id {Id}: coordinator of {Type} '{Key}' is {Node}", state.TransactionalId, keyType == TransactionKey ? "transaction" : "group", key, node);
        return node;
    }

    private void ForgetCoordinator(sbyte keyType, string key)
    {
        lock (_groupCoordinators)
        {
            if (keyType == TransactionKey)
                _coordinator = null;
            else
                _groupCoordinators.Remove(key);
        }
    }
}
