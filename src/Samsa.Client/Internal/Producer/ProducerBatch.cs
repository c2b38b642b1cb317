using Samsa.Client.Producer;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// Who waits for one record: a task (ProduceAsync) or a callback (Produce); with telemetry on, its
/// send span and start (<see cref="ProducerTelemetry"/>).
/// </summary>
internal readonly record struct PendingRecord(TaskCompletionSource<DeliveryResult>? Completion, Action<DeliveryReport>? Callback, long Timestamp, int Bytes,
    System.Diagnostics.Activity? Activity = null, long Started = 0);

/// <summary>
/// The records of one partition on their way: open (taking records) until full, lingered or
/// flushed, then sealed into its wire bytes once — with its producer id, epoch and base sequence —
/// and sent, and resent unchanged on a retry, so the broker can recognise a duplicate.
/// </summary>
internal sealed class ProducerBatch(string topic, int partition, RecordBatchBuilder builder, long createdAt, int expectedRecords = 16)
{
    public string Topic => topic;

    public int Partition => partition;

    public long CreatedAt => createdAt;

    public RecordBatchBuilder? Builder { get; private set; } = builder;

    public List<PendingRecord> Records { get; } = new(expectedRecords);

    public PooledBufferWriter? Encoded { get; private set; }

    public int Attempts { get; set; }

    public long RetryAt { get; set; }

    public long ReservedBytes { get; set; }

    public bool IsSealed => Encoded is not null;

    /// <summary>Order of sealing within the partition (the base sequence with idempotence).</summary>
    public long Sequence { get; private set; } = -1;

    public int EstimatedSize => Builder?.EstimatedSize ?? Encoded!.WrittenCount;

    /// <summary>Writes the batch's bytes and gives the builder back for reuse.</summary>
    public RecordBatchBuilder Seal(long producerId, short epoch, int baseSequence, long order, bool transactional = false)
    {
        Sequence = order;
        var b = Builder!;
        b.ProducerId = producerId;
        b.ProducerEpoch = epoch;
        b.BaseSequence = baseSequence;
        b.IsTransactional = transactional;
        Encoded = new PooledBufferWriter(b.EstimatedSize + 64);
        b.Build(Encoded);
        Builder = null;
        return b;
    }

    public void Dispose()
    {
        Encoded?.Dispose();
        Encoded = null;
    }
}
