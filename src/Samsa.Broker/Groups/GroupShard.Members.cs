using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>SyncGroup v0-5. Followers wait for the leader's assignment; the leader's sync stores it.</summary>
    public Task<SyncGroupResponse> SyncGroup(SyncGroupRequest request, short version) =>
        Run<Task<SyncGroupResponse>>(() =>
        {
            if (_groups.GetValueOrDefault(request.GroupId) is ConsumerGroup { Deleted: false } consumer)
                return ClassicSyncToConsumerGroup(consumer, request);
            var error = ValidateMember(request.GroupId, request.MemberId, request.GroupInstanceId, request.GenerationId, out var group, out var member);
            if (error == ErrorCode.None && version >= 5
                && ((request.ProtocolType is not null && request.ProtocolType != group!.ProtocolType)
                    || (request.ProtocolName is not null && request.ProtocolName != group!.ProtocolName)))
                error = ErrorCode.InconsistentGroupProtocol;
            if (error != ErrorCode.None)
                return Task.FromResult(new SyncGroupResponse { ErrorCode = error });

            switch (group!.State)
            {
                case GroupState.PreparingRebalance:
                    return Task.FromResult(new SyncGroupResponse { ErrorCode = ErrorCode.RebalanceInProgress });
                case GroupState.Stable:
                    RestartSessionTimer(group, member!);
                    return Task.FromResult(Assigned(group, member!));
                case GroupState.CompletingRebalance:
                {
                    RestartSessionTimer(group, member!);
                    member!.PendingSync?.TrySetResult(new SyncGroupResponse { ErrorCode = ErrorCode.RebalanceInProgress });
                    member.PendingSync = new TaskCompletionSource<SyncGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
                    var task = member.PendingSync.Task;
                    if (member.MemberId != group.LeaderId)
                        return task;
                    // The leader's assignment becomes the group's only through its record: replaying
                    // it stores every member's assignment and makes the group Stable.
                    var byMember = request.Assignments.GroupBy(a => a.MemberId).ToDictionary(g => g.Key, g => g.Last().Assignment, StringComparer.Ordinal);
                    var record = GroupRecord(group, group.Generation, group.ProtocolName, group.LeaderId, group.Members.Values,
                        m => byMember.TryGetValue(m.MemberId, out var a) ? a : []);
                    return new CoordinatorResult<Task<SyncGroupResponse>>(task, [record],
                        applied: () =>
                        {
                            group.RebalanceTimer?.Dispose();
                            group.RebalanceTimer = null;
                            foreach (var m in group.Members.Values)
                                CompleteSync(m, Assigned(group, m));
                        },
                        failed: storeError =>
                        {
                            // Kafka: every member waiting in this generation gets the error, and the group rebalances.
                            foreach (var m in group.Members.Values)
                                CompleteSync(m, new SyncGroupResponse { ErrorCode = storeError });
                            PrepareRebalance(group, $"storing the assignment failed ({storeError})");
                            return task;
                        });
                }
                default:
                    return Task.FromResult(new SyncGroupResponse { ErrorCode = ErrorCode.UnknownMemberId });
            }
        }, (error, _) => Task.FromResult(new SyncGroupResponse { ErrorCode = error }));

    private static SyncGroupResponse Assigned(ClassicGroup group, GroupMember member) => new()
    {
        ProtocolType = group.ProtocolType,
        ProtocolName = group.ProtocolName,
        Assignment = member.Assignment,
    };

    /// <summary>Heartbeat v0-4: keeps the session alive and tells the member when to rejoin.</summary>
    public HeartbeatResponse Heartbeat(HeartbeatRequest request) =>
        Run<HeartbeatResponse>(() =>
        {
            if (_groups.GetValueOrDefault(request.GroupId) is ConsumerGroup { Deleted: false } consumer)
                return ClassicHeartbeatToConsumerGroup(consumer, request);
            var error = ValidateMember(request.GroupId, request.MemberId, request.GroupInstanceId, request.GenerationId, out var group, out var member);
            if (error != ErrorCode.None)
                return new HeartbeatResponse { ErrorCode = error };
            RestartSessionTimer(group!, member!);
            return new HeartbeatResponse
            {
                ErrorCode = group!.State == GroupState.PreparingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None,
            };
        }, (error, _) => new HeartbeatResponse { ErrorCode = error });

    /// <summary>Group, member, instance and generation checks shared by Sync, Heartbeat and commits.</summary>
    private ErrorCode ValidateMember(string groupId, string memberId, string? instanceId, int generation, out ClassicGroup? group, out GroupMember? member)
    {
        member = null;
        group = Classic(groupId);
        if (group is null)
            return ErrorCode.UnknownMemberId;
        if (group.State == GroupState.Dead)
            return ErrorCode.CoordinatorNotAvailable;
        if (instanceId is not null && group.StaticMembers.TryGetValue(instanceId, out var current) && current != memberId)
            return ErrorCode.FencedInstanceId;
        if (!group.Members.TryGetValue(memberId, out member))
            return ErrorCode.UnknownMemberId;
        if (generation != group.Generation)
            return ErrorCode.IllegalGeneration;
        return ErrorCode.None;
    }

    /// <summary>LeaveGroup v0-5: by member id, or (v3+) by group.instance.id as the admin "remove members" path does.</summary>
    public LeaveGroupResponse LeaveGroup(LeaveGroupRequest request, short version) =>
        Run<LeaveGroupResponse>(() =>
        {
            var leaving = version >= 3
                ? request.Members.Select(m => (m.MemberId, m.GroupInstanceId)).ToList()
                : [(request.MemberId, (string?)null)];
            if (_groups.GetValueOrDefault(request.GroupId) is ConsumerGroup { Deleted: false } consumer)
                return ClassicLeaveToConsumerGroup(consumer, request, version);
            var response = new LeaveGroupResponse();
            if (Classic(request.GroupId) is not { } group)
            {
                response.ErrorCode = ErrorCode.UnknownMemberId;
                return response;
            }
            if (group.State == GroupState.Dead)
            {
                response.ErrorCode = ErrorCode.CoordinatorNotAvailable;
                return response;
            }
            foreach (var (memberId, instanceId) in leaving)
            {
                var result = new LeaveGroupResponse.MemberResponse { MemberId = memberId, GroupInstanceId = instanceId };
                response.Members.Add(result);
                string? id = memberId;
                if (instanceId is not null)
                {
                    if (!group.StaticMembers.TryGetValue(instanceId, out var staticId))
                        id = null;
                    else if (memberId.Length > 0 && memberId != staticId)
                    {
                        result.ErrorCode = ErrorCode.FencedInstanceId;
                        continue;
                    }
                    else
                        id = staticId;
                }
                if (id is not null && group.PendingMembers.Remove(id, out var pending))
                {
                    pending.Dispose();
                    TryCompleteJoin(group);
                    continue;
                }
                if (id is null || !group.Members.TryGetValue(id, out var member))
                {
                    result.ErrorCode = ErrorCode.UnknownMemberId;
                    continue;
                }
                RemoveMember(group, member, "left the group", rebalance: true);
            }
            // v0-2 carry a single member: its error is the response's error.
            if (version < 3)
                response.ErrorCode = response.Members[0].ErrorCode;
            return response;
        }, (error, _) => new LeaveGroupResponse { ErrorCode = error });
}
