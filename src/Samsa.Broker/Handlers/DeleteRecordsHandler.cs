using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DeleteRecords v0-2: moves a partition's log start offset; -1 means the high watermark (delete
// everything). Records below it are no longer fetchable; whole segments below it are not yet
// reclaimed from disk (that comes with retention).
internal sealed class DeleteRecordsHandler(TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.DeleteRecords;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DeleteRecordsRequest)request;
        var response = new DeleteRecordsResponse();
        foreach (var t in r.Topics)
        {
            var tr = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = t.Name };
            response.Topics.Add(tr);
            topics.TryGet(t.Name, out var topic);
            bool authorized = context.Authorize(Security.Authorization.AclOperation.Delete, Security.Authorization.AclResourceType.Topic, t.Name);
            foreach (var p in t.Partitions)
            {
                var pr = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = p.PartitionIndex, LowWatermark = -1 };
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
                long target = p.Offset == -1 ? log.LogEndOffset : p.Offset;
                if (target < 0 || target > log.LogEndOffset)
                {
                    pr.ErrorCode = ErrorCode.OffsetOutOfRange;
                    continue;
                }
                try
                {
                    pr.LowWatermark = log.DeleteRecordsBefore(target);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The new log start could not be persisted: nothing changed.
                    pr.ErrorCode = ErrorCode.KafkaStorageError;
                }
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
