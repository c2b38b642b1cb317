using System.Buffers.Binary;
using Samsa.Protocol;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Internal;

/// <summary>
/// Idempotent-producer state of one partition (Kafka's ProducerStateManager): per producer id, its
/// epoch, the sequences and offsets of its last five batches (a producer has at most five requests
/// in flight, so a retry is always among them), its last batch's timestamp (for
/// producer.id.expiration.ms), and for transactional producers the coordinator epoch of its last
/// marker and the first offset of its open transaction (the oldest of those is the first unstable
/// offset). Rebuilt at load from a snapshot file plus the batches after it.
/// The owning log's write lock guards it. Nothing is allocated per batch: each producer's batches
/// live in a fixed ring.
/// </summary>
internal sealed class ProducerStateTable
{
    public const int RememberedBatches = 5;

    private readonly Dictionary<long, Producer> _producers = [];
    // First offsets of the open transactions: the smallest is the first unstable offset.
    private readonly SortedSet<long> _openTransactions = [];

    public int Count => _producers.Count;

    /// <summary>Open transactions (one at most per producer).</summary>
    public int OpenTransactions => _openTransactions.Count;

    /// <summary>The first offset of the oldest open transaction; -1 when none is open.</summary>
    public long FirstUnstableOffset => _openTransactions.Count == 0 ? -1 : _openTransactions.Min;

    internal struct Remembered
    {
        public int FirstSequence;
        public int LastSequence;
        public long BaseOffset;
        public int LastOffsetDelta;
    }

    internal sealed class Producer
    {
        public short Epoch;
        public long LastTimestamp;
        public int CoordinatorEpoch = -1;
        public long CurrentTxnFirstOffset = -1;
        public int Count;
        private int _next;
        private readonly Remembered[] _batches = new Remembered[RememberedBatches];

        /// <summary>Oldest first.</summary>
        public Remembered this[int i] => _batches[(_next - Count + i + RememberedBatches) % RememberedBatches];

        public Remembered Last => this[Count - 1];

        public void Add(in Remembered batch)
        {
            _batches[_next] = batch;
            _next = (_next + 1) % RememberedBatches;
            Count = Math.Min(Count + 1, RememberedBatches);
        }

        public void Clear() => Count = 0;
    }

    public static bool IsIdempotent(in RecordBatchHeader h) => h.ProducerId >= 0 && h.BaseSequence >= 0;

    /// <summary>A batch's last sequence: sequences wrap from int.MaxValue to 0, as Kafka's do.</summary>
    public static int LastSequenceOf(in RecordBatchHeader h) =>
        h.BaseSequence > int.MaxValue - h.LastOffsetDelta ? h.LastOffsetDelta - (int.MaxValue - h.BaseSequence) - 1 : h.BaseSequence + h.LastOffsetDelta;

    private static bool InSequence(int last, int next) => next == last + 1 || (next == 0 && last == int.MaxValue);

    /// <summary>
    /// Checks an idempotent batch before it is appended: (None, -1) to append it, (None, offset) for
    /// a retry already written at that offset, or Kafka's refusal. A producer not known here (new, or
    /// expired) may start at any sequence, as in Kafka since KIP-360.
    /// </summary>
    public (ErrorCode Error, long DuplicateOffset) Check(in RecordBatchHeader h)
    {
        if (!_producers.TryGetValue(h.ProducerId, out var p))
            return (ErrorCode.None, -1);
        if (h.ProducerEpoch < p.Epoch)
            return (ErrorCode.InvalidProducerEpoch, -1);
        if (h.ProducerEpoch > p.Epoch)
            return h.BaseSequence == 0 ? (ErrorCode.None, -1) : (ErrorCode.OutOfOrderSequenceNumber, -1);
        int last = LastSequenceOf(h);
        for (int i = 0; i < p.Count; i++)
        {
            var b = p[i];
            if (b.FirstSequence == h.BaseSequence && b.LastSequence == last)
                return (ErrorCode.None, b.BaseOffset);
        }
        if (!(p.Count == 0 || InSequence(p.Last.LastSequence, h.BaseSequence)))
            return (ErrorCode.OutOfOrderSequenceNumber, -1);
        // As Kafka: a producer inside a transaction writes only transactional batches until its marker.
        if (p.CurrentTxnFirstOffset >= 0 && !h.IsTransactional)
            return (ErrorCode.InvalidTxnState, -1);
        return (ErrorCode.None, -1);
    }

    /// <summary>
    /// Checks a transaction marker before it is appended: its producer epoch must not be older than
    /// the producer's (INVALID_PRODUCER_EPOCH), nor its coordinator epoch older than the last
    /// marker's (TRANSACTION_COORDINATOR_FENCED: a zombie coordinator). An unknown producer is fine.
    /// </summary>
    public ErrorCode CheckMarker(in RecordBatchHeader h, int coordinatorEpoch)
    {
        if (!_producers.TryGetValue(h.ProducerId, out var p))
            return ErrorCode.None;
        if (h.ProducerEpoch < p.Epoch)
            return ErrorCode.InvalidProducerEpoch;
        return coordinatorEpoch < p.CoordinatorEpoch ? ErrorCode.TransactionCoordinatorFenced : ErrorCode.None;
    }

    /// <summary>
    /// Records an appended marker: ends the producer's open transaction and returns its first
    /// offset (-1 when none was open: a resent marker changes nothing else). The marker's epoch
    /// becomes the producer's (the coordinator bumps it when it aborts on a timeout).
    /// </summary>
    public long ApplyMarker(in RecordBatchHeader h, int coordinatorEpoch)
    {
        if (!_producers.TryGetValue(h.ProducerId, out var p))
            _producers[h.ProducerId] = p = new Producer { Epoch = h.ProducerEpoch };
        else if (h.ProducerEpoch != p.Epoch)
        {
            p.Epoch = h.ProducerEpoch;
            p.Clear();
        }
        p.CoordinatorEpoch = coordinatorEpoch;
        p.LastTimestamp = h.MaxTimestamp;
        long first = p.CurrentTxnFirstOffset;
        if (first >= 0)
        {
            _openTransactions.Remove(first);
            p.CurrentTxnFirstOffset = -1;
        }
        return first;
    }

    /// <summary>Records an appended idempotent batch (its offsets assigned), on append and when reading the log tail at load.</summary>
    public void Update(in RecordBatchHeader h)
    {
        if (!_producers.TryGetValue(h.ProducerId, out var p))
            _producers[h.ProducerId] = p = new Producer { Epoch = h.ProducerEpoch };
        else if (h.ProducerEpoch != p.Epoch)
        {
            p.Epoch = h.ProducerEpoch;
            p.Clear();
        }
        p.LastTimestamp = h.MaxTimestamp;
        p.Add(new Remembered { FirstSequence = h.BaseSequence, LastSequence = LastSequenceOf(h), BaseOffset = h.BaseOffset, LastOffsetDelta = h.LastOffsetDelta });
        if (h.IsTransactional && p.CurrentTxnFirstOffset < 0)
        {
            p.CurrentTxnFirstOffset = h.BaseOffset;
            _openTransactions.Add(h.BaseOffset);
        }
    }

    /// <summary>
    /// producer.id.expiration.ms: forgets producers whose last batch is that old, except those with
    /// an open transaction (as Kafka: only its marker ends it). Returns how many went.
    /// </summary>
    public int RemoveExpired(long nowMs, long expirationMs)
    {
        int removed = 0;
        foreach (var (id, p) in _producers)
        {
            if (p.CurrentTxnFirstOffset < 0 && nowMs - p.LastTimestamp >= expirationMs && _producers.Remove(id))
                removed++;
        }
        return removed;
    }

    public bool TryGet(long producerId, out Producer producer) => _producers.TryGetValue(producerId, out producer!);

    /// <summary>Every producer the partition remembers, for DescribeProducers. Caller holds the log's write lock.</summary>
    public IEnumerable<KeyValuePair<long, Producer>> All => _producers;

    // Snapshot file: version (int32), CRC32C of everything after it (uint32), the snapshot's offset
    // (int64), the producer count (int32), then per producer its id (int64), epoch (int16), last
    // timestamp (int64), coordinator epoch (int32), open transaction's first offset (int64, -1: none;
    // as Kafka's snapshot v1 CurrentTxnFirstOffset) and batch count (int32) with, per batch oldest
    // first, first and last sequence (int32, int32), base offset (int64) and last offset delta
    // (int32). Big-endian, as Kafka's files. Version 1 (before transactions) lacks the two
    // transaction fields and is still read.
    private const int SnapshotVersion = 2;
    private const int FileHeader = 4 + 4 + 8 + 4;
    private const int ProducerSize = 8 + 2 + 8 + 4 + 8 + 4;
    private const int ProducerSizeV1 = 8 + 2 + 8 + 4;
    private const int BatchSize = 4 + 4 + 8 + 4;

    public byte[] Serialize(long offset)
    {
        int size = FileHeader;
        foreach (var p in _producers.Values)
            size += ProducerSize + p.Count * BatchSize;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, SnapshotVersion);
        BinaryPrimitives.WriteInt64BigEndian(span[8..], offset);
        BinaryPrimitives.WriteInt32BigEndian(span[16..], _producers.Count);
        int at = FileHeader;
        foreach (var (id, p) in _producers)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[at..], id);
            BinaryPrimitives.WriteInt16BigEndian(span[(at + 8)..], p.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(at + 10)..], p.LastTimestamp);
            BinaryPrimitives.WriteInt32BigEndian(span[(at + 18)..], p.CoordinatorEpoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(at + 22)..], p.CurrentTxnFirstOffset);
            BinaryPrimitives.WriteInt32BigEndian(span[(at + 30)..], p.Count);
            at += ProducerSize;
            for (int i = 0; i < p.Count; i++, at += BatchSize)
            {
                var b = p[i];
                BinaryPrimitives.WriteInt32BigEndian(span[at..], b.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span[(at + 4)..], b.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span[(at + 8)..], b.BaseOffset);
                BinaryPrimitives.WriteInt32BigEndian(span[(at + 16)..], b.LastOffsetDelta);
            }
        }
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], Crc32C.Compute(span[8..]));
        return bytes;
    }

    /// <summary>Reads a snapshot; null (with why) when it is torn, corrupt or of an unknown version.</summary>
    public static ProducerStateTable? Deserialize(ReadOnlySpan<byte> span, long expectedOffset, out string? problem)
    {
        problem = null;
        if (span.Length < FileHeader)
            return Refuse("shorter than its header", out problem);
        int version = BinaryPrimitives.ReadInt32BigEndian(span);
        if (version is not (1 or SnapshotVersion))
            return Refuse($"version {version} is not 1 or {SnapshotVersion}", out problem);
        int producerSize = version == 1 ? ProducerSizeV1 : ProducerSize;
        if (BinaryPrimitives.ReadUInt32BigEndian(span[4..]) != Crc32C.Compute(span[8..]))
            return Refuse("CRC does not match", out problem);
        if (BinaryPrimitives.ReadInt64BigEndian(span[8..]) != expectedOffset)
            return Refuse("its offset is not the one in its name", out problem);
        var table = new ProducerStateTable();
        int count = BinaryPrimitives.ReadInt32BigEndian(span[16..]);
        int at = FileHeader;
        for (int n = 0; n < count; n++)
        {
            if (span.Length < at + producerSize)
                return Refuse("truncated", out problem);
            var p = new Producer
            {
                Epoch = BinaryPrimitives.ReadInt16BigEndian(span[(at + 8)..]),
                LastTimestamp = BinaryPrimitives.ReadInt64BigEndian(span[(at + 10)..]),
            };
            long id = BinaryPrimitives.ReadInt64BigEndian(span[at..]);
            if (version >= 2)
            {
                p.CoordinatorEpoch = BinaryPrimitives.ReadInt32BigEndian(span[(at + 18)..]);
                p.CurrentTxnFirstOffset = BinaryPrimitives.ReadInt64BigEndian(span[(at + 22)..]);
                if (p.CurrentTxnFirstOffset >= expectedOffset || (p.CurrentTxnFirstOffset >= 0 && !table._openTransactions.Add(p.CurrentTxnFirstOffset)))
                    return Refuse($"producer {id}'s open transaction at {p.CurrentTxnFirstOffset} is not below the snapshot's offset or is another's", out problem);
            }
            int batches = BinaryPrimitives.ReadInt32BigEndian(span[(at + producerSize - 4)..]);
            at += producerSize;
            if (batches is < 0 or > RememberedBatches || span.Length < at + batches * BatchSize)
                return Refuse("truncated", out problem);
            for (int i = 0; i < batches; i++, at += BatchSize)
            {
                p.Add(new Remembered
                {
                    FirstSequence = BinaryPrimitives.ReadInt32BigEndian(span[at..]),
                    LastSequence = BinaryPrimitives.ReadInt32BigEndian(span[(at + 4)..]),
                    BaseOffset = BinaryPrimitives.ReadInt64BigEndian(span[(at + 8)..]),
                    LastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(span[(at + 16)..]),
                });
            }
            table._producers[id] = p;
        }
        return at == span.Length ? table : Refuse("has bytes past its last producer", out problem);
    }

    private static ProducerStateTable? Refuse(string why, out string problem)
    {
        problem = why;
        return null;
    }
}
