using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Transactions;

/// <summary>
/// The transaction coordinator (Kafka's TransactionCoordinator with its TransactionMarkerChannelManager,
/// single node): routes a transactional id to its __transaction_state shard, and writes the markers a
/// prepared transaction needs — after the shard's Prepare record is in and with no shard lock held —
/// then has the shard write Complete. A marker write that fails leaves the transaction prepared; the
/// periodic check (transaction.abort.timed.out.transaction.cleanup.interval.ms) retries it, as it
/// aborts timed-out transactions; transactional ids idle past their expiration are removed hourly.
/// </summary>
internal sealed class TransactionCoordinator : IDisposable
{
    private readonly TxnShard[] _shards;
    private readonly ITxnMarkerWriter _markers;
    private readonly ILogger _logger;
    private readonly ITimer _abortTimer;
    private readonly ITimer _expiryTimer;
    private readonly int _offsetsPartitions;

    public TransactionCoordinator(TransactionCoordinatorOptions options, TimeProvider time, IOffsetsLog log, ITxnMarkerWriter markers, ProducerIdAllocator ids,
        int offsetsTopicPartitions, ILogger logger)
    {
        Options = options;
        Ids = ids;
        _markers = markers;
        _logger = logger;
        _offsetsPartitions = offsetsTopicPartitions;
        _shards = Enumerable.Range(0, options.Partitions).Select(p => new TxnShard(p, options, time, log, ids, logger)).ToArray();
        _abortTimer = time.CreateTimer(_ => Guarded(AbortTimedOut, "aborting timed-out transactions"), null, options.AbortCheckInterval, options.AbortCheckInterval);
        _expiryTimer = time.CreateTimer(_ => Guarded(() => ExpireIds(), "expiring transactional ids"), null, options.ExpirationCheckInterval, options.ExpirationCheckInterval);
    }

    public TransactionCoordinatorOptions Options { get; }

    /// <summary>The producer-id allocator idempotent producers share.</summary>
    public ProducerIdAllocator Ids { get; }

    public IReadOnlyList<TxnShard> Shards => _shards;

    public TxnShard ShardFor(string transactionalId) => _shards[TransactionLog.PartitionFor(transactionalId, _shards.Length)];

    /// <summary>Replays __transaction_state partition by partition, before serving; <see cref="RecoverPrepared"/> follows once groups are loaded too.</summary>
    public void Load(Func<int, IEnumerable<(byte[] Key, byte[]? Value)>> recordsOfPartition)
    {
        foreach (var shard in _shards)
        {
            foreach (var (key, value) in recordsOfPartition(shard.Partition))
            {
                try
                {
                    shard.Replay(key, value);
                }
                catch (ProtocolException e)
                {
                    _logger.LogWarning("Skipped an unreadable {Topic}-{Partition} record: {Message}", TransactionLog.TopicName, shard.Partition, e.Message);
                }
            }
        }
    }

    /// <summary>After a crash: transactions found prepared get their markers written again and are completed.</summary>
    public void RecoverPrepared()
    {
        foreach (var shard in _shards)
        {
            foreach (var job in shard.UnfinishedJobs())
                WriteMarkers(shard, job);
        }
    }

    public InitProducerIdResponse InitProducerId(string transactionalId, int timeoutMs, long producerId, short producerEpoch)
    {
        if (transactionalId.Length == 0)
            return new InitProducerIdResponse { ErrorCode = ErrorCode.InvalidRequest };
        if (timeoutMs <= 0 || timeoutMs > Options.MaxTimeout.TotalMilliseconds)
            return new InitProducerIdResponse { ErrorCode = ErrorCode.InvalidTransactionTimeout };
        var shard = ShardFor(transactionalId);
        // An open transaction is aborted first; Kafka then answers CONCURRENT_TRANSACTIONS and the
        // client retries. Once the abort is complete, that retry is made here instead.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var result = shard.InitProducerId(transactionalId, timeoutMs, producerId, producerEpoch);
            if (result.AbortFirst is { } job)
            {
                if (!WriteMarkers(shard, job))
                    return new InitProducerIdResponse { ErrorCode = ErrorCode.ConcurrentTransactions };
                continue;
            }
            return new InitProducerIdResponse { ErrorCode = result.Error, ProducerId = result.ProducerId, ProducerEpoch = result.ProducerEpoch };
        }
        return new InitProducerIdResponse { ErrorCode = ErrorCode.ConcurrentTransactions };
    }

    public ErrorCode AddPartitions(string transactionalId, long producerId, short producerEpoch, IReadOnlyCollection<(string Topic, int Partition)> partitions) =>
        transactionalId.Length == 0 ? ErrorCode.InvalidRequest : ShardFor(transactionalId).AddPartitions(transactionalId, producerId, producerEpoch, partitions);

    /// <summary>The __consumer_offsets partition of a group (offsets.topic.num.partitions as loaded).</summary>
    public (string Topic, int Partition) OffsetsPartitionOf(string groupId) =>
        (Topics.TopicManager.ConsumerOffsetsTopic, OffsetsTopic.PartitionFor(groupId, _offsetsPartitions));

    public ErrorCode AddOffsets(string transactionalId, long producerId, short producerEpoch, string groupId) =>
        AddPartitions(transactionalId, producerId, producerEpoch, [OffsetsPartitionOf(groupId)]);

    public (ErrorCode Error, Dictionary<(string Topic, int Partition), ErrorCode> Partitions) Verify(string transactionalId, long producerId, short producerEpoch,
        IEnumerable<(string Topic, int Partition)> partitions)
    {
        if (transactionalId.Length == 0)
            return (ErrorCode.InvalidRequest, partitions.ToDictionary(p => p, _ => ErrorCode.InvalidRequest));
        return ShardFor(transactionalId).Verify(transactionalId, producerId, producerEpoch, partitions);
    }

    /// <summary>
    /// KIP-890 part 1 for Produce and TxnOffsetCommit: the partition must be in the producer's open
    /// transaction. Errors as a partition leader reports them: a fenced epoch as INVALID_PRODUCER_EPOCH,
    /// a partition not added as TRANSACTION_ABORTABLE for clients that know it, INVALID_TXN_STATE otherwise.
    /// </summary>
    public ErrorCode VerifyPartition(string transactionalId, long producerId, short producerEpoch, string topic, int partition, bool abortableKnown)
    {
        var error = transactionalId.Length == 0 ? ErrorCode.InvalidRequest : ShardFor(transactionalId).VerifyOne(transactionalId, producerId, producerEpoch, topic, partition);
        return error switch
        {
            ErrorCode.ProducerFenced => ErrorCode.InvalidProducerEpoch,
            ErrorCode.TransactionAbortable when !abortableKnown => ErrorCode.InvalidTxnState,
            var e => e,
        };
    }

    /// <summary>EndTxn: Prepare written, then every marker, then Complete, then the answer (NONE once Prepare is in: markers that failed are retried later).</summary>
    public ErrorCode EndTxn(string transactionalId, long producerId, short producerEpoch, bool commit)
    {
        if (transactionalId.Length == 0)
            return ErrorCode.InvalidRequest;
        var shard = ShardFor(transactionalId);
        var (error, job) = shard.EndTxn(transactionalId, producerId, producerEpoch, commit);
        if (job is not null)
            WriteMarkers(shard, job);
        return error;
    }

    /// <summary>Writes every marker of a prepared transaction, then completes it. False (and the job released for a retry) when one failed.</summary>
    private bool WriteMarkers(TxnShard shard, MarkerJob job)
    {
        foreach (var (topic, partition) in job.Partitions)
        {
            ErrorCode error;
            try
            {
                error = _markers.Write(topic, partition, job.ProducerId, job.ProducerEpoch, job.Commit);
            }
            catch (Exception e)
            {
                // Whatever failed, the job must go back for a retry: a job left in flight is never
                // retried, and its transaction would answer CONCURRENT_TRANSACTIONS until a restart.
                _logger.LogWarning(e, "Transaction marker for {Topic}-{Partition} ({Id}) not written: {Message}", topic, partition, job.TransactionalId, e.Message);
                error = ErrorCode.KafkaStorageError;
            }
            // A partition deleted since it joined the transaction has nothing left to mark (Kafka drops it too).
            if (error is ErrorCode.None or ErrorCode.UnknownTopicOrPartition)
                continue;
            _logger.LogWarning("Transaction marker for {Topic}-{Partition} ({Id}, producer {ProducerId} epoch {Epoch}) refused: {Error}; retried later",
                topic, partition, job.TransactionalId, job.ProducerId, job.ProducerEpoch, error);
            shard.ReleaseJob(job);
            return false;
        }
        return shard.Complete(job);
    }

    /// <summary>Aborts timed-out transactions (fencing their producers) and retries unfinished markers.</summary>
    public void AbortTimedOut()
    {
        foreach (var shard in _shards)
        {
            foreach (var job in shard.AbortTimedOut())
            {
                _logger.LogInformation("Transaction of {Id} (producer {ProducerId}) timed out: aborting with epoch {Epoch}", job.TransactionalId, job.ProducerId, job.ProducerEpoch);
                WriteMarkers(shard, job);
            }
            foreach (var job in shard.UnfinishedJobs())
                WriteMarkers(shard, job);
        }
    }

    public int ExpireIds() => _shards.Sum(s => s.ExpireIds());

    private void Guarded(Action action, string what)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Transaction coordinator failed {What}", what);
        }
    }

    public void Dispose()
    {
        _abortTimer.Dispose();
        _expiryTimer.Dispose();
        foreach (var shard in _shards)
            shard.Close();
    }
}
