using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Client.Serialization;
using Samsa.Protocol;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Client.Internal.Consumer;

/// <summary>
/// The records one fetch returned for one partition, handed out a few at a time by poll (up to
/// max.poll.records). Reads batches in place from the response buffer; compressed batches are
/// inflated into a scratch buffer rented for this partition and reused batch after batch.
/// Owned by the poll thread.
/// </summary>
internal sealed class PartitionRecords : IDisposable
{
    private readonly bool _checkCrcs;
    private readonly bool _readCommitted;
    private readonly List<(long ProducerId, long FirstOffset)> _abortedTransactions;
    private readonly HashSet<long> _abortedProducers = [];
    private ReadOnlyMemory<byte> _remaining;
    private RecordEnumerator _records;
    private RecordBatchHeader _batch;
    private bool _inBatch;
    private PooledBufferWriter? _scratch;
    private ResponseBuffer? _frame;

    /// <param name="topic">The partition's topic.</param>
    /// <param name="partition">The partition.</param>
    /// <param name="fetchOffset">The offset the fetch asked from (earlier records of a compressed batch are skipped).</param>
    /// <param name="records">The partition's record batches in the response.</param>
    /// <param name="frame">The response the records are a slice of; released on Dispose.</param>
    /// <param name="checkCrcs">check.crcs.</param>
    /// <param name="readCommitted">isolation.level=read_committed: records of aborted transactions are dropped.</param>
    /// <param name="aborted">The aborted transactions the fetch response listed.</param>
    public PartitionRecords(string topic, int partition, long fetchOffset, ReadOnlyMemory<byte> records, ResponseBuffer frame, bool checkCrcs, bool readCommitted, IEnumerable<(long ProducerId, long FirstOffset)>? aborted)
    {
        Topic = topic;
        Partition = partition;
        NextFetchOffset = fetchOffset;
        _remaining = records;
        _frame = frame;
        _checkCrcs = checkCrcs;
        _readCommitted = readCommitted;
        _abortedTransactions = aborted?.OrderBy(a => a.FirstOffset).ToList() ?? [];
    }

    public string Topic { get; }

    public int Partition { get; }

    /// <summary>Where the consumer's position goes once everything read so far is returned: past skipped control and aborted batches too.</summary>
    public long NextFetchOffset { get; private set; }

    public int? LastEpoch { get; private set; }

    public bool IsDrained { get; private set; }

    /// <summary>Appends records at or after <paramref name="position"/> to <paramref name="output"/>, up to <paramref name="max"/>.</summary>
    public int Drain<TKey, TValue>(long position, List<ConsumeResult<TKey, TValue>> output, int max, IDeserializer<TKey> keys, IDeserializer<TValue> values)
    {
        int added = 0;
        while (added < max)
        {
            if (!_inBatch && !NextBatch())
            {
                IsDrained = true;
                break;
            }
            if (!_records.MoveNext())
            {
                _inBatch = false;
                NextFetchOffset = Math.Max(NextFetchOffset, _batch.LastOffset + 1);
                continue;
            }
            var record = _records.Current;
            if (record.Offset < position || record.Offset < NextFetchOffset)
                continue; // a compressed batch starts before the fetch offset
            var headers = record.HeaderCount == 0 ? ConsumeResult<TKey, TValue>.NoHeaders : ReadHeaders(record);
            var keyContext = new SerializationContext(Topic, IsKey: true) { Headers = headers };
            var valueContext = new SerializationContext(Topic, IsKey: false) { Headers = headers };
            TKey key;
            TValue value;
            try
            {
                key = keys.Deserialize(record.Key is { } k ? k.Span : default, record.Key is null, keyContext);
                value = values.Deserialize(record.Value is { } v ? v.Span : default, record.Value is null, valueContext);
            }
            catch (Exception e) when (e is not KafkaException)
            {
                throw new KafkaException(ErrorCode.CorruptMessage,
                    $"Cannot deserialize the record at {Topic}-{Partition}@{record.Offset}: {e.Message} Seek past it to skip it.", e);
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
            });
            NextFetchOffset = record.Offset + 1;
            LastEpoch = _batch.PartitionLeaderEpoch >= 0 ? _batch.PartitionLeaderEpoch : null;
            added++;
        }
        return added;
    }

    private bool NextBatch()
    {
        while (RecordBatch.TryReadNext(ref _remaining, out var batch))
        {
            var header = batch.Header;
            if (header.LastOffset < NextFetchOffset)
                continue;
            if (_checkCrcs && !batch.CrcMatches)
                throw new KafkaException(ErrorCode.CorruptMessage, $"Record batch at {Topic}-{Partition}@{header.BaseOffset} failed its CRC check (check.crcs).");
            if (_readCommitted && SkipForTransactions(batch))
            {
                NextFetchOffset = header.LastOffset + 1;
                continue;
            }
            if (header.IsControl)
            {
                NextFetchOffset = header.LastOffset + 1;
                continue;
            }
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

    /// <summary>
    /// read_committed: a transactional batch from a producer whose transaction the fetch response
    /// lists as aborted (starting at or before this batch) is dropped, until that producer's abort
    /// marker (a control batch) ends the range.
    /// </summary>
    private bool SkipForTransactions(RecordBatch batch)
    {
        var header = batch.Header;
        while (_abortedTransactions.Count > 0 && _abortedTransactions[0].FirstOffset <= header.LastOffset)
        {
            _abortedProducers.Add(_abortedTransactions[0].ProducerId);
            _abortedTransactions.RemoveAt(0);
        }
        if (header.IsControl)
        {
            // An abort marker closes the aborted range of its producer; a commit marker is just skipped.
            if (header.IsTransactional)
                _abortedProducers.Remove(header.ProducerId);
            return true;
        }
        return header.IsTransactional && _abortedProducers.Contains(header.ProducerId);
    }

    private static List<Header> ReadHeaders(Record record)
    {
        var headers = new List<Header>(record.HeaderCount);
        foreach (var h in record.GetHeaders())
            headers.Add(new Header(System.Text.Encoding.UTF8.GetString(h.Key.Span), h.Value?.ToArray()));
        return headers;
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        _scratch = null;
        _remaining = default;
        _records = default;
        Interlocked.Exchange(ref _frame, null)?.Release();
        IsDrained = true;
    }
}
