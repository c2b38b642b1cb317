using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>JoinGroup v0-9. The task completes when the rebalance does (or at once on errors).</summary>
    public Task<JoinGroupResponse> JoinGroup(JoinGroupRequest request, short version, string clientId, string clientHost) =>
        Run(() =>
        {
            if (_groups.GetValueOrDefault(request.GroupId) is ConsumerGroup { Deleted: false } consumer && request.GroupId.Length > 0)
            {
                var session = TimeSpan.FromMilliseconds(request.SessionTimeoutMs);
                if (session < _options.MinSessionTimeout || session > _options.MaxSessionTimeout)
                    return Task.FromResult(new JoinGroupResponse { ErrorCode = ErrorCode.InvalidSessionTimeout, MemberId = request.MemberId, GenerationId = -1 });
                return ClassicJoinToConsumerGroup(consumer, request, version, clientId, clientHost);
            }
            var error = ValidateJoin(request, out var group);
            if (error != ErrorCode.None)
                return Task.FromResult(new JoinGroupResponse { ErrorCode = error, MemberId = request.MemberId, GenerationId = -1 });
            return request.MemberId.Length == 0
                ? JoinNewMember(group!, request, version, clientId, clientHost)
                : JoinExistingMember(group!, request, version, clientId, clientHost);
        }, (error, _) => Task.FromResult(new JoinGroupResponse { ErrorCode = error, MemberId = request.MemberId, GenerationId = -1 }));

    private ErrorCode ValidateJoin(JoinGroupRequest request, out ClassicGroup? group)
    {
        group = null;
        if (request.GroupId.Length == 0)
            return ErrorCode.InvalidGroupId;
        var session = TimeSpan.FromMilliseconds(request.SessionTimeoutMs);
        if (session < _options.MinSessionTimeout || session > _options.MaxSessionTimeout)
            return ErrorCode.InvalidSessionTimeout;
        if (!_groups.TryGetValue(request.GroupId, out var existing))
        {
            if (request.MemberId.Length > 0)
                return ErrorCode.UnknownMemberId;
            existing = GetOrCreateClassic(request.GroupId);
        }
        group = existing as ClassicGroup;
        if (existing is Share.ShareGroup)
            return ErrorCode.GroupIdNotFound; // Kafka: "Group ... is not a classic group."
        if (group is null)
            return ErrorCode.InconsistentGroupProtocol; // a consumer group: classic members are not served yet
        if (group.State == GroupState.Dead)
            return ErrorCode.CoordinatorNotAvailable;
        bool isNew = request.MemberId.Length == 0 || !group.Members.ContainsKey(request.MemberId);
        bool replacingStatic = request.GroupInstanceId is not null && group.StaticMembers.ContainsKey(request.GroupInstanceId);
        if (isNew && !replacingStatic && !group.PendingMembers.ContainsKey(request.MemberId) && group.Members.Count >= _options.MaxGroupSize)
            return ErrorCode.GroupMaxSizeReached;
        if (!group.Supports(request.ProtocolType, request.Protocols.Select(p => p.Name)))
            return ErrorCode.InconsistentGroupProtocol;
        return ErrorCode.None;
    }

    private CoordinatorResult<Task<JoinGroupResponse>> JoinNewMember(ClassicGroup group, JoinGroupRequest request, short version, string clientId, string clientHost)
    {
        string? instanceId = request.GroupInstanceId;
        string memberId = (instanceId ?? clientId) + "-" + Guid.NewGuid().ToString();
        if (instanceId is not null && group.StaticMembers.TryGetValue(instanceId, out var oldId) && group.Members.TryGetValue(oldId, out var old))
            return ReplaceStaticMember(group, old, memberId, request, version, clientId, clientHost);

        if (version >= 4 && instanceId is null)
        {
            // KIP-394: hand out the id and wait for the member to come back with it, so a client
            // that retries a lost JoinGroup response does not leave a ghost member behind.
            var timer = Schedule(TimeSpan.FromMilliseconds(request.SessionTimeoutMs), () =>
            {
                if (group.PendingMembers.Remove(memberId, out var t))
                {
                    t.Dispose();
                    TryCompleteJoin(group);
                }
            });
            group.PendingMembers[memberId] = timer;
            return Task.FromResult(new JoinGroupResponse { ErrorCode = ErrorCode.MemberIdRequired, MemberId = memberId, GenerationId = -1 });
        }
        return AddMemberAndRebalance(group, memberId, request, version, clientId, clientHost);
    }

    private Task<JoinGroupResponse> AddMemberAndRebalance(ClassicGroup group, string memberId, JoinGroupRequest request, short version, string clientId, string clientHost)
    {
        var member = new GroupMember(memberId, request.GroupInstanceId, clientId, clientHost);
        Update(member, request, version);
        if (group.Members.Count == 0)
            group.ProtocolType = request.ProtocolType;
        group.Add(member);
        if (member.GroupInstanceId is not null)
            group.StaticMembers[member.GroupInstanceId] = memberId;
        var task = Park(member, version);
        if (group.State is GroupState.Empty or GroupState.Stable or GroupState.CompletingRebalance)
            PrepareRebalance(group, $"new member {memberId} joined");
        else
            TryCompleteJoin(group);
        return task;
    }

    private Task<JoinGroupResponse> JoinExistingMember(ClassicGroup group, JoinGroupRequest request, short version, string clientId, string clientHost)
    {
        string memberId = request.MemberId;
        if (group.PendingMembers.Remove(memberId, out var pendingTimer))
        {
            pendingTimer.Dispose();
            return AddMemberAndRebalance(group, memberId, request, version, clientId, clientHost);
        }
        if (request.GroupInstanceId is not null && group.StaticMembers.TryGetValue(request.GroupInstanceId, out var current) && current != memberId)
            return Task.FromResult(new JoinGroupResponse { ErrorCode = ErrorCode.FencedInstanceId, MemberId = memberId, GenerationId = -1 });
        if (!group.Members.TryGetValue(memberId, out var member))
            return Task.FromResult(new JoinGroupResponse { ErrorCode = ErrorCode.UnknownMemberId, MemberId = memberId, GenerationId = -1 });

        switch (group.State)
        {
            case GroupState.PreparingRebalance:
            {
                Update(member, request, version);
                var task = Park(member, version);
                TryCompleteJoin(group);
                return task;
            }
            case GroupState.CompletingRebalance:
                if (member.SameProtocols(request.Protocols))
                    // A retry of a join whose response was lost: answer with this generation again.
                    return Task.FromResult(JoinResult(group, member, version, skipAssignment: false));
                return UpdateAndRebalance(group, member, request, version, "member changed its metadata during the sync phase");
            case GroupState.Stable:
                if (member.MemberId == group.LeaderId || !member.SameProtocols(request.Protocols))
                    return UpdateAndRebalance(group, member, request, version,
                        member.MemberId == group.LeaderId ? "leader rejoined" : "member changed its subscription");
                RestartSessionTimer(group, member);
                return Task.FromResult(JoinResult(group, member, version, skipAssignment: false));
            default:
                return Task.FromResult(new JoinGroupResponse { ErrorCode = ErrorCode.UnknownMemberId, MemberId = memberId, GenerationId = -1 });
        }
    }

    private Task<JoinGroupResponse> UpdateAndRebalance(ClassicGroup group, GroupMember member, JoinGroupRequest request, short version, string reason)
    {
        Update(member, request, version);
        var task = Park(member, version);
        PrepareRebalance(group, reason);
        return task;
    }

    /// <summary>
    /// KIP-345: a static member came back with a new member id. It takes over the old member's place
    /// and assignment; the old id is fenced from now on. A stable group with unchanged protocols
    /// does not rebalance: the group's record names the new id in the old one's place, and replaying
    /// it makes the swap (nothing changes if the append fails). Otherwise the swap is part of the
    /// rebalance that follows, which is not persisted until it completes, as in Kafka.
    /// </summary>
    private CoordinatorResult<Task<JoinGroupResponse>> ReplaceStaticMember(ClassicGroup group, GroupMember old, string newId, JoinGroupRequest request, short version, string clientId, string clientHost)
    {
        bool wasLeader = group.LeaderId == old.MemberId;
        bool sameProtocols = old.SameProtocols(request.Protocols);
        if (group.State == GroupState.Stable && sameProtocols)
        {
            var replacement = new GroupMember(newId, old.GroupInstanceId, clientId, clientHost) { Assignment = old.Assignment };
            Update(replacement, request, version);
            var record = GroupRecord(group, group.Generation, group.ProtocolName, wasLeader ? newId : group.LeaderId,
                group.Members.Values.Select(m => ReferenceEquals(m, old) ? replacement : m), m => m.Assignment);
            var answer = new TaskCompletionSource<JoinGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            return new(answer.Task, [record], applied: () =>
            {
                var member = group.Members[newId];
                RestartSessionTimer(group, member);
                // v9+: a returning leader is told to skip computing a new assignment. Older
                // versions get the old leader id so the member does not think it leads.
                var result = JoinResult(group, member, version, skipAssignment: wasLeader && version >= 9);
                if (wasLeader && version < 9)
                {
                    result.Leader = old.MemberId;
                    result.Members = [];
                }
                answer.SetResult(result);
            });
        }

        var fresh = new GroupMember(newId, old.GroupInstanceId, clientId, clientHost)
        {
            Assignment = old.Assignment,
            Protocols = old.Protocols,
            ProtocolType = old.ProtocolType,
        };
        FenceReplacedMember(group, old);
        group.Add(fresh);
        group.StaticMembers[old.GroupInstanceId!] = newId;
        if (wasLeader)
            group.LeaderId = newId;
        Update(fresh, request, version);
        var task = Park(fresh, version);
        if (group.State == GroupState.PreparingRebalance)
            TryCompleteJoin(group);
        else
            PrepareRebalance(group, $"static member {old.GroupInstanceId} rejoined with new metadata");
        return task;
    }

    /// <summary>The old incarnation of a static member stops: its parked requests learn it was fenced.</summary>
    private static void FenceReplacedMember(ClassicGroup group, GroupMember old)
    {
        old.SessionTimer?.Dispose();
        old.PendingJoin?.TrySetResult(new JoinGroupResponse { ErrorCode = ErrorCode.FencedInstanceId, MemberId = old.MemberId, GenerationId = -1 });
        old.PendingJoin = null;
        CompleteSync(old, new SyncGroupResponse { ErrorCode = ErrorCode.FencedInstanceId });
        group.Remove(old);
    }

    private static void Update(GroupMember member, JoinGroupRequest request, short version)
    {
        member.Owner?.MarkChanged();
        member.SessionTimeoutMs = request.SessionTimeoutMs;
        // v0 has no rebalance timeout: the session timeout stands in for it.
        member.RebalanceTimeoutMs = version >= 1 && request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs;
        member.ProtocolType = request.ProtocolType;
        member.Protocols = request.Protocols.Select(p => (p.Name, p.Metadata)).ToList();
    }

    private static Task<JoinGroupResponse> Park(GroupMember member, short version)
    {
        member.PendingJoin?.TrySetResult(new JoinGroupResponse { ErrorCode = ErrorCode.RebalanceInProgress, MemberId = member.MemberId, GenerationId = -1 });
        member.PendingJoin = new TaskCompletionSource<JoinGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        member.JoinVersion = version;
        member.SessionTimer?.Dispose();
        return member.PendingJoin.Task;
    }
}
