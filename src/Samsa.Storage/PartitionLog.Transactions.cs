using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.Storage.Internal;

namespace Samsa.Storage;

/// <summary>An aborted transaction as Kafka's .txnindex holds it.</summary>
/// <param name="ProducerId">The transactional producer.</param>
/// <param name="FirstOffset">Its transaction's first offset in this partition.</param>
/// <param name="LastOffset">The offset of the abort marker.</param>
/// <param name="LastStableOffset">The last stable offset once the marker was appended.</param>
public readonly record struct AbortedTransaction(long ProducerId, long FirstOffset, long LastOffset, long LastStableOffset)
{
    /// <summary>Whether a data batch belongs to this transaction: its producer's, from the first offset up to the ABORT marker (LastOffset).</summary>
    public bool Covers(in RecordBatchHeader batch) =>
        batch.IsTransactional && !batch.IsControl && batch.ProducerId == ProducerId && batch.BaseOffset >= FirstOffset && batch.BaseOffset < LastOffset;
}

/// <summary>
/// Transactions on the partition side (KIP-98, Kafka's ProducerStateManager and TransactionIndex):
/// a transactional batch opens its producer's transaction at its first offset; a marker (a control
/// batch the transaction coordinator appends through <see cref="AppendChecked"/>) ends it, and an
/// abort is recorded in the segment's aborted-transaction index. The last stable offset is the
/// first offset of the oldest open transaction (the log end when none is open): read_committed
/// readers see only what is below it, and filter aborted records with the index.
/// </summary>
public sealed partial class PartitionLog
{
    private long _lastStableOffset;

    /// <summary>
    /// The first offset of the oldest open transaction, or the log end offset when none is open (not
    /// below the log start). Read without the lock.
    /// </summary>
    public long LastStableOffset => Volatile.Read(ref _lastStableOffset);

    /// <summary>Transactions begun and not yet ended by a marker.</summary>
    public int OpenTransactionCount
    {
        get
        {
            lock (_writeLock)
                return _producers.OpenTransactions;
        }
    }

    /// <summary>
    /// Raised after a marker was appended (outside the lock): the last stable offset may have
    /// moved without any produce, and fetches waiting under read_committed must look again.
    /// </summary>
    public event Action<PartitionLog>? MarkerAppended;

    private void UpdateLastStableOffset()
    {
        long first = _producers.FirstUnstableOffset;
        long stable = first < 0 ? LogEndOffset : Math.Max(first, LogStartOffset);
        Volatile.Write(ref _lastStableOffset, stable);
    }

    /// <summary>
    /// A control batch: checked against its producer's epochs, appended, then the producer's open
    /// transaction ended (an abort indexed). A marker with no open transaction is appended too
    /// (a coordinator resends markers after a crash) and changes nothing else.
    /// </summary>
    private AppendResult AppendMarkerLocked(Span<byte> batch, in RecordBatchHeader h)
    {
        if (!h.IsTransactional || h.ProducerId < 0 || !TryReadMarker(batch, out _, out int coordinatorEpoch))
            return new AppendResult(ErrorCode.InvalidRecord, -1, false);
        var error = _producers.CheckMarker(h, coordinatorEpoch);
        if (error != ErrorCode.None)
            return new AppendResult(error, -1, false);
        // AppendLocked applies the marker (unchecked appends of markers go through it as well).
        return new AppendResult(ErrorCode.None, AppendLocked(batch, h), false);
    }

    /// <summary>Ends the producer's transaction; an abort goes into <paramref name="segment"/>'s index unless it is there already (replay).</summary>
    private void ApplyMarker(Segment segment, in RecordBatchHeader h, ControlRecordType type, int coordinatorEpoch)
    {
        // The caller (AppendLocked, or the replay at open) publishes the new last stable offset only
        // after the abort is in the index: a read_committed reader that sees the LSO move must also
        // find the entry, or it would deliver the aborted records.
        long first = _producers.ApplyMarker(h, coordinatorEpoch);
        if (first < 0 || type != ControlRecordType.Abort || segment.TxnIndex.LastMarkerOffset >= h.BaseOffset)
            return;
        // Kafka's lastStableOffset(completedTxn): the oldest other open transaction, else just past the marker.
        long open = _producers.FirstUnstableOffset;
        var entry = new AbortedTransaction(h.ProducerId, first, h.BaseOffset, open < 0 ? h.BaseOffset + 1 : open);
        segment.TxnIndex.Append(entry, _logger);
    }

    /// <summary>
    /// The marker's type and coordinator epoch from the one record of a control batch (uncompressed,
    /// as Kafka writes markers): length, attributes, timestamp delta, offset delta, key, value.
    /// </summary>
    private static bool TryReadMarker(ReadOnlySpan<byte> batch, out ControlRecordType type, out int coordinatorEpoch)
    {
        type = default;
        coordinatorEpoch = -1;
        if (RecordBatchHeader.Read(batch).Compression != CompressionType.None)
            return false;
        var span = batch[RecordBatchHeader.Size..];
        int n;
        if ((n = Varint.TryRead(span, out int _)) <= 0 || span.Length < n + 1)
            return false;
        span = span[(n + 1)..];
        if ((n = Varint.TryRead(span, out long _)) <= 0)
            return false;
        span = span[n..];
        if ((n = Varint.TryRead(span, out int _)) <= 0)
            return false;
        span = span[n..];
        if ((n = Varint.TryRead(span, out int keyLength)) <= 0 || keyLength < ControlRecord.KeySize || span.Length < n + keyLength)
            return false;
        var key = span.Slice(n, keyLength);
        span = span[(n + keyLength)..];
        if ((n = Varint.TryRead(span, out int valueLength)) <= 0 || valueLength < ControlRecord.ValueSize || span.Length < n + valueLength)
            return false;
        try
        {
            type = ControlRecord.ReadType(key);
            coordinatorEpoch = ControlRecord.ReadCoordinatorEpoch(span.Slice(n, valueLength));
        }
        catch (ProtocolException)
        {
            return false;
        }
        return type is ControlRecordType.Abort or ControlRecordType.Commit;
    }

    /// <summary>
    /// Kafka's collectAbortedTransactions: the aborted transactions overlapping
    /// [<paramref name="fetchOffset"/>, <paramref name="upperBound"/>) (last offset at or after the
    /// fetch offset, first offset below the bound), what a read_committed reader needs to drop the
    /// aborted records of the batches it was sent. From the segment holding the fetch offset on,
    /// until an entry's last stable offset reaches the bound. Null when there are none.
    /// </summary>
    public List<AbortedTransaction>? CollectAbortedTransactions(long fetchOffset, long upperBound)
    {
        var segments = _segments;
        List<AbortedTransaction>? found = null;
        for (int s = SegmentFor(segments, fetchOffset); s < segments.Length; s++)
        {
            var index = segments[s].TxnIndex;
            if (index.Count == 0)
                continue;
            found ??= [];
            if (index.Collect(fetchOffset, upperBound, found))
                break;
        }
        return found is { Count: > 0 } ? found : null;
    }

    /// <summary>
    /// At open, the log after the producer snapshot, batch by batch: idempotent and transactional
    /// batches update their producer, markers end transactions and re-add an abort a crash kept
    /// out of the index (the marker was written, its entry not). Returns the batches replayed.
    /// </summary>
    private int ReplayProducerState(long from)
    {
        int replayed = 0;
        var segments = _segments;
        if (!TryFind(segments, Math.Max(from, 0), long.MinValue, out int s, out long position, out _))
            return 0;
        for (; s < segments.Length; s++, position = 0)
        {
            var segment = segments[s];
            foreach (var (at, h) in segment.Batches(position))
            {
                if (h.BaseOffset < from)
                    continue;
                if (h.IsControl)
                {
                    if (h.ProducerId < 0 || !TryReadMarker(ReadMarkerBatch(segment, at, h), out var type, out int coordinatorEpoch))
                        continue;
                    ApplyMarker(segment, h, type, coordinatorEpoch);
                }
                else if (ProducerStateTable.IsIdempotent(h))
                {
                    _producers.Update(h);
                }
                else
                {
                    continue;
                }
                replayed++;
            }
        }
        return replayed;
    }

    private static byte[] ReadMarkerBatch(Segment segment, long position, in RecordBatchHeader h)
    {
        // Markers are a few dozen bytes; a larger control batch is not one of ours to parse.
        var bytes = new byte[Math.Min(h.TotalSize, 4096)];
        segment.Read(bytes, position);
        return bytes;
    }

    private void FlushTransactionIndexes()
    {
        foreach (var segment in _segments)
            segment.TxnIndex.Flush(_logger);
    }
}
