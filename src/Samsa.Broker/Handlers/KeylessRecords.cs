using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Handlers;

/// <summary>
/// A compacted topic keeps the newest record per key, so a record without a key has nothing to be
/// kept by: Kafka's LogValidator refuses the whole batch with INVALID_RECORD and names each keyless
/// record by its index in its batch (record_errors, Produce v8+). Only compacted topics pay for
/// this walk over the records.
/// </summary>
internal static class KeylessRecords
{
    /// <summary>The refusal, or null when every record has a key (or the batches are malformed: the append path reports that).</summary>
    public static (ErrorCode, string, List<ProduceResponse.BatchIndexAndErrorMessage>)? Find(ReadOnlyMemory<byte> records, string partition)
    {
        List<ProduceResponse.BatchIndexAndErrorMessage>? errors = null;
        using var scratch = new PooledBufferWriter();
        try
        {
            var rest = records;
            while (RecordBatch.TryReadNext(ref rest, out var batch))
            {
                if (batch.Header.IsControl)
                    continue;
                int index = 0;
                foreach (var record in batch.GetRecords(scratch))
                {
                    if (record.Key is null)
                    {
                        (errors ??= []).Add(new ProduceResponse.BatchIndexAndErrorMessage
                        {
                            BatchIndex = index,
                            BatchIndexErrorMessage = $"Compacted topic cannot accept message without key in topic partition {partition}.",
                        });
                    }
                    index++;
                }
                // Kafka stops at the first batch with errors.
                if (errors is not null)
                    break;
            }
        }
        catch (ProtocolException)
        {
            return null;
        }
        if (errors is null)
            return null;
        var shown = string.Join(", ", errors.Take(3).Select(e => $"RecordError(batchIndex={e.BatchIndex}, message='{e.BatchIndexErrorMessage}')"));
        return (ErrorCode.InvalidRecord, $"One or more records have been rejected due to {errors.Count} record errors in total, and only showing the first three errors at most: [{shown}]", errors);
    }
}
