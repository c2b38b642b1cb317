using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// Every group API checks the group (READ to be a member, DESCRIBE to describe or list, DELETE to
// delete): GROUP_AUTHORIZATION_FAILED otherwise, as Kafka answers.

// JoinGroup v0-9: parked until the rebalance completes; MEMBER_ID_REQUIRED from v4; static members from v5.
internal sealed class JoinGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.JoinGroup;

    public async ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (JoinGroupRequest)request;
        if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            return new JoinGroupResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed, ProtocolName = context.ApiVersion >= 7 ? null : "" };
        string host = context.ClientAddress is System.Net.IPEndPoint ip ? "/" + ip.Address : context.ClientAddress?.ToString() ?? "";
        return await coordinator.ShardFor(r.GroupId).JoinGroup(r, context.ApiVersion, context.ClientId ?? "", host).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

// SyncGroup v0-5: followers wait for the leader's assignment.
internal sealed class SyncGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.SyncGroup;

    public async ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (SyncGroupRequest)request;
        if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            return new SyncGroupResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed };
        return await coordinator.ShardFor(r.GroupId).SyncGroup(r, context.ApiVersion).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

// Heartbeat v0-4.
internal sealed class HeartbeatHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.Heartbeat;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (HeartbeatRequest)request;
        if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            return ValueTask.FromResult<IResponse?>(new HeartbeatResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed });
        return ValueTask.FromResult<IResponse?>(coordinator.ShardFor(r.GroupId).Heartbeat(r));
    }
}

// LeaveGroup v0-5 (batch and by instance id from v3).
internal sealed class LeaveGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.LeaveGroup;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (LeaveGroupRequest)request;
        if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            return ValueTask.FromResult<IResponse?>(new LeaveGroupResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed });
        return ValueTask.FromResult<IResponse?>(coordinator.ShardFor(r.GroupId).LeaveGroup(r, context.ApiVersion));
    }
}

// DescribeGroups v0-6, answered from the published group views. Member metadata and assignments
// only for a Stable group (Kafka's rule). An unknown group, or a group of another type (Kafka
// describes consumer groups with ConsumerGroupDescribe and share groups with ShareGroupDescribe),
// is "Dead", with GROUP_ID_NOT_FOUND from v6.
internal sealed class DescribeGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeGroups;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeGroupsRequest)request;
        return ValueTask.FromResult<IResponse?>(new DescribeGroupsResponse
        {
            Groups = r.Groups.Select(g => context.Authorize(AclOperation.Describe, AclResourceType.Group, g)
                ? WithOperations(context, r, Describe(g, context.ApiVersion))
                : new DescribeGroupsResponse.DescribedGroup { GroupId = g, ErrorCode = ErrorCode.GroupAuthorizationFailed, ErrorMessage = null }).ToList(),
        });
    }

    private static DescribeGroupsResponse.DescribedGroup WithOperations(RequestContext context, DescribeGroupsRequest r, DescribeGroupsResponse.DescribedGroup group)
    {
        if (r.IncludeAuthorizedOperations && group.ErrorCode == ErrorCode.None && group.GroupState != "Dead")
            group.AuthorizedOperations = context.AuthorizedOperations(AclResourceType.Group, group.GroupId);
        return group;
    }

    private DescribeGroupsResponse.DescribedGroup Describe(string groupId, short version)
    {
        var view = coordinator.View(groupId);
        if (view is null || view.Type != GroupType.Classic || view.State == "Dead")
        {
            return new DescribeGroupsResponse.DescribedGroup
            {
                GroupId = groupId,
                GroupState = "Dead",
                ErrorCode = version >= 6 ? ErrorCode.GroupIdNotFound : ErrorCode.None,
                ErrorMessage = version >= 6 ? (view is null ? $"Group {groupId} not found." : $"Group {groupId} is not a classic group.") : null,
            };
        }
        bool stable = view.State == "Stable";
        return new DescribeGroupsResponse.DescribedGroup
        {
            GroupId = groupId,
            GroupState = view.State,
            ProtocolType = view.ProtocolType,
            ProtocolData = stable ? view.Protocol ?? "" : "",
            Members = view.Members.Select(m => new DescribeGroupsResponse.DescribedGroupMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.InstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                MemberMetadata = stable ? m.Metadata : [],
                MemberAssignment = stable ? m.Assignment : [],
            }).ToList(),
        };
    }
}

// ListGroups v0-5 from the published group views, with the v4 state filter and the v5 type filter
// (classic, consumer, share; a share group's protocol type is "share", its states Empty and Stable).
internal sealed class ListGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.ListGroups;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (ListGroupsRequest)request;
        // As Kafka: DESCRIBE on the cluster lists every group, otherwise the groups the principal may describe.
        bool describeAll = context.AuthorizeCluster(AclOperation.Describe);
        var groups = coordinator.Views.Values
            .Where(g => g.State != "Dead")
            .Where(g => describeAll || context.Authorize(AclOperation.Describe, AclResourceType.Group, g.GroupId))
            .Select(g => new ListGroupsResponse.ListedGroup
            {
                GroupId = g.GroupId,
                ProtocolType = g.ProtocolType,
                GroupState = g.State,
                GroupType = GroupTypes.Name(g.Type),
            })
            .Where(g => r.StatesFilter.Count == 0 || r.StatesFilter.Contains(g.GroupState, StringComparer.OrdinalIgnoreCase))
            .Where(g => r.TypesFilter.Count == 0 || r.TypesFilter.Contains(g.GroupType, StringComparer.OrdinalIgnoreCase))
            .OrderBy(g => g.GroupId, StringComparer.Ordinal)
            .ToList();
        return ValueTask.FromResult<IResponse?>(new ListGroupsResponse { Groups = groups });
    }
}

// DeleteGroups v0-2: NON_EMPTY_GROUP unless the group has no members; GROUP_ID_NOT_FOUND if unknown.
// Deleting a share group deletes its share-partition state too.
internal sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.DeleteGroups;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DeleteGroupsRequest)request;
        return ValueTask.FromResult<IResponse?>(new DeleteGroupsResponse
        {
            Results = r.GroupsNames.Select(g => new DeleteGroupsResponse.DeletableGroupResult
            {
                GroupId = g,
                ErrorCode = context.Authorize(AclOperation.Delete, AclResourceType.Group, g) ? Delete(g) : ErrorCode.GroupAuthorizationFailed,
            }).ToList(),
        });
    }

    /// <summary>A deleted group's configs go with it, as in Kafka.</summary>
    private ErrorCode Delete(string groupId)
    {
        var error = coordinator.ShardFor(groupId).DeleteGroup(groupId);
        if (error == ErrorCode.None)
            coordinator.Configs.Remove(groupId);
        return error;
    }
}

// OffsetDelete v0: GROUP_SUBSCRIBED_TO_TOPIC for topics the live group consumes.
internal sealed class OffsetDeleteHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey Key => ApiKey.OffsetDelete;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (OffsetDeleteRequest)request;
        if (!context.Authorize(AclOperation.Delete, AclResourceType.Group, r.GroupId))
            return ValueTask.FromResult<IResponse?>(new OffsetDeleteResponse { ErrorCode = ErrorCode.GroupAuthorizationFailed });
        return ValueTask.FromResult<IResponse?>(coordinator.ShardFor(r.GroupId).OffsetDelete(r));
    }
}
