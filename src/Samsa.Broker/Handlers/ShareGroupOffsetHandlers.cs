using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Network;
using Samsa.Broker.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

/// <summary>What the share-group offset admin APIs check of a group, as Kafka's coordinator does.</summary>
internal static class ShareGroupChecks
{
    /// <summary>GROUP_ID_NOT_FOUND unless the id names a share group; NON_EMPTY_GROUP while it has members.</summary>
    public static (ErrorCode Error, string? Message) Alterable(GroupCoordinator groups, string groupId)
    {
        if (groupId.Length == 0)
            return (ErrorCode.InvalidGroupId, "The group id can't be empty.");
        var view = groups.View(groupId);
        if (view is null || view.State == "Dead")
            return (ErrorCode.GroupIdNotFound, $"Group {groupId} not found.");
        if (view.Type != GroupType.Share)
            return (ErrorCode.GroupIdNotFound, $"Group {groupId} is not a share group.");
        if (view.Members.Count > 0)
            return (ErrorCode.NonEmptyGroup, $"Share group {groupId} has members: stop them first.");
        return (ErrorCode.None, null);
    }
}

// DescribeShareGroupOffsets v0-1: each partition's share-partition start offset and, from v1 (KIP-1226),
// its lag: the log end offset less the start offset less the records at or above it already delivered
// to completion. As in Kafka, a topic that does not exist and a partition without state are not errors:
// start offset -1 (lag -1). A null topic list asks for every partition the group has state for (an id
// that is not a share group then answers GROUP_ID_NOT_FOUND). Leader epochs are 0 (a single node never
// changes leader).
internal sealed class DescribeShareGroupOffsetsHandler(GroupCoordinator groups, SharePartitionManager shares) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeShareGroupOffsets;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeShareGroupOffsetsRequest)request;
        var response = new DescribeShareGroupOffsetsResponse();
        foreach (var g in r.Groups)
        {
            response.Groups.Add(context.Authorize(Security.Authorization.AclOperation.Describe, Security.Authorization.AclResourceType.Group, g.GroupId)
                ? Describe(g)
                : new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup { GroupId = g.GroupId, ErrorCode = ErrorCode.GroupAuthorizationFailed });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    private DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup Describe(DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup g)
    {
        var result = new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup { GroupId = g.GroupId };
        var wanted = new List<(string Name, Guid Id, IReadOnlyList<int> Partitions)>();
        if (g.Topics is null)
        {
            if (groups.View(g.GroupId) is not { Type: GroupType.Share } view || view.State == "Dead")
            {
                result.ErrorCode = ErrorCode.GroupIdNotFound;
                result.ErrorMessage = $"Group {g.GroupId} is not a share group.";
                return result;
            }
            foreach (var topic in shares.KeysOf(g.GroupId).GroupBy(k => k.TopicId).OrderBy(t => t.Key))
            {
                if (shares.Topics.FindById(topic.Key) is { } known)
                    wanted.Add((known.Name, topic.Key, topic.Select(k => k.Partition).Order().ToList()));
            }
        }
        else
        {
            foreach (var t in g.Topics)
                wanted.Add((t.TopicName, shares.Topics.TryGet(t.TopicName, out var topic) ? topic.Id : Guid.Empty, t.Partitions));
        }
        foreach (var (name, id, partitions) in wanted)
        {
            var topic = new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseTopic { TopicName = name, TopicId = id };
            result.Topics.Add(topic);
            foreach (int p in partitions)
            {
                var partition = new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition { PartitionIndex = p, StartOffset = -1, Lag = -1 };
                topic.Partitions.Add(partition);
                if (id == Guid.Empty || shares.StateOf(new ShareKey(g.GroupId, id, p)) is not { StartOffset: >= 0 } state)
                    continue;
                partition.StartOffset = state.StartOffset;
                if (shares.TryGetLog(new TopicIdPartition(id, p), out _, out var log) == ErrorCode.None)
                    partition.Lag = Math.Max(0, log.LogEndOffset - state.StartOffset - state.DeliveryCompleteCount);
            }
        }
        return result;
    }
}

// AlterShareGroupOffsets v0: sets share-partition start offsets of an empty share group (NON_EMPTY_GROUP
// otherwise, GROUP_ID_NOT_FOUND for an id that is not a share group); what was in flight is forgotten
// and the state epoch moves on. An unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION; a
// negative offset INVALID_REQUEST; an offset below the log start starts at the log start.
internal sealed class AlterShareGroupOffsetsHandler(GroupCoordinator groups, SharePartitionManager shares) : IApiHandler
{
    public ApiKey Key => ApiKey.AlterShareGroupOffsets;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (AlterShareGroupOffsetsRequest)request;
        var response = new AlterShareGroupOffsetsResponse();
        var (error, message) = context.Authorize(Security.Authorization.AclOperation.Read, Security.Authorization.AclResourceType.Group, r.GroupId)
            ? ShareGroupChecks.Alterable(groups, r.GroupId)
            : (ErrorCode.GroupAuthorizationFailed, null);
        if (error != ErrorCode.None)
        {
            response.ErrorCode = error;
            response.ErrorMessage = message;
            return ValueTask.FromResult<IResponse?>(response);
        }
        foreach (var t in r.Topics)
        {
            bool known = shares.Topics.TryGet(t.TopicName, out var topic);
            var tr = new AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponseTopic { TopicName = t.TopicName, TopicId = known ? topic.Id : Guid.Empty };
            response.Responses.Add(tr);
            foreach (var p in t.Partitions)
            {
                var pr = new AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponsePartition { PartitionIndex = p.PartitionIndex };
                tr.Partitions.Add(pr);
                if (!known || p.PartitionIndex < 0 || p.PartitionIndex >= topic.Partitions.Length)
                    (pr.ErrorCode, pr.ErrorMessage) = (ErrorCode.UnknownTopicOrPartition, $"{t.TopicName}-{p.PartitionIndex} does not exist.");
                else if (p.StartOffset < 0)
                    (pr.ErrorCode, pr.ErrorMessage) = (ErrorCode.InvalidRequest, $"Start offset {p.StartOffset} is negative.");
                else
                    pr.ErrorCode = Storage(() => shares.ResetStart(new ShareKey(r.GroupId, topic.Id, p.PartitionIndex), topic.Partitions[p.PartitionIndex], p.StartOffset));
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    internal static ErrorCode Storage(Action write)
    {
        try
        {
            write();
            return ErrorCode.None;
        }
        catch (Samsa.Storage.StorageException)
        {
            return ErrorCode.KafkaStorageError;
        }
    }
}

// DeleteShareGroupOffsets v0: forgets an empty share group's state for whole topics (the next delivery
// starts from share.auto.offset.reset). NON_EMPTY_GROUP while the group has members, GROUP_ID_NOT_FOUND
// for an id that is not a share group; a topic the group has no state for is UNKNOWN_TOPIC_OR_PARTITION.
internal sealed class DeleteShareGroupOffsetsHandler(GroupCoordinator groups, SharePartitionManager shares) : IApiHandler
{
    public ApiKey Key => ApiKey.DeleteShareGroupOffsets;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DeleteShareGroupOffsetsRequest)request;
        var response = new DeleteShareGroupOffsetsResponse();
        var (error, message) = context.Authorize(Security.Authorization.AclOperation.Delete, Security.Authorization.AclResourceType.Group, r.GroupId)
            ? ShareGroupChecks.Alterable(groups, r.GroupId)
            : (ErrorCode.GroupAuthorizationFailed, null);
        if (error != ErrorCode.None)
        {
            response.ErrorCode = error;
            response.ErrorMessage = message;
            return ValueTask.FromResult<IResponse?>(response);
        }
        var keys = shares.KeysOf(r.GroupId);
        foreach (var t in r.Topics)
        {
            bool known = shares.Topics.TryGet(t.TopicName, out var topic);
            var tr = new DeleteShareGroupOffsetsResponse.DeleteShareGroupOffsetsResponseTopic { TopicName = t.TopicName, TopicId = known ? topic.Id : Guid.Empty };
            response.Responses.Add(tr);
            var ofTopic = known ? keys.Where(k => k.TopicId == topic.Id).ToList() : [];
            if (ofTopic.Count == 0)
            {
                (tr.ErrorCode, tr.ErrorMessage) = (ErrorCode.UnknownTopicOrPartition, $"Share group {r.GroupId} has no state for topic {t.TopicName}.");
                continue;
            }
            tr.ErrorCode = AlterShareGroupOffsetsHandler.Storage(() =>
            {
                foreach (var key in ofTopic)
                    shares.Forget(key);
            });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
