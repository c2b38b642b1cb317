using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// ListOffsets v0-11: -1 latest (log end), -2 earliest (log start), -3 max timestamp (v7+), or a
// timestamp. v0 answers with a one-element list of offsets (Burrow still sends v0).
// Approximation for now: a timestamp lookup resolves to the first batch whose max timestamp is at
// or after it (its base offset), and -3 to the last offset of the batch with the largest max
// timestamp, without opening the records inside; exact per-record answers need the record reader.
internal sealed class ListOffsetsHandler(TopicManager topics) : IApiHandler
{
    private const long Latest = -1, Earliest = -2, MaxTimestamp = -3, EarliestLocal = -4, EarliestPendingUpload = -5;

    public ApiKey Key => ApiKey.ListOffsets;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ListOffsetsRequest)request;
        var response = new ListOffsetsResponse();
        foreach (var t in r.Topics)
        {
            var tr = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = t.Name };
            response.Topics.Add(tr);
            topics.TryGet(t.Name, out var topic);
            foreach (var p in t.Partitions)
            {
                var pr = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex };
                tr.Partitions.Add(pr);
                if (topic is null || p.PartitionIndex < 0 || p.PartitionIndex >= topic.Partitions.Length)
                {
                    pr.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                    continue;
                }
                var log = topic.Partitions[p.PartitionIndex];
                (long offset, long timestamp) = p.Timestamp switch
                {
                    Latest => (log.LogEndOffset, -1L),
                    // No tiered storage: the earliest local offset is the earliest offset.
                    Earliest or EarliestLocal or EarliestPendingUpload => (log.LogStartOffset, -1L),
                    MaxTimestamp => log.Batches(log.LogStartOffset).DefaultIfEmpty(new Storage.BatchEntry(-1, -1, -1, 0, 0, 0))
                        .MaxBy(b => b.MaxTimestamp) is { BaseOffset: >= 0 } b ? (b.LastOffset, b.MaxTimestamp) : (-1L, -1L),
                    _ => log.FindByTimestamp(p.Timestamp) is { } found ? (Math.Max(found.BaseOffset, log.LogStartOffset), found.MaxTimestamp) : (-1L, -1L),
                };
                if (p.Timestamp < EarliestPendingUpload)
                {
                    pr.ErrorCode = ErrorCode.InvalidRequest;
                    continue;
                }
                pr.Offset = offset;
                pr.Timestamp = timestamp;
                pr.LeaderEpoch = 0;
                if (context.ApiVersion == 0)
                    pr.OldStyleOffsets = offset >= 0 ? [offset] : [];
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
