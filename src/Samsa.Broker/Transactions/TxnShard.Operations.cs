using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;

namespace Samsa.Broker.Transactions;

/// <summary>What InitProducerId decided: an id and epoch, an error, or an open transaction to abort first.</summary>
internal readonly record struct InitResult(ErrorCode Error, long ProducerId, short ProducerEpoch, MarkerJob? AbortFirst = null);

internal sealed partial class TxnShard
{
    /// <summary>
    /// InitProducerId for a transactional id (Kafka's prepareInitProducerIdTransit, transaction
    /// version 1): a new id starts at epoch 0; a known one is bumped (a KIP-360 caller naming its
    /// current id and epoch too; a retry naming the previous epoch gets the same answer); an exhausted
    /// epoch rotates the producer id; an open transaction is fenced (epoch + 1) and its abort handed back.
    /// </summary>
    public InitResult InitProducerId(string transactionalId, int timeoutMs, long expectedId, short expectedEpoch) =>
        Run<InitResult>(() =>
        {
            bool expected = expectedId >= 0;
            if (!_txns.TryGetValue(transactionalId, out var m))
            {
                long id = _ids.Next();
                return new CoordinatorResult<InitResult>(new InitResult(ErrorCode.None, id, 0),
                    [TransactionLog.Record(transactionalId, id, -1, 0, timeoutMs, TxnState.Empty, [], Now, -1)],
                    applied: () => _txns[transactionalId].LastProducerEpoch = -1);
            }
            if (m.MarkersInFlight || TxnStates.IsPrepare(m.State))
                return new InitResult(ErrorCode.ConcurrentTransactions, -1, -1);
            if (expected && !(m.ProducerEpoch < 0 || expectedId == m.ProducerId || (expectedId == m.PreviousProducerId && expectedEpoch >= short.MaxValue - 1)))
                return new InitResult(ErrorCode.ProducerFenced, -1, -1);
            switch (m.State)
            {
                case TxnState.Ongoing:
                {
                    // Fence the producer of the open transaction: its abort is written with a bumped epoch.
                    short fenced = FencedEpoch(m);
                    var job = new MarkerJob(transactionalId, m.ProducerId, fenced, false, [.. m.Partitions]);
                    return new CoordinatorResult<InitResult>(new InitResult(ErrorCode.ConcurrentTransactions, -1, -1, job),
                        [RecordOf(m, TxnState.PrepareAbort, epoch: fenced)],
                        applied: () =>
                        {
                            // As Kafka's fence: no earlier epoch is a valid retry any more.
                            var fencedTxn = _txns[transactionalId];
                            fencedTxn.MarkersInFlight = true;
                            fencedTxn.LastProducerEpoch = -1;
                        });
                }
                case TxnState.Empty or TxnState.CompleteCommit or TxnState.CompleteAbort:
                {
                    if (m.EpochExhausted && (!expected || expectedEpoch == m.ProducerEpoch))
                    {
                        long id = _ids.Next();
                        return new CoordinatorResult<InitResult>(new InitResult(ErrorCode.None, id, 0),
                            [RecordOf(m, TxnState.Empty, epoch: 0, partitions: [], startMs: -1, producerId: id, previousProducerId: m.ProducerId, timeoutMs: timeoutMs)],
                            applied: () => _txns[transactionalId].LastProducerEpoch = -1);
                    }
                    short epoch, last;
                    if (!expected)
                        (epoch, last) = ((short)(m.ProducerEpoch + 1), -1);
                    else if (m.ProducerEpoch < 0 || expectedEpoch == m.ProducerEpoch)
                        (epoch, last) = ((short)(m.ProducerEpoch + 1), m.ProducerEpoch);
                    else if (expectedEpoch == m.LastProducerEpoch)
                        (epoch, last) = (m.ProducerEpoch, m.LastProducerEpoch);
                    else
                        return new InitResult(ErrorCode.ProducerFenced, -1, -1);
                    return new CoordinatorResult<InitResult>(new InitResult(ErrorCode.None, m.ProducerId, epoch),
                        [RecordOf(m, TxnState.Empty, epoch: epoch, partitions: [], startMs: -1, timeoutMs: timeoutMs)],
                        applied: () => _txns[transactionalId].LastProducerEpoch = last);
                }
                default:
                    throw new InvalidOperationException($"Transactional id {transactionalId} is in state {m.State}, which InitProducerId never finds.");
            }
        }, e => new InitResult(e, -1, -1));

    private static short FencedEpoch(TxnMetadata m) => m.ProducerEpoch >= short.MaxValue ? m.ProducerEpoch : (short)(m.ProducerEpoch + 1);

    /// <summary>The checks AddPartitionsToTxn, AddOffsetsToTxn and verification share (Kafka's order).</summary>
    private static ErrorCode Check(TxnMetadata? m, long producerId, short epoch)
    {
        if (m is null || m.ProducerId != producerId)
            return ErrorCode.InvalidProducerIdMapping;
        if (m.ProducerEpoch != epoch)
            return ErrorCode.ProducerFenced;
        if (m.MarkersInFlight || TxnStates.IsPrepare(m.State))
            return ErrorCode.ConcurrentTransactions;
        return ErrorCode.None;
    }

    /// <summary>AddPartitionsToTxn (and AddOffsetsToTxn's __consumer_offsets partition): the transaction becomes Ongoing with them.</summary>
    public ErrorCode AddPartitions(string transactionalId, long producerId, short epoch, IReadOnlyCollection<(string Topic, int Partition)> partitions) =>
        Run<ErrorCode>(() =>
        {
            var m = _txns.GetValueOrDefault(transactionalId);
            var error = Check(m, producerId, epoch);
            if (error != ErrorCode.None)
                return error;
            if (m!.State == TxnState.Ongoing && partitions.All(m.Partitions.Contains))
                return ErrorCode.None;
            var all = new SortedSet<(string, int)>(m.Partitions, PartitionOrder.Instance);
            all.UnionWith(partitions);
            long start = m.State == TxnState.Ongoing ? m.StartMs : Now;
            return new CoordinatorResult<ErrorCode>(ErrorCode.None, [RecordOf(m, TxnState.Ongoing, partitions: all, startMs: start)]);
        }, e => e);

    /// <summary>
    /// KIP-890 verification: NONE for each partition in the open transaction, TRANSACTION_ABORTABLE for
    /// others; or one error for all (unknown id or producer, fenced epoch, markers being written).
    /// </summary>
    public (ErrorCode Error, Dictionary<(string Topic, int Partition), ErrorCode> Partitions) Verify(string transactionalId, long producerId, short epoch, IEnumerable<(string Topic, int Partition)> partitions)
    {
        lock (_lock)
        {
            var m = _txns.GetValueOrDefault(transactionalId);
            var error = VerifyError(m, producerId, epoch);
            var result = new Dictionary<(string, int), ErrorCode>();
            foreach (var p in partitions)
                result[p] = error != ErrorCode.None ? error : m!.Partitions.Contains(p) ? ErrorCode.None : ErrorCode.TransactionAbortable;
            return (error, result);
        }
    }

    /// <summary>Verification of one partition, allocation-free: the produce path asks this per transactional partition.</summary>
    public ErrorCode VerifyOne(string transactionalId, long producerId, short epoch, string topic, int partition)
    {
        lock (_lock)
        {
            var m = _txns.GetValueOrDefault(transactionalId);
            var error = VerifyError(m, producerId, epoch);
            return error != ErrorCode.None ? error : m!.Partitions.Contains((topic, partition)) ? ErrorCode.None : ErrorCode.TransactionAbortable;
        }
    }

    // The pending state is not looked at: the append on the partition is checked again (Kafka's order).
    private static ErrorCode VerifyError(TxnMetadata? m, long producerId, short epoch) =>
        m is null || m.ProducerId != producerId ? ErrorCode.InvalidProducerIdMapping
        : m.ProducerEpoch != epoch ? ErrorCode.ProducerFenced
        : TxnStates.IsPrepare(m.State) ? ErrorCode.ConcurrentTransactions
        : ErrorCode.None;

    /// <summary>
    /// EndTxn (transaction version 1: the client's epoch must be the current one): an Ongoing
    /// transaction writes PrepareCommit/PrepareAbort and hands back its markers; a retry of a finished
    /// one is answered NONE; anything else is Kafka's error for the state.
    /// </summary>
    public (ErrorCode Error, MarkerJob? Job) EndTxn(string transactionalId, long producerId, short epoch, bool commit) =>
        Run<(ErrorCode, MarkerJob?)>(() =>
        {
            if (!_txns.TryGetValue(transactionalId, out var m) || m.ProducerId != producerId)
                return (ErrorCode.InvalidProducerIdMapping, null);
            if (epoch != m.ProducerEpoch)
                return (ErrorCode.ProducerFenced, null);
            if (m.MarkersInFlight && !TxnStates.IsPrepare(m.State))
                return (ErrorCode.ConcurrentTransactions, null);
            switch (m.State)
            {
                case TxnState.Ongoing:
                    var job = new MarkerJob(transactionalId, m.ProducerId, m.ProducerEpoch, commit, [.. m.Partitions]);
                    return new CoordinatorResult<(ErrorCode, MarkerJob?)>((ErrorCode.None, job),
                        [RecordOf(m, commit ? TxnState.PrepareCommit : TxnState.PrepareAbort)],
                        applied: () => _txns[transactionalId].MarkersInFlight = true);
                case TxnState.CompleteCommit:
                    return (commit ? ErrorCode.None : ErrorCode.InvalidTxnState, null);
                case TxnState.CompleteAbort:
                    return (commit ? ErrorCode.InvalidTxnState : ErrorCode.None, null);
                case TxnState.PrepareCommit:
                    return (commit ? ErrorCode.ConcurrentTransactions : ErrorCode.InvalidTxnState, null);
                case TxnState.PrepareAbort:
                    return (commit ? ErrorCode.InvalidTxnState : ErrorCode.ConcurrentTransactions, null);
                default:
                    return (ErrorCode.InvalidTxnState, null);
            }
        }, e => (e, null));

    /// <summary>Every marker of <paramref name="job"/> is written: CompleteCommit/CompleteAbort. False when the state moved on or the append failed.</summary>
    public bool Complete(MarkerJob job) =>
        Run<bool>(() =>
        {
            if (!_txns.TryGetValue(job.TransactionalId, out var m) || m.ProducerId != job.ProducerId || m.ProducerEpoch != job.ProducerEpoch
                || m.State != (job.Commit ? TxnState.PrepareCommit : TxnState.PrepareAbort))
            {
                if (m is not null)
                    m.MarkersInFlight = false;
                return false;
            }
            return new CoordinatorResult<bool>(true, [RecordOf(m, job.Commit ? TxnState.CompleteCommit : TxnState.CompleteAbort, partitions: [])],
                applied: () => _txns[job.TransactionalId].MarkersInFlight = false,
                failed: _ =>
                {
                    m.MarkersInFlight = false;
                    return false;
                });
        }, _ => false);

    /// <summary>A marker job failed part-way: the transaction stays prepared and the next check retries it.</summary>
    public void ReleaseJob(MarkerJob job)
    {
        lock (_lock)
        {
            if (_txns.TryGetValue(job.TransactionalId, out var m))
                m.MarkersInFlight = false;
        }
    }

    /// <summary>
    /// transaction.timeout.ms: Ongoing transactions older than their timeout are aborted with the
    /// epoch bumped, so the producer that left them is fenced. Returns their marker jobs.
    /// </summary>
    public List<MarkerJob> AbortTimedOut() =>
        Run<List<MarkerJob>>(() =>
        {
            long now = Now;
            var jobs = new List<MarkerJob>();
            var records = new List<CoordinatorRecord>();
            foreach (var m in _txns.Values)
            {
                if (m.State != TxnState.Ongoing || m.MarkersInFlight || m.StartMs + m.TimeoutMs >= now)
                    continue;
                short fenced = FencedEpoch(m);
                jobs.Add(new MarkerJob(m.TransactionalId, m.ProducerId, fenced, false, [.. m.Partitions]));
                records.Add(RecordOf(m, TxnState.PrepareAbort, epoch: fenced));
            }
            return new CoordinatorResult<List<MarkerJob>>(jobs, records, applied: () =>
            {
                foreach (var job in jobs)
                    (_txns[job.TransactionalId].MarkersInFlight, _txns[job.TransactionalId].LastProducerEpoch) = (true, -1);
            }, failed: _ => []);
        }, _ => []);

    /// <summary>transactional.id.expiration.ms: ids idle that long with no open transaction are removed (tombstones).</summary>
    public int ExpireIds() =>
        Run<int>(() =>
        {
            long now = Now;
            long expiration = (long)_options.TransactionalIdExpiration.TotalMilliseconds;
            var records = _txns.Values
                .Where(m => (m.State == TxnState.Empty || TxnStates.IsComplete(m.State)) && !m.MarkersInFlight && m.LastUpdateMs + expiration <= now)
                .Select(m => TransactionLog.Tombstone(m.TransactionalId)).ToList();
            return new CoordinatorResult<int>(records.Count, records);
        }, _ => 0);
}
