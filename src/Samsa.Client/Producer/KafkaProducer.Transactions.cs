using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Internal.Producer;
using Samsa.Protocol;

namespace Samsa.Client.Producer;

public sealed partial class KafkaProducer<TKey, TValue>
{
    private readonly TransactionManager? _transactions;
    private readonly CancellationTokenSource _transactionStop = new();
    private readonly Lock _transactionCallGate = new();
    // A transactional call that timed out (max.block.ms) or was cancelled keeps running; calling
    // the same method again waits for it, as in Java, and any other transactional call is refused.
    private (string Operation, Task Task)? _pendingTransactionCall;

    /// <summary>
    /// Registers transactional.id with its coordinator (InitProducerId): completes or aborts any
    /// transaction a previous producer with this id left open, and fences that producer. Call once,
    /// before anything else transactional. Throws <see cref="KafkaTimeoutException"/> after
    /// max.block.ms (call it again to keep waiting), <see cref="ProducerFencedException"/> or
    /// another fatal error, and <see cref="InvalidOperationException"/> without a transactional.id
    /// or when called twice.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait (the registration carries on; call again to wait for it).</param>
    public ValueTask InitTransactionsAsync(CancellationToken cancellationToken = default) =>
        RunTransactionalAsync("InitTransactions", t =>
        {
            t.State.BeginInit();
            return () => t.InitProducerIdAsync(bump: false, _transactionStop.Token);
        }, cancellationToken);

    /// <summary>
    /// Starts a transaction: every record produced until the commit or abort belongs to it. Local
    /// only (the coordinator hears of the transaction with its first partition or offsets). Throws
    /// <see cref="InvalidOperationException"/> before InitTransactionsAsync or inside a
    /// transaction, and the producer's error after a fatal or (until aborted) abortable one.
    /// </summary>
    public void BeginTransaction()
    {
        var transactions = RequireTransactions("BeginTransaction");
        ThrowIfPendingCall("BeginTransaction");
        transactions.State.BeginTransaction();
    }

    /// <summary>
    /// Adds the consumer's offsets to the transaction (AddOffsetsToTxn, then TxnOffsetCommit to the
    /// group's coordinator): they become the group's committed offsets only if the transaction
    /// commits. Pass the offsets of the next records to read (last processed + 1) and the
    /// consumer's <see cref="IKafkaConsumer{TKey, TValue}.GroupMetadata"/>, so that a consumer fenced
    /// by a rebalance cannot commit (<see cref="CommitFailedException"/>; abort then). Nothing is
    /// sent for an empty set of offsets.
    /// </summary>
    /// <param name="offsets">Per partition, the offset to commit.</param>
    /// <param name="groupMetadata">The consuming group member.</param>
    /// <param name="cancellationToken">Stops the wait (the commit carries on; call again to wait for it).</param>
    public ValueTask SendOffsetsToTransactionAsync(IEnumerable<TopicPartitionOffset> offsets, ConsumerGroupMetadata groupMetadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(groupMetadata);
        ArgumentException.ThrowIfNullOrWhiteSpace(groupMetadata.GroupId, nameof(groupMetadata));
        var list = offsets.ToList();
        return RunTransactionalAsync("SendOffsetsToTransaction", t =>
        {
            t.State.ThrowIfError();
            if (t.State.State != TransactionState.InTransaction)
                throw new InvalidOperationException($"Transactional id '{t.State.TransactionalId}': cannot send offsets while no transaction is in progress (state {t.State.State}); call BeginTransaction first.");
            return () => list.Count == 0 ? Task.CompletedTask : t.SendOffsetsAsync(list, groupMetadata, _transactionStop.Token);
        }, cancellationToken);
    }

    /// <summary>
    /// Commits the transaction: sends every record produced in it (flush), then EndTxn(commit).
    /// If any of its records or offsets failed, throws that error instead and the transaction must
    /// be aborted (<see cref="AbortTransactionAsync"/>). Fatal errors
    /// (<see cref="ProducerFencedException"/>, ...) mean the producer must be closed.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait (the commit carries on; call again to wait for it).</param>
    public ValueTask CommitTransactionAsync(CancellationToken cancellationToken = default) =>
        RunTransactionalAsync("CommitTransaction", t =>
        {
            t.State.BeginCommit();
            return () => CommitCoreAsync(t, _transactionStop.Token);
        }, cancellationToken);

    /// <summary>
    /// Aborts the transaction: records not sent yet fail with <see cref="TransactionAbortedException"/>,
    /// those already sent are waited for, then EndTxn(abort) makes read_committed consumers skip
    /// them all. After an error that left the producer's sequence numbers in doubt the abort also
    /// bumps the epoch (KIP-360). Allowed after an abortable error; throws after a fatal one.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait (the abort carries on; call again to wait for it).</param>
    public ValueTask AbortTransactionAsync(CancellationToken cancellationToken = default) =>
        RunTransactionalAsync("AbortTransaction", t =>
        {
            t.State.BeginAbort();
            return () => AbortCoreAsync(t, _transactionStop.Token);
        }, cancellationToken);

    /// <inheritdoc cref="InitTransactionsAsync"/>
    public void InitTransactions() => InitTransactionsAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="SendOffsetsToTransactionAsync"/>
    public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, ConsumerGroupMetadata groupMetadata) =>
        SendOffsetsToTransactionAsync(offsets, groupMetadata).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="CommitTransactionAsync"/>
    public void CommitTransaction() => CommitTransactionAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="AbortTransactionAsync"/>
    public void AbortTransaction() => AbortTransactionAsync().AsTask().GetAwaiter().GetResult();

    private async Task CommitCoreAsync(TransactionManager transactions, CancellationToken token)
    {
        await FlushAsync(token).ConfigureAwait(false); // records produced before the commit call are in it
        transactions.State.ThrowIfError(); // a record of the transaction failed: abort it
        if (transactions.State.TransactionStarted)
            await transactions.EndTxnAsync(commit: true, token).ConfigureAwait(false);
        transactions.State.CompleteTransaction();
    }

    private async Task AbortCoreAsync(TransactionManager transactions, CancellationToken token)
    {
        // Appends that passed their check before the abort began land first (MaybeAddPartition fails them).
        await _enqueueGate.WaitAsync(token).ConfigureAwait(false);
        _enqueueGate.Release();
        _sender.FailUnsealed(transactions.State.LastError);
        // Batches already sent finish (their retries too): the broker must not see a sequence gap.
        await FlushAsync(token).ConfigureAwait(false);
        await transactions.AddingSettled.WaitAsync(token).ConfigureAwait(false);
        if (transactions.State.HasFatalError)
            transactions.State.ThrowIfError();
        // INVALID_PRODUCER_ID_MAPPING: the coordinator would refuse EndTxn; the epoch bump alone ends the transaction.
        if (transactions.State.TransactionStarted && transactions.State.LastError?.Error != ErrorCode.InvalidProducerIdMapping)
            await transactions.EndTxnAsync(commit: false, token).ConfigureAwait(false);
        if (transactions.State.CompleteTransaction())
            await transactions.InitProducerIdAsync(bump: true, token).ConfigureAwait(false);
    }

    /// <param name="operation">The method's name, for errors.</param>
    /// <param name="start">Checks and moves the state (throwing to the caller), returning the work to run.</param>
    /// <param name="cancellationToken">Stops the caller's wait only.</param>
    private async ValueTask RunTransactionalAsync(string operation, Func<TransactionManager, Func<Task>> start, CancellationToken cancellationToken)
    {
        var transactions = RequireTransactions(operation);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        Task task;
        lock (_transactionCallGate)
        {
            if (_pendingTransactionCall is { } pending)
            {
                if (pending.Operation != operation)
                    throw new InvalidOperationException($"Cannot call {operation}: the earlier {pending.Operation} has not completed yet (it timed out or was cancelled); call {pending.Operation} again first.");
                task = pending.Task;
            }
            else
            {
                // The state checks run here and throw to the caller; the requests run on the pool.
                var work = start(transactions);
                task = Task.Run(work, CancellationToken.None); // the caller's token stops its wait, not the work
                _pendingTransactionCall = (operation, task);
            }
        }
        try
        {
            await task.WaitAsync(_options.MaxBlock, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new KafkaTimeoutException($"{operation} did not complete within max.block.ms ({_options.MaxBlock.TotalMilliseconds} ms); call {operation} again to keep waiting for it.");
        }
        finally
        {
            if (task.IsCompleted)
            {
                lock (_transactionCallGate)
                {
                    if (_pendingTransactionCall?.Task == task)
                        _pendingTransactionCall = null;
                }
            }
        }
    }

    private void ThrowIfPendingCall(string operation)
    {
        lock (_transactionCallGate)
        {
            if (_pendingTransactionCall is { Task.IsCompleted: false } pending)
                throw new InvalidOperationException($"Cannot call {operation}: the earlier {pending.Operation} has not completed yet; call {pending.Operation} again first.");
        }
    }

    private TransactionManager RequireTransactions(string operation) =>
        _transactions ?? throw new InvalidOperationException($"{operation} needs a transactional producer: set transactional.id (ProducerOptions.TransactionalId).");

    /// <summary>As Java's close: a transaction still open is aborted, so its records do not hold read_committed readers back until it times out.</summary>
    private async Task AbortOnCloseAsync()
    {
        if (_transactions?.State.State is not (TransactionState.InTransaction or TransactionState.AbortableError))
            return;
        try
        {
            await AbortTransactionAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException or OperationCanceledException)
        {
            _log.LogWarning("Transactional id {Id}: aborting the open transaction on close failed: {Message}", _options.TransactionalId, e.Message);
        }
    }
}
