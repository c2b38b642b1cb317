using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// OffsetCommit v0-10: generation-checked commits for members, simple commits (generation -1) for
// standalone consumers; stored in __consumer_offsets. v10 names topics by id.
// Partitions of topics that do not exist get UNKNOWN_TOPIC_OR_PARTITION before the coordinator sees
// the request, as Kafka's KafkaApis answers them. Not implemented: v0's ZooKeeper-era semantics
// (treated like v1). With an authorizer: READ on the group (else every partition
// GROUP_AUTHORIZATION_FAILED) and READ on each topic (else TOPIC_AUTHORIZATION_FAILED), as Kafka.
internal sealed class OffsetCommitHandler(GroupCoordinator coordinator, TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.OffsetCommit;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (OffsetCommitRequest)request;
        if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            return ValueTask.FromResult<IResponse?>(AllFailed(r, ErrorCode.GroupAuthorizationFailed));
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
        var unknownTopics = new List<OffsetCommitRequest.OffsetCommitRequestTopic>();
        var unauthorized = new List<OffsetCommitRequest.OffsetCommitRequestTopic>();
        foreach (var t in r.Topics)
        {
            if (!context.Authorize(AclOperation.Read, AclResourceType.Topic, t.Name))
                unauthorized.Add(t);
            else if (!topics.TryGet(t.Name, out var topic))
                unknownTopics.Add(t);
            else
            {
                var beyond = t.Partitions.Where(p => p.PartitionIndex < 0 || p.PartitionIndex >= topic.Partitions.Length).ToList();
                if (beyond.Count > 0)
                {
                    unknownTopics.Add(new OffsetCommitRequest.OffsetCommitRequestTopic { Name = t.Name, TopicId = t.TopicId, Partitions = beyond });
                    t.Partitions.RemoveAll(beyond.Contains);
                }
            }
        }
        r.Topics.RemoveAll(t => t.Partitions.Count == 0 || unknownTopics.Contains(t) || unauthorized.Contains(t));
        var response = r.Topics.Count > 0 || unknownTopics.Count + unauthorized.Count == 0
            ? coordinator.ShardFor(r.GroupId).OffsetCommit(r, context.ApiVersion)
            : new OffsetCommitResponse();
        foreach (var t in unknownTopics)
        {
            response.Topics.Add(new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = ErrorCode.UnknownTopicOrPartition }).ToList(),
            });
        }
        foreach (var t in unauthorized)
        {
            response.Topics.Add(new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = ErrorCode.TopicAuthorizationFailed }).ToList(),
            });
        }
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

    private static OffsetCommitResponse AllFailed(OffsetCommitRequest r, ErrorCode error) => new()
    {
        Topics = r.Topics.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
        {
            Name = t.Name,
            TopicId = t.TopicId,
            Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error }).ToList(),
        }).ToList(),
    };
}
