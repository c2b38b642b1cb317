using System.Globalization;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Records;
using Samsa.Storage.Internal;

namespace Samsa.Storage;

/// <summary>What an append that checks the producer's sequence did.</summary>
/// <param name="Error">None, or Kafka's refusal (INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER); nothing was written then.</param>
/// <param name="BaseOffset">Where the batch is: just written, or written before when <paramref name="Duplicate"/>.</param>
/// <param name="Duplicate">A retry of a batch already in the log: not written again.</param>
public readonly record struct AppendResult(ErrorCode Error, long BaseOffset, bool Duplicate);

/// <summary>One producer's state in a partition, as DescribeProducers reports it.</summary>
/// <param name="ProducerId">The producer id.</param>
/// <param name="Epoch">Its current epoch.</param>
/// <param name="LastSequence">The last sequence of its newest batch, or -1.</param>
/// <param name="LastTimestamp">The newest batch's timestamp (ms).</param>
/// <param name="CoordinatorEpoch">The coordinator epoch of its last marker, or -1.</param>
/// <param name="CurrentTxnStartOffset">The first offset of its open transaction, or -1.</param>
public readonly record struct ProducerInfo(long ProducerId, short Epoch, int LastSequence, long LastTimestamp, int CoordinatorEpoch, long CurrentTxnStartOffset);

/// <summary>
/// Idempotent producers across restarts, as Kafka does it: the producer state is written to a
/// <c>.snapshot</c> file named by the offset it covers up to, when a segment rolls and at a clean
/// close; a start reads the newest snapshot and then only the batch headers after it (at most the
/// active segment), so a batch a producer retries after any restart, clean or kill -9, is
/// recognised and answered with its original offset. Snapshots outlive the segments they came
/// from, so retention and compaction do not make the broker forget a producer.
/// </summary>
public sealed partial class PartitionLog
{
    private const string SnapshotSuffix = ".snapshot";
    private const int KeptSnapshots = 2;

    private ProducerStateTable _producers = new();

    /// <summary>The offset of the snapshot the last open started from (-1: none, the whole log was read).</summary>
    public long ProducerSnapshotLoaded { get; private set; } = -1;

    /// <summary>Batch headers read after that snapshot at the last open.</summary>
    public int ProducerBatchesReplayed { get; private set; }

    /// <summary>
    /// The producers this partition keeps state for (Kafka's DescribeProducers): epoch, last
    /// sequence and timestamp, the coordinator epoch of the last marker, and the first offset of the
    /// open transaction (-1 when none). A copy, taken under the write lock.
    /// </summary>
    public IReadOnlyList<ProducerInfo> ActiveProducers()
    {
        lock (_writeLock)
        {
            return _producers.All.Select(kv => new ProducerInfo(kv.Key, kv.Value.Epoch,
                kv.Value.Count > 0 ? kv.Value.Last.LastSequence : -1, kv.Value.LastTimestamp,
                kv.Value.CoordinatorEpoch, kv.Value.CurrentTxnFirstOffset)).ToList();
        }
    }

    /// <summary>Producer ids the partition remembers.</summary>
    public int ProducerCount
    {
        get
        {
            lock (_writeLock)
                return _producers.Count;
        }
    }

    /// <summary>
    /// Appends a validated batch after checking its producer's epoch and sequence (idempotent and
    /// transactional producers); a batch without a producer id or sequence is appended unchecked
    /// (a transactional one is refused: INVALID_RECORD). A control batch is a transaction marker
    /// (see <see cref="LastStableOffset"/>): refused with INVALID_PRODUCER_EPOCH when its epoch is
    /// older than its producer's, TRANSACTION_COORDINATOR_FENCED when its coordinator epoch is,
    /// INVALID_RECORD when it is not a well-formed transactional marker. The check and the
    /// append are one step under the write lock, so two connections of one producer cannot both pass.
    /// </summary>
    public AppendResult AppendChecked(Span<byte> batch)
    {
        var h = RecordBatchHeader.Read(batch);
        AppendResult result;
        lock (_writeLock)
        {
            if (h.IsControl)
                result = AppendMarkerLocked(batch, h);
            else
                result = AppendDataLocked(batch, h);
        }
        if (h.IsControl && result.Error == ErrorCode.None)
            MarkerAppended?.Invoke(this);
        return result;
    }

    /// <summary>
    /// A coordinator's own transactional write (Kafka's AppendOrigin.COORDINATOR: TxnOffsetCommit's
    /// records in __consumer_offsets): no sequence check, but refused with INVALID_PRODUCER_EPOCH
    /// when a marker of a newer epoch is already in, checked under the write lock with the append,
    /// so a write that lost a race with a fencing marker cannot reopen a transaction nobody will end.
    /// </summary>
    public AppendResult AppendCoordinatorTransactional(Span<byte> batch)
    {
        var h = RecordBatchHeader.Read(batch);
        lock (_writeLock)
        {
            if (_producers.TryGet(h.ProducerId, out var producer) && h.ProducerEpoch < producer.Epoch)
                return new AppendResult(ErrorCode.InvalidProducerEpoch, -1, false);
            return new AppendResult(ErrorCode.None, AppendLocked(batch, h), false);
        }
    }

    private AppendResult AppendDataLocked(Span<byte> batch, in RecordBatchHeader h)
    {
        // A transaction is tracked by producer id and sequence: without them it could never be ended.
        if (h.IsTransactional && !ProducerStateTable.IsIdempotent(h))
            return new AppendResult(ErrorCode.InvalidRecord, -1, false);
        if (ProducerStateTable.IsIdempotent(h))
        {
            var (error, duplicate) = _producers.Check(h);
            if (error != ErrorCode.None)
                return new AppendResult(error, -1, false);
            if (duplicate >= 0)
                return new AppendResult(ErrorCode.None, duplicate, true);
        }
        return new AppendResult(ErrorCode.None, AppendLocked(batch, h), false);
    }

    /// <summary>producer.id.expiration.ms: forgets producers idle that long (the broker calls this periodically). Returns how many.</summary>
    public int RemoveExpiredProducers(long nowMs)
    {
        lock (_writeLock)
            return _closed ? 0 : _producers.RemoveExpired(nowMs, Config.ProducerIdExpirationMs);
    }

    private string SnapshotPath(long offset) => Path.Combine(Directory, Segment.FileName(offset) + SnapshotSuffix);

    /// <summary>
    /// Writes the producer state as of <paramref name="offset"/> (everything below it is in it) and
    /// drops all but the newest snapshots. A failure costs only a longer replay at the next start:
    /// the older snapshot and the segments after it are still there.
    /// </summary>
    private void TryWriteProducerSnapshot(long offset)
    {
        string path = SnapshotPath(offset);
        // The snapshot stands for every abort below its offset: their index entries must be on disk first.
        FlushTransactionIndexes();
        try
        {
            using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
            {
                file.Write(_producers.Serialize(offset));
                file.Flush(flushToDisk: true);
            }
            File.Move(path + ".tmp", path, overwrite: true);
            foreach (var (_, old) in Snapshots().Skip(KeptSnapshots))
                File.Delete(old);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("{Path}: producer snapshot not written ({Message}); the next start replays more of the log", path, e.Message);
        }
    }

    /// <summary>Snapshot files, newest first.</summary>
    private IEnumerable<(long Offset, string Path)> Snapshots()
    {
        var found = new List<(long, string)>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*" + SnapshotSuffix))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
                found.Add((offset, path));
        }
        return found.OrderByDescending(s => s.Item1);
    }

    /// <summary>
    /// At open, after the segments: the newest readable snapshot at or below the log end (one above it
    /// belongs to records a crash took back), then the producer batches and markers after it.
    /// </summary>
    private void LoadProducerState()
    {
        ProducerStateTable? table = null;
        long from = -1;
        foreach (var (offset, path) in Snapshots())
        {
            if (offset > LogEndOffset)
            {
                File.Delete(path);
                continue;
            }
            string? problem;
            try
            {
                table = ProducerStateTable.Deserialize(File.ReadAllBytes(path), offset, out problem);
            }
            catch (IOException e)
            {
                (table, problem) = (null, e.Message);
            }
            if (table is not null)
            {
                from = offset;
                break;
            }
            _logger.LogWarning("{Path}: producer snapshot refused ({Problem}); trying an older one", path, problem);
            File.Delete(path);
        }
        _producers = table ?? new ProducerStateTable();
        ProducerSnapshotLoaded = from;
        int replayed = ReplayProducerState(from);
        ProducerBatchesReplayed = replayed;
        _producers.RemoveExpired(NowMs, Config.ProducerIdExpirationMs);
        UpdateLastStableOffset();
        // Next time, start from here: a crash loop then replays only what came after this start.
        if (replayed > 0)
            TryWriteProducerSnapshot(LogEndOffset);
    }
}
