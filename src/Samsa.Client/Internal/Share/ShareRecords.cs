using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Client.Serialization;
using Samsa.Protocol;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Client.Internal.Share;

/// <summary>An offset range a ShareFetch response acquired for this member, with its delivery count.</summary>
internal readonly record struct AcquiredRange(long FirstOffset, long LastOffset, short DeliveryCount);

/// <summary>
/// What one ShareFetch response returned for one partition: the record batches (whole log
/// batches, which may hold offsets other members own or that are already done) and the ranges
/// acquired for this member. Only records inside an acquired range are handed out, each with its
/// range's delivery count; acquired offsets no record fills (control records, compacted-away
/// offsets) are reported as gaps, which the consumer acknowledges with type 0 so the broker does
/// not wait for their locks to expire. Batches are read in place from the response frame, as
/// <c>PartitionRecords</c> reads fetches. Owned by the poll thread.
/// </summary>
internal sealed class ShareRecords : IDisposable
{
    private readonly AcquiredRange[] _ranges;
    private readonly bool _checkCrcs;
    private ReadOnlyMemory<byte> _remaining;
    private RecordEnumerator _records;
    private RecordBatchHeader _batch;
    private bool _inBatch;
    private PooledBufferWriter? _scratch;
    private ResponseBuffer? _frame;
    private int _range;
    private long _gapCursor;

    /// <param name="topic">The partition's topic.</param>
    /// <param name="partition">The partition.</param>
    /// <param name="topicId">The topic's id.</param>
    /// <param name="node">The broker that answered (acknowledgements go back to it).</param>
    /// <param name="records">The partition's record batches in the response.</param>
    /// <param name="frame">The response the records are a slice of (one reference, released on Dispose); null when there are none.</param>
    /// <param name="acquired">The offset ranges this member acquired.</param>
    /// <param name="checkCrcs">check.crcs.</param>
    /// <param name="lockExpiresAt">
    /// The <see cref="TimeProvider"/> timestamp from which the broker may have let the records' acquisition lock run out
    /// (the request's send time plus the lock duration it answered with); null when the broker did not say.
    /// </param>
    public ShareRecords(string topic, int partition, Guid topicId, int node, ReadOnlyMemory<byte> records, ResponseBuffer? frame, IEnumerable<AcquiredRange> acquired, bool checkCrcs, long? lockExpiresAt = null)
    {
        LockExpiresAt = lockExpiresAt;
        Topic = topic;
        Partition = partition;
        TopicId = topicId;
        Node = node;
        _remaining = records;
        _frame = frame;
        _checkCrcs = checkCrcs;
        _ranges = acquired.Where(r => r.LastOffset >= r.FirstOffset).OrderBy(r => r.FirstOffset).ToArray();
        _gapCursor = _ranges.Length > 0 ? _ranges[0].FirstOffset : 0;
        IsDrained = _ranges.Length == 0;
    }

    public string Topic { get; }

    public int Partition { get; }

    public Guid TopicId { get; }

    /// <summary>The broker that acquired the records: acknowledgements go to its share session.</summary>
    public int Node { get; }

    public bool IsDrained { get; private set; }

    /// <summary>See the constructor: past this timestamp the records may already belong to another member.</summary>
    public long? LockExpiresAt { get; }

    public bool LockExpired(long now) => LockExpiresAt is { } expiry && now >= expiry;

    /// <summary>
    /// Appends up to <paramref name="max"/> acquired records to <paramref name="output"/>, and to
    /// <paramref name="gaps"/> the acquired offset ranges passed over without a record.
    /// </summary>
    public int Drain<TKey, TValue>(List<ConsumeResult<TKey, TValue>> output, int max, IDeserializer<TKey> keys, IDeserializer<TValue> values, List<(long First, long Last)> gaps)
    {
        int added = 0;
        while (added < max && !IsDrained)
        {
            if (!_inBatch && !NextBatch())
            {
                Finish(gaps);
                break;
            }
            if (!_records.MoveNext())
            {
                _inBatch = false;
                continue;
            }
            var record = _records.Current;
            if (!TryRangeOf(record.Offset, out var range))
                continue; // another member's record, or one already done, in the same log batch
            AddGaps(gaps, record.Offset - 1);
            _gapCursor = record.Offset + 1;
            var headers = record.HeaderCount == 0 ? ConsumeResult<TKey, TValue>.NoHeaders : ReadHeaders(record);
            TKey key;
            TValue value;
            try
            {
                key = keys.Deserialize(record.Key is { } k ? k.Span : default, record.Key is null, new SerializationContext(Topic, IsKey: true) { Headers = headers });
                value = values.Deserialize(record.Value is { } v ? v.Span : default, record.Value is null, new SerializationContext(Topic, IsKey: false) { Headers = headers });
            }
            catch (Exception e) when (e is not KafkaException)
            {
                throw new ShareDeserializationException(Topic, Partition, record.Offset, e);
            }
            output.Add(new ConsumeResult<TKey, TValue>
            {
                Topic = Topic,
                Partition = Partition,
                Offset = record.Offset,
                LeaderEpoch = _batch.PartitionLeaderEpoch >= 0 ? _batch.PartitionLeaderEpoch : null,
                Key = key,
                Value = value,
                TimestampMs = record.Timestamp,
                TimestampKind = _batch.TimestampType == TimestampType.LogAppendTime ? TimestampKind.LogAppendTime : TimestampKind.CreateTime,
                Headers = headers,
                DeliveryCount = range.DeliveryCount,
            });
            added++;
        }
        return added;
    }

    /// <summary>The range holding <paramref name="offset"/>; ranges and records both ascend, so the search only moves forward.</summary>
    private bool TryRangeOf(long offset, out AcquiredRange range)
    {
        while (_range < _ranges.Length && _ranges[_range].LastOffset < offset)
            _range++;
        if (_range < _ranges.Length && _ranges[_range].FirstOffset <= offset)
        {
            range = _ranges[_range];
            return true;
        }
        range = default;
        return false;
    }

    /// <summary>Acquired offsets from the gap cursor up to <paramref name="upTo"/> had no record.</summary>
    private void AddGaps(List<(long First, long Last)> gaps, long upTo)
    {
        foreach (var r in _ranges)
        {
            long first = Math.Max(r.FirstOffset, _gapCursor), last = Math.Min(r.LastOffset, upTo);
            if (first <= last)
                gaps.Add((first, last));
        }
    }

    private void Finish(List<(long First, long Last)> gaps)
    {
        AddGaps(gaps, long.MaxValue);
        _gapCursor = long.MaxValue;
        Release();
    }

    private bool NextBatch()
    {
        long lastAcquired = _ranges[^1].LastOffset;
        while (RecordBatch.TryReadNext(ref _remaining, out var batch))
        {
            var header = batch.Header;
            if (header.LastOffset < _gapCursor || header.IsControl)
                continue; // control records are never delivered; their offsets are gaps
            if (header.BaseOffset > lastAcquired)
                break;
            if (_checkCrcs && !batch.CrcMatches)
                throw new KafkaException(ErrorCode.CorruptMessage, $"Record batch at {Topic}-{Partition}@{header.BaseOffset} failed its CRC check (check.crcs).");
            _batch = header;
            if (header.Compression == CompressionType.None)
            {
                _records = batch.GetRecords();
            }
            else
            {
                _scratch ??= new PooledBufferWriter(64 * 1024);
                _records = batch.GetRecords(_scratch);
            }
            _inBatch = true;
            return true;
        }
        return false;
    }

    private static List<Header> ReadHeaders(Record record)
    {
        var headers = new List<Header>(record.HeaderCount);
        foreach (var h in record.GetHeaders())
            headers.Add(new Header(System.Text.Encoding.UTF8.GetString(h.Key.Span), h.Value?.ToArray()));
        return headers;
    }

    /// <summary>The offsets still held here and not yet handed out (for a release on close or revocation).</summary>
    public IEnumerable<(long First, long Last)> Undelivered()
    {
        foreach (var r in _ranges)
        {
            long first = Math.Max(r.FirstOffset, _gapCursor);
            if (first <= r.LastOffset)
                yield return (first, r.LastOffset);
        }
    }

    private void Release()
    {
        IsDrained = true;
        _scratch?.Dispose();
        _scratch = null;
        _remaining = default;
        _records = default;
        Interlocked.Exchange(ref _frame, null)?.Release();
    }

    public void Dispose() => Release();
}

/// <summary>A delivered record's key or value could not be deserialized; the record is released for another delivery.</summary>
public sealed class ShareDeserializationException(string topic, int partition, long offset, Exception inner)
    : KafkaException(ErrorCode.CorruptMessage, $"Cannot deserialize the record at {topic}-{partition}@{offset}: {inner.Message} It was released; the share group archives it at its delivery count limit.", inner)
{
    /// <summary>The record's topic and partition.</summary>
    public TopicPartition TopicPartition { get; } = new(topic, partition);

    /// <summary>The record's offset.</summary>
    public long Offset { get; } = offset;
}
