using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Transactions;

/// <summary>
/// The transactional ids of one __transaction_state partition, on the group coordinator's runtime
/// shape: an operation runs under the shard's lock and returns (records, response); the records are
/// appended to __transaction_state, then applied through <see cref="Replay"/>, the path loading
/// uses, and only then answered. Nothing here writes markers: operations hand out a
/// <see cref="MarkerJob"/> that <see cref="TransactionCoordinator"/> writes with no shard lock held.
/// </summary>
internal sealed partial class TxnShard
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TxnMetadata> _txns = new(StringComparer.Ordinal);
    private readonly TransactionCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly IOffsetsLog _log;
    private readonly ProducerIdAllocator _ids;
    private readonly ILogger _logger;
    private bool _closed;

    public TxnShard(int partition, TransactionCoordinatorOptions options, TimeProvider time, IOffsetsLog log, ProducerIdAllocator ids, ILogger logger)
    {
        Partition = partition;
        _options = options;
        _time = time;
        _log = log;
        _ids = ids;
        _logger = logger;
    }

    public int Partition { get; }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Runs an operation: a <see cref="CoordinatorException"/> or a failed append answers <paramref name="error"/>, with nothing applied.</summary>
    private T Run<T>(Func<CoordinatorResult<T>> operation, Func<ErrorCode, T> error)
    {
        lock (_lock)
        {
            if (_closed)
                return error(ErrorCode.CoordinatorNotAvailable);
            CoordinatorResult<T> result;
            try
            {
                result = operation();
            }
            catch (CoordinatorException e)
            {
                return error(e.Error);
            }
            if (result.Records.Count > 0)
            {
                try
                {
                    _log.Append(Partition, result.Records);
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Appending {Count} record(s) to {Topic}-{Partition} failed", result.Records.Count, TransactionLog.TopicName, Partition);
                    return result.Failed is { } failed ? failed(ErrorCode.CoordinatorNotAvailable) : error(ErrorCode.CoordinatorNotAvailable);
                }
                foreach (var record in result.Records)
                    ReplayLocked(record.Key, record.Value);
            }
            result.Applied?.Invoke();
            return result.Response;
        }
    }

    /// <summary>Applies one __transaction_state record: the one way a transactional id's state changes, live and at load.</summary>
    public void Replay(byte[] key, byte[]? value)
    {
        lock (_lock)
            ReplayLocked(key, value);
    }

    private void ReplayLocked(byte[] key, byte[]? value)
    {
        var k = VersionedData.Read<TransactionLogKey>(key, out _) ?? throw new ProtocolException("Empty __transaction_state key.");
        if (value is null)
        {
            _txns.Remove(k.TransactionalId);
            return;
        }
        var v = VersionedData.Read<TransactionLogValue>(value, out _) ?? throw new ProtocolException("Empty __transaction_state value.");
        if (!_txns.TryGetValue(k.TransactionalId, out var m))
            _txns[k.TransactionalId] = m = new TxnMetadata(k.TransactionalId);
        m.ProducerId = v.ProducerId;
        m.PreviousProducerId = v.PreviousProducerId;
        m.ProducerEpoch = v.ProducerEpoch;
        m.TimeoutMs = v.TransactionTimeoutMs;
        m.State = (TxnState)v.TransactionStatus;
        m.Partitions = new SortedSet<(string, int)>(
            (v.TransactionPartitions ?? []).SelectMany(t => t.PartitionIds.Select(p => (t.Topic, p))), PartitionOrder.Instance);
        m.LastUpdateMs = v.TransactionLastUpdateTimestampMs;
        m.StartMs = v.TransactionStartTimestampMs;
        // Ids handed out before a restart must never be handed out again.
        _ids.Reserve(Math.Max(v.ProducerId, v.PreviousProducerId));
    }

    /// <summary>The record of <paramref name="m"/> moved to <paramref name="state"/>, with the fields given changed.</summary>
    private CoordinatorRecord RecordOf(TxnMetadata m, TxnState state, short? epoch = null, IEnumerable<(string, int)>? partitions = null, long? startMs = null,
        long? producerId = null, long? previousProducerId = null, int? timeoutMs = null) =>
        TransactionLog.Record(m.TransactionalId, producerId ?? m.ProducerId, previousProducerId ?? m.PreviousProducerId, epoch ?? m.ProducerEpoch,
            timeoutMs ?? m.TimeoutMs, state, partitions ?? m.Partitions, Now, startMs ?? m.StartMs);

    /// <summary>Stops answering; called when the broker shuts down.</summary>
    public void Close()
    {
        lock (_lock)
            _closed = true;
    }

    /// <summary>Prepared transactions whose markers nobody is writing (after a load, or after a failed marker write).</summary>
    public List<MarkerJob> UnfinishedJobs()
    {
        lock (_lock)
        {
            var jobs = new List<MarkerJob>();
            foreach (var m in _txns.Values)
            {
                if (TxnStates.IsPrepare(m.State) && !m.MarkersInFlight)
                {
                    m.MarkersInFlight = true;
                    jobs.Add(JobOf(m));
                }
            }
            return jobs;
        }
    }

    private static MarkerJob JobOf(TxnMetadata m) =>
        new(m.TransactionalId, m.ProducerId, m.ProducerEpoch, m.State == TxnState.PrepareCommit, [.. m.Partitions]);

    /// <summary>A copy of one id's state, for DescribeTransactions and tests.</summary>
    public TxnMetadata? Get(string transactionalId)
    {
        lock (_lock)
            return _txns.TryGetValue(transactionalId, out var m) ? Copy(m) : null;
    }

    /// <summary>Copies of every id's state, for ListTransactions.</summary>
    public List<TxnMetadata> All()
    {
        lock (_lock)
            return _txns.Values.Select(Copy).ToList();
    }

    private static TxnMetadata Copy(TxnMetadata m) => new(m.TransactionalId)
    {
        ProducerId = m.ProducerId,
        PreviousProducerId = m.PreviousProducerId,
        ProducerEpoch = m.ProducerEpoch,
        LastProducerEpoch = m.LastProducerEpoch,
        TimeoutMs = m.TimeoutMs,
        State = m.State,
        Partitions = new SortedSet<(string, int)>(m.Partitions, PartitionOrder.Instance),
        LastUpdateMs = m.LastUpdateMs,
        StartMs = m.StartMs,
        MarkersInFlight = m.MarkersInFlight,
    };
}
