using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Handlers;

// ListOffsets v0-11: -1 latest (log end), -2 earliest (log start; also -4/-5, there is no tiered
// storage), -3 the record with the largest timestamp (v7+), or the first record whose timestamp is
// at or after a given one. v0 answers with a one-element list of offsets (Burrow still sends v0).
// Timestamp lookups find the batch from the index, then the record inside it.
// isolation_level read_committed (v2+), as Kafka's lastFetchableOffset: latest is the last stable
// offset, and a timestamp or max-timestamp lookup that lands at or past it finds nothing (-1).
internal sealed class ListOffsetsHandler(TopicManager topics) : IApiHandler
{
    private const long Latest = -1, Earliest = -2, MaxTimestamp = -3, EarliestLocal = -4, EarliestPendingUpload = -5;

    public ApiKey Key => ApiKey.ListOffsets;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ListOffsetsRequest)request;
        var response = new ListOffsetsResponse();
        bool readCommitted = context.ApiVersion >= 2 && r.IsolationLevel == 1;
        foreach (var t in r.Topics)
        {
            var tr = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = t.Name };
            response.Topics.Add(tr);
            topics.TryGet(t.Name, out var topic);
            bool authorized = context.Authorize(AclOperation.Describe, AclResourceType.Topic, t.Name);
            foreach (var p in t.Partitions)
            {
                var pr = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex };
                tr.Partitions.Add(pr);
                if (!authorized)
                {
                    pr.ErrorCode = ErrorCode.TopicAuthorizationFailed;
                    continue;
                }
                if (topic is null || p.PartitionIndex < 0 || p.PartitionIndex >= topic.Partitions.Length)
                {
                    pr.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                    continue;
                }
                var log = topic.Partitions[p.PartitionIndex];
                long fetchable = readCommitted ? log.LastStableOffset : log.LogEndOffset;
                (long offset, long timestamp) = p.Timestamp switch
                {
                    Latest => (fetchable, -1L),
                    // No tiered storage: the earliest local offset is the earliest offset.
                    Earliest or EarliestLocal or EarliestPendingUpload => (log.LogStartOffset, -1L),
                    MaxTimestamp => log.FindMaxTimestamp() is { } b ? FindRecord(log, b, r => r.Timestamp == b.MaxTimestamp) : (-1L, -1L),
                    _ => log.FindByTimestamp(p.Timestamp) is { } found ? FindRecord(log, found, r => r.Timestamp >= p.Timestamp) : (-1L, -1L),
                };
                if (p.Timestamp < EarliestPendingUpload)
                {
                    pr.ErrorCode = ErrorCode.InvalidRequest;
                    continue;
                }
                if (p.Timestamp is not (Latest or Earliest or EarliestLocal or EarliestPendingUpload) && offset >= fetchable)
                    (offset, timestamp) = (-1L, -1L);
                pr.Offset = offset;
                pr.Timestamp = timestamp;
                pr.LeaderEpoch = 0;
                if (context.ApiVersion == 0)
                    pr.OldStyleOffsets = offset >= 0 ? [offset] : [];
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    /// <summary>The first record of a batch that matches, at or after the log start offset.</summary>
    private static (long Offset, long Timestamp) FindRecord(Storage.PartitionLog log, Storage.BatchEntry entry, Func<Record, bool> match)
    {
        using var read = log.Read(entry.BaseOffset, entry.Size);
        using var scratch = new PooledBufferWriter();
        ReadOnlyMemory<byte> buffer = read.Memory;
        if (RecordBatch.TryReadNext(ref buffer, out var batch))
        {
            foreach (var record in batch.GetRecords(scratch))
            {
                if (record.Offset >= log.LogStartOffset && match(record))
                    return (record.Offset, record.Timestamp);
            }
        }
        return (Math.Max(entry.BaseOffset, log.LogStartOffset), entry.MaxTimestamp);
    }
}
