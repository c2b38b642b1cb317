using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// OffsetFetch v0-10: one group (v0-7; a null topic list from v2 means all) or several (v8+, topic
// ids from v10). Partitions without a commit come back as offset -1 without error, as in Kafka.
// With require_stable (v7+) a partition with transactional offsets not yet committed or aborted
// answers UNSTABLE_OFFSET_COMMIT (offset -1), and the client retries. A consumer-group
// member naming itself (v9+) must be at its current epoch (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID).
// With an authorizer: DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) and on each topic (a named
// one's partitions TOPIC_AUTHORIZATION_FAILED, unnamed ones left out), as Kafka.
internal sealed class OffsetFetchHandler(GroupCoordinator coordinator, TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.OffsetFetch;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (OffsetFetchRequest)request;
        var response = new OffsetFetchResponse();
        if (context.ApiVersion < 8)
        {
            if (!context.Authorize(AclOperation.Describe, AclResourceType.Group, r.GroupId))
                return ValueTask.FromResult<IResponse?>(new OffsetFetchResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed });
            var requested = r.Topics?.Select(t => (t.Name, (IReadOnlyList<int>)t.PartitionIndexes)).ToList();
            var (error, offsets) = coordinator.ShardFor(r.GroupId).FetchOffsets(r.GroupId, requested);
            var pending = r.RequireStable ? coordinator.ShardFor(r.GroupId).PendingTransactionalPartitions(r.GroupId) : null;
            response.ErrorCode = error;
            foreach (var group in offsets.GroupBy(x => x.Topic))
            {
                if (!context.Authorize(AclOperation.Describe, AclResourceType.Topic, group.Key))
                {
                    if (requested is not null)
                        response.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopic { Name = group.Key, Partitions = group.Select(x => new OffsetFetchResponse.OffsetFetchResponsePartition { PartitionIndex = x.Partition, CommittedOffset = -1, Metadata = "", ErrorCode = ErrorCode.TopicAuthorizationFailed }).ToList() });
                    continue;
                }
                response.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopic
                {
                    Name = group.Key,
                    Partitions = group.Select(x => new OffsetFetchResponse.OffsetFetchResponsePartition
                    {
                        PartitionIndex = x.Partition,
                        CommittedOffset = Unstable(pending, x.Topic, x.Partition) ? -1 : x.Offset?.Offset ?? -1,
                        ErrorCode = Unstable(pending, x.Topic, x.Partition) ? ErrorCode.UnstableOffsetCommit : ErrorCode.None,
                        CommittedLeaderEpoch = x.Offset?.LeaderEpoch ?? -1,
                        Metadata = x.Offset?.Metadata ?? "",
                    }).ToList(),
                });
            }
            return ValueTask.FromResult<IResponse?>(response);
        }

        bool byId = context.ApiVersion >= 10;
        foreach (var g in r.Groups)
        {
            if (!context.Authorize(AclOperation.Describe, AclResourceType.Group, g.GroupId))
            {
                response.Groups.Add(new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId, ErrorCode = ErrorCode.GroupAuthorizationFailed });
                continue;
            }
            var requested = g.Topics?.Select(t => (byId ? topics.FindById(t.TopicId)?.Name ?? "" : t.Name, (IReadOnlyList<int>)t.PartitionIndexes)).ToList();
            var (error, offsets) = coordinator.ShardFor(g.GroupId).FetchOffsets(g.GroupId, requested, g.MemberId, g.MemberEpoch);
            var pending = r.RequireStable ? coordinator.ShardFor(g.GroupId).PendingTransactionalPartitions(g.GroupId) : null;
            var result = new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId, ErrorCode = error };
            foreach (var group in offsets.GroupBy(x => x.Topic))
            {
                if (!context.Authorize(AclOperation.Describe, AclResourceType.Topic, group.Key))
                {
                    if (requested is not null)
                        result.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopics { Name = group.Key, Partitions = group.Select(x => new OffsetFetchResponse.OffsetFetchResponsePartitions { PartitionIndex = x.Partition, CommittedOffset = -1, Metadata = "", ErrorCode = ErrorCode.TopicAuthorizationFailed }).ToList() });
                    continue;
                }
                result.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopics
                {
                    Name = group.Key,
                    TopicId = byId && topics.TryGet(group.Key, out var t) ? t.Id : Guid.Empty,
                    Partitions = group.Select(x => new OffsetFetchResponse.OffsetFetchResponsePartitions
                    {
                        PartitionIndex = x.Partition,
                        CommittedOffset = Unstable(pending, x.Topic, x.Partition) ? -1 : x.Offset?.Offset ?? -1,
                        ErrorCode = Unstable(pending, x.Topic, x.Partition) ? ErrorCode.UnstableOffsetCommit : ErrorCode.None,
                        CommittedLeaderEpoch = x.Offset?.LeaderEpoch ?? -1,
                        Metadata = x.Offset?.Metadata ?? "",
                    }).ToList(),
                });
            }
            response.Groups.Add(result);
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    private static bool Unstable(HashSet<(string Topic, int Partition)>? pending, string topic, int partition) =>
        pending is not null && pending.Contains((topic, partition));
}
