using Samsa.Client.Errors;
using Samsa.Protocol;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// A transactional producer's states (Java's TransactionManager.State). The moves allowed:
/// <code>
/// Uninitialized ─InitTransactions─► Initializing ─InitProducerId─► Ready
/// Ready ─BeginTransaction─► InTransaction ─Commit─► CommittingTransaction ─EndTxn─► Ready
///                            InTransaction ─Abort──► AbortingTransaction ─EndTxn─► Ready
///                                                     (or ─► Initializing ─epoch bump─► Ready, KIP-360)
/// InTransaction / CommittingTransaction / Initializing ─abortable error─► AbortableError ─Abort─► AbortingTransaction
/// any ─fatal error─► FatalError (nothing leaves it: the producer can only be closed)
/// </code>
/// A call made in a state that does not allow it is an <see cref="InvalidOperationException"/>
/// (Java's IllegalStateException); a call made in an error state throws that error instead.
/// </summary>
internal enum TransactionState
{
    /// <summary>InitTransactions not called yet.</summary>
    Uninitialized,

    /// <summary>Getting the producer id and epoch (InitProducerId), at first or to bump the epoch after an abort.</summary>
    Initializing,

    /// <summary>Between transactions.</summary>
    Ready,

    /// <summary>BeginTransaction called: records and offsets go into the transaction.</summary>
    InTransaction,

    /// <summary>Commit called: flushing, then EndTxn(commit).</summary>
    CommittingTransaction,

    /// <summary>Abort called: unsent records failed, in-flight ones awaited, then EndTxn(abort).</summary>
    AbortingTransaction,

    /// <summary>Something in the transaction failed; only an abort moves on from here.</summary>
    AbortableError,

    /// <summary>Fenced, not authorized or unsupported: every later transactional call throws.</summary>
    FatalError,
}

/// <summary>
/// The state of a transactional producer without any I/O (the bookkeeping half of Java's
/// TransactionManager): the state and its transitions, the last error, the producer id and epoch,
/// which partitions are in the transaction, waiting to be added or being added. Thread-safe: the
/// application's calls, the sender loop and the coordinator requests all go through it.
/// </summary>
internal sealed class TransactionStateMachine(string transactionalId)
{
    private readonly Lock _lock = new();
    private readonly HashSet<(string Topic, int Partition)> _added = [];
    private readonly HashSet<(string Topic, int Partition)> _toAdd = [];
    private readonly HashSet<(string Topic, int Partition)> _adding = [];
    private TransactionState _state;

    public string TransactionalId => transactionalId;

    public TransactionState State
    {
        get
        {
            lock (_lock)
                return _state;
        }
    }

    /// <summary>Why the producer is in an error state (null otherwise).</summary>
    public KafkaException? LastError { get; private set; }

    public long ProducerId { get; private set; } = -1;

    public short Epoch { get; private set; } = -1;

    /// <summary>A partition or the offsets were added: the coordinator knows the transaction, so ending it needs EndTxn.</summary>
    public bool TransactionStarted { get; private set; }

    /// <summary>KIP-360: the abort must be followed by InitProducerId with the current id and epoch (which resets sequences).</summary>
    public bool EpochBumpRequired { get; private set; }

    /// <summary>The coordinator answers InitProducerId v3+ (which can bump an epoch); set once it is known.</summary>
    public bool CanBumpEpoch { get; set; } = true;

    public bool HasError => State is TransactionState.AbortableError or TransactionState.FatalError;

    public bool HasFatalError => State == TransactionState.FatalError;

    public bool HasPartitionsToAdd
    {
        get
        {
            lock (_lock)
                return _toAdd.Count > 0;
        }
    }

    /// <summary>Java's isTransitionValid.</summary>
    internal static bool IsTransitionValid(TransactionState from, TransactionState to) => to switch
    {
        TransactionState.Uninitialized => false,
        TransactionState.Initializing => from is TransactionState.Uninitialized or TransactionState.AbortingTransaction,
        TransactionState.Ready => from is TransactionState.Initializing or TransactionState.CommittingTransaction or TransactionState.AbortingTransaction,
        TransactionState.InTransaction => from == TransactionState.Ready,
        TransactionState.CommittingTransaction => from == TransactionState.InTransaction,
        TransactionState.AbortingTransaction => from is TransactionState.InTransaction or TransactionState.AbortableError,
        TransactionState.AbortableError => from is TransactionState.InTransaction or TransactionState.CommittingTransaction
            or TransactionState.AbortableError or TransactionState.Initializing,
        _ => true, // FatalError, from anywhere
    };

    /// <summary>InitTransactions: only once, from Uninitialized.</summary>
    public void BeginInit()
    {
        lock (_lock)
        {
            ThrowIfError();
            TransitionTo(TransactionState.Initializing, "initTransactions");
        }
    }

    /// <summary>InitProducerId answered: the first time, or the epoch bump that ends an abort.</summary>
    public void Initialized(long producerId, short epoch)
    {
        lock (_lock)
        {
            if (_state == TransactionState.FatalError)
                return;
            ProducerId = producerId;
            Epoch = epoch;
            TransitionTo(TransactionState.Ready, "InitProducerId");
            LastError = null;
            EpochBumpRequired = false;
        }
    }

    public void BeginTransaction()
    {
        lock (_lock)
        {
            ThrowIfError();
            TransitionTo(TransactionState.InTransaction, "beginTransaction");
        }
    }

    public void BeginCommit()
    {
        lock (_lock)
        {
            ThrowIfError();
            TransitionTo(TransactionState.CommittingTransaction, "commitTransaction");
        }
    }

    public void BeginAbort()
    {
        lock (_lock)
        {
            if (_state != TransactionState.AbortableError)
                ThrowIfError();
            TransitionTo(TransactionState.AbortingTransaction, "abortTransaction");
            _toAdd.Clear(); // an aborted transaction needs no more partitions
        }
    }

    /// <summary>
    /// EndTxn answered (or was not needed): Ready, or Initializing when the epoch must be bumped
    /// first. Returns whether it must.
    /// </summary>
    public bool CompleteTransaction()
    {
        lock (_lock)
        {
            bool bump = EpochBumpRequired && _state == TransactionState.AbortingTransaction;
            TransitionTo(bump ? TransactionState.Initializing : TransactionState.Ready, "EndTxn");
            if (!bump)
                LastError = null;
            TransactionStarted = false;
            _added.Clear();
            _toAdd.Clear();
            _adding.Clear();
            return bump;
        }
    }

    /// <summary>
    /// A produce call: refused unless a transaction is in progress. Checked when the call is made,
    /// before it waits for metadata or memory, so a record produced before CommitTransaction is
    /// called belongs to the transaction being committed even if it enters the accumulator later.
    /// </summary>
    public void CheckSend(string topic)
    {
        lock (_lock)
        {
            ThrowIfError();
            if (ProducerId < 0)
                throw new InvalidOperationException($"Transactional id '{transactionalId}': call InitTransactionsAsync before producing.");
            if (_state != TransactionState.InTransaction)
                throw new InvalidOperationException($"Transactional id '{transactionalId}': cannot send to {topic} in state {_state}; call BeginTransaction first.");
        }
    }

    /// <summary>
    /// A record admitted by <see cref="CheckSend"/> is about to go to this partition (Java's
    /// maybeAddPartition): the partition joins the transaction before its first batch is sent. The
    /// commit may have begun since the record was admitted (it waits for such records); an abort
    /// fails it.
    /// </summary>
    public void MaybeAddPartition(string topic, int partition)
    {
        lock (_lock)
        {
            ThrowIfError();
            if (_state == TransactionState.AbortingTransaction)
                throw new TransactionAbortedException($"Transactional id '{transactionalId}': the transaction was aborted before the record to {topic}-{partition} was batched.");
            if (_state is not (TransactionState.InTransaction or TransactionState.CommittingTransaction))
                throw new InvalidOperationException($"Transactional id '{transactionalId}': cannot send to {topic}-{partition} in state {_state}; call BeginTransaction first.");
            var tp = (topic, partition);
            if (!_added.Contains(tp) && !_adding.Contains(tp))
                _toAdd.Add(tp);
        }
    }

    /// <summary>The partitions to put into the next AddPartitionsToTxn (they move to "being added").</summary>
    public List<(string Topic, int Partition)> TakePartitionsToAdd()
    {
        lock (_lock)
        {
            var list = _toAdd.ToList();
            _toAdd.Clear();
            _adding.UnionWith(list);
            return list;
        }
    }

    /// <summary>AddPartitionsToTxn came back: added (batches may go), to retry, or given up (the state says why).</summary>
    public void PartitionsAnswered(IReadOnlyCollection<(string Topic, int Partition)> partitions, bool added, bool retry)
    {
        lock (_lock)
        {
            _adding.ExceptWith(partitions);
            if (added)
            {
                _added.UnionWith(partitions);
                TransactionStarted = true;
            }
            else if (retry && _state is TransactionState.InTransaction or TransactionState.CommittingTransaction)
            {
                _toAdd.UnionWith(partitions);
            }
        }
    }

    /// <summary>AddOffsetsToTxn succeeded: the group's offsets partition is in the transaction.</summary>
    public void OffsetsAdded()
    {
        lock (_lock)
            TransactionStarted = true;
    }

    /// <summary>Java's isSendToPartitionAllowed: batches of a partition go out only once it is in the transaction.</summary>
    public bool IsSendAllowed(string topic, int partition)
    {
        lock (_lock)
            return _state != TransactionState.FatalError && _added.Contains((topic, partition));
    }

    /// <summary>
    /// An error the application must answer with AbortTransaction. <paramref name="bumpEpoch"/>:
    /// the producer's sequences can no longer be trusted (KIP-360), so the abort bumps the epoch;
    /// a coordinator that cannot bump makes the error fatal instead.
    /// </summary>
    public void AbortableError(KafkaException error, bool bumpEpoch = false)
    {
        lock (_lock)
        {
            if (bumpEpoch && !CanBumpEpoch)
            {
                FatalErrorLocked(error);
                return;
            }
            if (bumpEpoch)
                EpochBumpRequired = true;
            // Already aborting: the abort takes care of it (Java skips the transition too).
            if (_state is TransactionState.AbortingTransaction or TransactionState.FatalError)
                return;
            LastError = error;
            _state = TransactionState.AbortableError;
        }
    }

    public void FatalError(KafkaException error)
    {
        lock (_lock)
            FatalErrorLocked(error);
    }

    private void FatalErrorLocked(KafkaException error)
    {
        if (_state == TransactionState.FatalError)
            return;
        LastError = error;
        _state = TransactionState.FatalError;
    }

    /// <summary>
    /// A batch failed for good (Java's maybeTransitionToErrorState): fencing, authorization and
    /// unsupported versions are fatal, anything else aborts the transaction and bumps the epoch,
    /// since the failed batch left a gap in the partition's sequence numbers.
    /// </summary>
    public void BatchFailed(KafkaException error)
    {
        if (error.Error is ErrorCode.ProducerFenced or ErrorCode.TransactionalIdAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.UnsupportedVersion)
            FatalError(error);
        else
            AbortableError(error, bumpEpoch: true);
    }

    /// <summary>Java's maybeFailWithError: in an error state, every transactional call throws it.</summary>
    public void ThrowIfError()
    {
        lock (_lock)
        {
            if (_state is not (TransactionState.AbortableError or TransactionState.FatalError) || LastError is null)
                return;
            var last = LastError;
            throw last switch
            {
                ProducerFencedException => new ProducerFencedException(
                    $"Producer with transactional id '{transactionalId}' (producer id {ProducerId}, epoch {Epoch}) was fenced by another producer with the same transactional id; close this one.", last),
                InvalidProducerEpochException => new InvalidProducerEpochException(
                    $"Producer with transactional id '{transactionalId}' (producer id {ProducerId}, epoch {Epoch}) produced with an old epoch; abort the transaction.", last),
                _ => new KafkaException(last.Error,
                    _state == TransactionState.FatalError
                        ? $"Transactional id '{transactionalId}' hit a fatal error ({last.Message}); close the producer."
                        : $"Transactional id '{transactionalId}' cannot continue the transaction after an error ({last.Message}); call AbortTransactionAsync.",
                    last),
            };
        }
    }

    private void TransitionTo(TransactionState target, string operation)
    {
        if (!IsTransitionValid(_state, target))
            throw new InvalidOperationException($"Transactional id '{transactionalId}': {operation} is not allowed in state {_state} (it would move to {target}).");
        _state = target;
    }
}
