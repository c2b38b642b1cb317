using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// OffsetCommit v0-10: generation-checked commits for members, simple commits (generation -1) for
// standalone consumers; stored in __consumer_offsets. v10 names topics by id.
// Not implemented: v0's ZooKeeper-era semantics (treated like v1).
internal sealed class OffsetCommitHandler(GroupCoordinator coordinator, TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.OffsetCommit;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (OffsetCommitRequest)request;
        var unknownIds = new List<OffsetCommitRequest.OffsetCommitRequestTopic>();
        if (context.ApiVersion >= 10)
        {
            foreach (var t in r.Topics)
            {
                if (topics.FindById(t.TopicId) is { } topic)
                    t.Name = topic.Name;
                else
                    unknownIds.Add(t);
            }
            r.Topics.RemoveAll(unknownIds.Contains);
        }
        var response = coordinator.ShardFor(r.GroupId).OffsetCommit(r, context.ApiVersion);
        foreach (var t in unknownIds)
        {
            response.Topics.Add(new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                TopicId = t.TopicId,
                Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = ErrorCode.UnknownTopicId }).ToList(),
            });
        }
        if (context.ApiVersion >= 10)
        {
            foreach (var t in response.Topics.Where(t => t.Name.Length > 0))
                t.TopicId = topics.TryGet(t.Name, out var topic) ? topic.Id : Guid.Empty;
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
