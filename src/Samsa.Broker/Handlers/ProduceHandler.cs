using System.Runtime.InteropServices;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.Storage;

namespace Samsa.Broker.Handlers;

// Produce v0-13. Magic-2 record batches; v0-2's magic 0/1 message sets are up-converted to one
// magic-2 batch, as Kafka 3.x does (Kafka 4 still lists v0-2, for librdkafka's feature probe,
// KAFKA-18659, but refuses them; listing only what we serve, we serve them). acks 0/1/-1
// (all = 1 on a single node); acks=0 sends no response. Each batch is checked (magic, length, CRC,
// message.max.bytes) and appended as it arrived, only its base offset rewritten.
// Topics with message.timestamp.type=LogAppendTime get the broker's clock stamped into each batch.
// Idempotent producers: a retried batch is answered with its first offset, a sequence gap gets
// OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch INVALID_PRODUCER_EPOCH; the partition log keeps that
// state across restarts (producer snapshots). Records without a key on a compacted topic refuse
// the batch with INVALID_RECORD and one record_errors entry each (v8+), as Kafka's LogValidator.
// With an authorizer each topic needs WRITE (else TOPIC_AUTHORIZATION_FAILED, before existence is looked at).
// Transactional batches (KIP-98) are checked as idempotent ones (an older epoch: INVALID_PRODUCER_EPOCH)
// and open their producer's transaction in the partition log, which holds the last stable offset
// there until the coordinator's marker; a producer inside a transaction sending a non-transactional
// batch gets INVALID_TXN_STATE, as in Kafka. Control batches from clients are refused (INVALID_RECORD).
// KIP-890 part 1: a transactional batch for a partition not added to the open transaction is refused (ProduceHandler.Transactions.cs).
internal sealed partial class ProduceHandler(TopicManager topics, BrokerOptions options, AppendNotifier appends, Transactions.TransactionCoordinator? transactions = null) : IApiHandler
{
    public ApiKey Key => ApiKey.Produce;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ProduceRequest)request;
        var response = new ProduceResponse();
        bool badAcks = r.Acks is not (0 or 1 or -1);
        bool any = false;
        foreach (var t in r.TopicData)
        {
            Topic? topic = context.ApiVersion >= 13 ? topics.FindById(t.TopicId) : topics.TryGet(t.Name, out var named) ? named : null;
            bool authorized = context.Authorize(AclOperation.Write, AclResourceType.Topic, topic?.Name ?? t.Name);
            var topicResponse = new ProduceResponse.TopicProduceResponse { Name = t.Name, TopicId = t.TopicId };
            response.Responses.Add(topicResponse);
            foreach (var p in t.PartitionData)
            {
                var pr = new ProduceResponse.PartitionProduceResponse { Index = p.Index, BaseOffset = -1 };
                topicResponse.PartitionResponses.Add(pr);
                if (badAcks)
                    pr.ErrorCode = ErrorCode.InvalidRequiredAcks;
                else if (!authorized)
                    pr.ErrorCode = ErrorCode.TopicAuthorizationFailed;
                else if (topic is null || p.Index < 0 || p.Index >= topic.Partitions.Length)
                    pr.ErrorCode = context.ApiVersion >= 13 ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition;
                else if (topic.Name is TopicManager.ConsumerOffsetsTopic or Share.ShareStateLog.TopicName or Transactions.TransactionLog.TopicName)
                    (pr.ErrorCode, pr.ErrorMessage) = (ErrorCode.InvalidTopicException, $"Clients may not produce to {topic.Name}.");
                else if (VerifyTransaction(r, context, topic.Name, p) is { } refused)
                    (pr.ErrorCode, pr.ErrorMessage) = refused;
                else
                {
                    var log = topic.Partitions[p.Index];
                    // A topic override wins; otherwise the broker's message.max.bytes, as in Kafka.
                    int maxBytes = topic.Configs.TryGetValue("max.message.bytes", out var configured) && int.TryParse(configured, out int m) ? m : topics.Dynamic.MessageMaxBytes;
                    long appendTime = topic.Config("message.timestamp.type") == "LogAppendTime" ? options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() : -1;
                    string? compacted = topic.IsCompacted ? $"{topic.Name}-{p.Index}" : null;
                    (pr.ErrorCode, pr.ErrorMessage, pr.BaseOffset, var recordErrors) = context.ApiVersion <= 2 && LegacyMessageSet.IsLegacy((p.Records ?? default).Span)
                        ? AppendLegacy(log, p.Records!.Value, maxBytes, appendTime, compacted)
                        : Append(log, p.Records ?? ReadOnlyMemory<byte>.Empty, maxBytes, appendTime, compacted);
                    if (recordErrors is not null)
                        pr.RecordErrors = recordErrors;
                    pr.LogAppendTimeMs = appendTime;
                    pr.LogStartOffset = log.LogStartOffset;
                    any |= pr.ErrorCode == ErrorCode.None;
                }
            }
        }
        if (any)
            appends.Appended();
        return ValueTask.FromResult<IResponse?>(r.Acks == 0 ? null : response);
    }

    /// <summary>
    /// Produce v0-2 carry magic 0/1 message sets: up-converted to one magic-2 batch, as Kafka 3.x
    /// does, then checked and appended like any batch.
    /// </summary>
    private static (ErrorCode, string?, long, List<ProduceResponse.BatchIndexAndErrorMessage>?) AppendLegacy(
        PartitionLog log, ReadOnlyMemory<byte> records, int maxMessageBytes, long logAppendTime, string? compactedPartition)
    {
        if (records.Length > maxMessageBytes)
            return (ErrorCode.MessageTooLarge, $"Message set of {records.Length} bytes is larger than max.message.bytes ({maxMessageBytes}).", -1, null);
        using var converted = new PooledBufferWriter(records.Length + RecordBatchHeader.Size);
        try
        {
            LegacyMessageSet.ToRecordBatch(records.Span, converted, Math.Max(maxMessageBytes, 1) * 64);
        }
        catch (ProtocolException e)
        {
            return (ErrorCode.CorruptMessage, e.Message, -1, null);
        }
        // The converted batch may be a little larger than the message set; the message set's size is what max.message.bytes bounds.
        return Append(log, converted.WrittenMemory, int.MaxValue, logAppendTime, compactedPartition);
    }

    /// <summary>
    /// Validates every batch first, so a bad batch in the middle appends nothing: its framing, size
    /// and CRC, then (on a compacted topic, <paramref name="compactedPartition"/> set) its records' keys.
    /// </summary>
    private static (ErrorCode, string?, long, List<ProduceResponse.BatchIndexAndErrorMessage>?) Append(
        PartitionLog log, ReadOnlyMemory<byte> records, int maxMessageBytes, long logAppendTime, string? compactedPartition)
    {
        // The records slice points into this request's frame buffer, which the connection owns
        // until the response is written: rewriting base offsets in place is safe and saves a copy.
        var bytes = MemoryMarshal.AsMemory(records);
        var batches = new List<Memory<byte>>();
        int position = 0;
        while (position < bytes.Length)
        {
            var rest = bytes.Span[position..];
            if (rest.Length < RecordBatchHeader.Size)
                return (ErrorCode.CorruptMessage, "Truncated record batch.", -1, null);
            var h = RecordBatchHeader.Read(rest);
            if (h.Magic != RecordBatchHeader.CurrentMagic)
                return (ErrorCode.UnsupportedForMessageFormat, $"Record batch magic {h.Magic} is not supported; use Produce v3+ with magic 2.", -1, null);
            if (h.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead || h.TotalSize > rest.Length)
                return (ErrorCode.CorruptMessage, $"Record batch length {h.BatchLength} does not fit the {rest.Length} bytes sent.", -1, null);
            if (h.TotalSize > maxMessageBytes)
                return (ErrorCode.MessageTooLarge, $"Record batch of {h.TotalSize} bytes is larger than max.message.bytes ({maxMessageBytes}).", -1, null);
            if (RecordBatchHeader.ComputeCrc(rest[..h.TotalSize]) != h.Crc)
                return (ErrorCode.CorruptMessage, "Record batch CRC does not match its contents.", -1, null);
            // Markers are the transaction coordinator's, appended in-process; a client may not write them.
            if (h.IsControl)
                return (ErrorCode.InvalidRecord, "Control batches (transaction markers) are written by the transaction coordinator, not produced by clients.", -1, null);
            if (h.IsTransactional && (h.ProducerId < 0 || h.BaseSequence < 0))
                return (ErrorCode.InvalidRecord, $"Transactional batch without a producer id and sequence (producer id {h.ProducerId}, base sequence {h.BaseSequence}).", -1, null);
            batches.Add(bytes.Slice(position, h.TotalSize));
            position += h.TotalSize;
        }
        if (batches.Count == 0)
            return (ErrorCode.InvalidRecord, "No record batch in the produce request.", -1, null);
        if (compactedPartition is not null && KeylessRecords.Find(records, compactedPartition) is var (keylessError, keylessMessage, recordErrors))
            return (keylessError, keylessMessage, -1, recordErrors);
        long baseOffset = -1;
        try
        {
            foreach (var batch in batches)
            {
                if (logAppendTime >= 0)
                    RecordBatchHeader.SetLogAppendTime(batch.Span, logAppendTime);
                // The log checks the producer's epoch and sequence and appends in one step; a retry
                // of a batch already written (before a restart too) is answered with where it went.
                var result = log.AppendChecked(batch.Span);
                if (result.Error != ErrorCode.None)
                {
                    var h = RecordBatchHeader.Read(batch.Span);
                    return (result.Error, $"Producer {h.ProducerId} epoch {h.ProducerEpoch}: batch with sequences {h.BaseSequence}-{h.BaseSequence + h.LastOffsetDelta} refused ({result.Error}).", -1, null);
                }
                if (baseOffset < 0)
                    baseOffset = result.BaseOffset;
            }
        }
        catch (StorageException e)
        {
            return (ErrorCode.KafkaStorageError, e.Message, -1, null);
        }
        return (ErrorCode.None, null, baseOffset, null);
    }
}
