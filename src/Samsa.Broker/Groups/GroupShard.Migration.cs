using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// Online migration between the protocols, as Kafka 4 does it (group.consumer.migration.policy):
/// members still on the classic protocol keep speaking JoinGroup/SyncGroup/Heartbeat/LeaveGroup to a
/// consumer group, which assigns for them; a classic group becomes a consumer group when a
/// consumer-protocol member joins it (upgrade), and a consumer group whose last consumer-protocol
/// member leaves becomes a classic group again (downgrade). Offsets stay where they are throughout.
/// </summary>
internal sealed partial class GroupShard
{
    private TimeSpan SessionTimeoutOf(string groupId, ConsumerGroupMember member) =>
        member.Classic is { } classic ? TimeSpan.FromMilliseconds(classic.SessionTimeoutMs) : _configs.ConsumerSessionTimeout(groupId);

    private static string JoinTimerKey(string groupId, string memberId) => $"join-timeout-{groupId}-{memberId}";

    private static string SyncTimerKey(string groupId, string memberId) => $"sync-timeout-{groupId}-{memberId}";

    // ---- classic members of a consumer group ------------------------------------------------

    /// <summary>JoinGroup from a classic member of a consumer group: the same three steps as a heartbeat, answered at once.</summary>
    private CoordinatorResult<Task<JoinGroupResponse>> ClassicJoinToConsumerGroup(ConsumerGroup group, JoinGroupRequest request, short version, string clientId, string clientHost)
    {
        Task<JoinGroupResponse> Error(ErrorCode error, string memberId = "") =>
            Task.FromResult(new JoinGroupResponse { ErrorCode = error, MemberId = memberId, GenerationId = -1 });

        var records = new List<CoordinatorRecord>();
        bool unknown = request.MemberId.Length == 0;
        string memberId = unknown ? NewMemberId() : request.MemberId;
        if (group.Members.Count >= _options.ConsumerMaxSize && group.Member(memberId) is null)
            return Error(ErrorCode.GroupMaxSizeReached);
        if (!SupportsClassicProtocols(group, memberId, request.ProtocolType, request.Protocols))
            return Error(ErrorCode.InconsistentGroupProtocol);
        if (unknown && request.GroupInstanceId is null && version >= 4)
            return Error(ErrorCode.MemberIdRequired, memberId);

        ConsumerGroupMember member;
        ConsumerGroupMember? replaced = null;
        if (request.GroupInstanceId is not { } instanceId)
            member = group.Member(memberId) ?? new ConsumerGroupMember { MemberId = memberId };
        else if (group.StaticMember(instanceId) is not { } holder)
            member = group.Member(memberId) ?? new ConsumerGroupMember { MemberId = memberId, InstanceId = instanceId };
        else if (unknown)
        {
            // A static classic member restarting: it takes its old place under a new id (no rebalance).
            member = holder with { MemberId = memberId, MemberEpoch = 0, PreviousMemberEpoch = 0 };
            replaced = holder;
            records.AddRange(MemberTombstones(group.GroupId, holder.MemberId));
            records.Add(ConsumerGroupRecords.Member(group.GroupId, member));
            records.Add(ConsumerGroupRecords.Target(group.GroupId, memberId, group.TargetOf(holder.MemberId)));
            records.Add(ConsumerGroupRecords.Current(group.GroupId, member));
        }
        else if (holder.MemberId != memberId)
            return Error(ErrorCode.FencedInstanceId, memberId);
        else
            member = holder;

        ConsumerProtocolSubscription subscription;
        try
        {
            subscription = VersionedData.Read<ConsumerProtocolSubscription>(request.Protocols[0].Metadata, out _) ?? new ConsumerProtocolSubscription();
        }
        catch (ProtocolException)
        {
            return Error(ErrorCode.InconsistentGroupProtocol, memberId);
        }
        var owned = OwnedByName(subscription.OwnedPartitions.Select(p => (p.Topic, (IEnumerable<int>)p.Partitions)));
        var updated = member with
        {
            InstanceId = request.GroupInstanceId ?? member.InstanceId,
            RackId = subscription.RackId ?? member.RackId,
            RebalanceTimeoutMs = version >= 1 && request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs,
            SubscribedTopicNames = subscription.Topics,
            SubscribedTopicRegex = null,
            ClientId = clientId,
            ClientHost = clientHost,
            Classic = new ClassicMembership(request.SessionTimeoutMs, request.Protocols.Select(p => (p.Name, p.Metadata)).ToList()),
        };
        var step = Advance(group, member, updated, replaced, owned, records);
        var reconciled = step.Member;
        var response = new JoinGroupResponse
        {
            MemberId = reconciled.MemberId,
            GenerationId = reconciled.MemberEpoch,
            ProtocolType = ConsumerProtocolType,
            ProtocolName = request.Protocols[0].Name,
            Leader = "",
            Members = [],
        };
        string groupId = group.GroupId;
        var session = TimeSpan.FromMilliseconds(request.SessionTimeoutMs);
        var rebalance = TimeSpan.FromMilliseconds(reconciled.RebalanceTimeoutMs);
        return new CoordinatorResult<Task<JoinGroupResponse>>(Task.FromResult(response), records, applied: () =>
        {
            if (replaced is not null)
                CancelMemberTimers(groupId, replaced.MemberId);
            CancelTimer(JoinTimerKey(groupId, reconciled.MemberId));
            ScheduleSessionTimeout(groupId, reconciled.MemberId, session);
            // It must sync within its rebalance timeout, or it is fenced.
            ScheduleTimer(SyncTimerKey(groupId, reconciled.MemberId), rebalance, () => FenceIfStillMember(groupId, reconciled.MemberId, "did not sync in time"));
            step.Log(this);
        });
    }

    private const string ConsumerProtocolType = "consumer";

    /// <summary>Kafka's rule: the consumer embedded protocol, and a protocol name every classic member offers.</summary>
    private static bool SupportsClassicProtocols(ConsumerGroup group, string memberId, string protocolType, List<JoinGroupRequest.JoinGroupRequestProtocol> protocols)
    {
        if (protocolType != ConsumerProtocolType || protocols.Count == 0)
            return false;
        var others = group.Members.Values.Where(m => m.UsesClassicProtocol && m.MemberId != memberId).ToList();
        return others.Count == 0 || protocols.Any(p => others.All(m => m.Classic!.Protocols.Any(q => q.Name == p.Name)));
    }

    private IReadOnlyDictionary<Guid, IReadOnlySet<int>> OwnedByName(IEnumerable<(string Topic, IEnumerable<int> Partitions)> partitions) =>
        TopicAssignment.From(partitions.Select(p => _topics.TryGet(p.Topic, out var id, out _) ? (id, p.Partitions) : (Guid.Empty, [])).Where(p => p.Item1 != Guid.Empty));

    private IReadOnlyList<CoordinatorRecord> FenceIfStillMember(string groupId, string memberId, string reason)
    {
        if (_groups.GetValueOrDefault(groupId) is not ConsumerGroup group || group.Member(memberId) is not { } member)
            return [];
        _logger.LogInformation("Member {Member} of consumer group {Group} fenced: {Reason}", memberId, groupId, reason);
        return FenceConsumerMember(group, member, true).Records;
    }

    private static ConsumerGroupMember ValidateClassicMember(ConsumerGroup group, string memberId, string? instanceId, int generation)
    {
        ConsumerGroupMember member;
        if (instanceId is null)
            member = group.Member(memberId) ?? throw new CoordinatorException(ErrorCode.UnknownMemberId);
        else
        {
            member = group.StaticMember(instanceId) ?? throw new CoordinatorException(ErrorCode.UnknownMemberId);
            if (member.MemberId != memberId)
                throw new CoordinatorException(ErrorCode.FencedInstanceId);
        }
        if (!member.UsesClassicProtocol)
            throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Member {memberId} does not use the classic protocol.");
        if (generation != member.MemberEpoch)
            throw new CoordinatorException(ErrorCode.IllegalGeneration);
        return member;
    }

    /// <summary>SyncGroup from a classic member of a consumer group: its current assignment, in the consumer protocol's bytes.</summary>
    private Task<SyncGroupResponse> ClassicSyncToConsumerGroup(ConsumerGroup group, SyncGroupRequest request)
    {
        var member = ValidateClassicMember(group, request.MemberId, request.GroupInstanceId, request.GenerationId);
        if ((request.ProtocolType is not null && request.ProtocolType != ConsumerProtocolType)
            || (request.ProtocolName is not null && !member.Classic!.Protocols.Any(p => p.Name == request.ProtocolName)))
            throw new CoordinatorException(ErrorCode.InconsistentGroupProtocol);
        ThrowIfRejoinNeeded(group, member);
        CancelTimer(SyncTimerKey(group.GroupId, member.MemberId));
        ScheduleSessionTimeout(group.GroupId, member.MemberId, SessionTimeoutOf(group.GroupId, member));
        return Task.FromResult(new SyncGroupResponse
        {
            ProtocolType = request.ProtocolType,
            ProtocolName = request.ProtocolName,
            Assignment = ConsumerProtocolBytes(member.Assigned, member.Classic!.Protocols[0].Metadata),
        });
    }

    /// <summary>
    /// An assignment in the consumer protocol's embedded format, at the version of the member's
    /// subscription (Kafka's prepareAssignment); partitions of topics that no longer exist are left out.
    /// </summary>
    private byte[] ConsumerProtocolBytes(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assigned, byte[] subscription)
    {
        short version = subscription.Length >= 2 ? (short)((subscription[0] << 8) | subscription[1]) : (short)0;
        var assignment = new ConsumerProtocolAssignment
        {
            AssignedPartitions = TopicAssignment.Sorted(assigned)
                .Select(t => new ConsumerProtocolAssignment.TopicPartition { Topic = _topics.NameOf(t.Topic) ?? "", Partitions = [.. t.Partitions] })
                .Where(t => t.Topic.Length > 0).ToList(),
        };
        return VersionedData.Write(assignment, Math.Clamp(version, (short)0, ConsumerProtocolAssignment.HighestVersion));
    }

    /// <summary>A classic member must rejoin when the group moved on and it is not busy revoking.</summary>
    private void ThrowIfRejoinNeeded(ConsumerGroup group, ConsumerGroupMember member)
    {
        if (group.GroupEpoch > member.MemberEpoch && member.State != MemberState.UnrevokedPartitions)
        {
            ScheduleJoinTimeoutIfAbsent(group.GroupId, member);
            throw new CoordinatorException(ErrorCode.RebalanceInProgress);
        }
    }

    private void ScheduleJoinTimeoutIfAbsent(string groupId, ConsumerGroupMember member)
    {
        string key = JoinTimerKey(groupId, member.MemberId);
        if (!HasTimer(key))
            ScheduleTimer(key, TimeSpan.FromMilliseconds(Math.Max(member.RebalanceTimeoutMs, 0)), () => FenceIfStillMember(groupId, member.MemberId, "did not rejoin in time"));
    }

    /// <summary>Heartbeat from a classic member of a consumer group: REBALANCE_IN_PROGRESS tells it to rejoin and reconcile.</summary>
    private HeartbeatResponse ClassicHeartbeatToConsumerGroup(ConsumerGroup group, HeartbeatRequest request)
    {
        var member = ValidateClassicMember(group, request.MemberId, request.GroupInstanceId, request.GenerationId);
        ScheduleSessionTimeout(group.GroupId, member.MemberId, SessionTimeoutOf(group.GroupId, member));
        bool rejoin = member.MemberEpoch < group.GroupEpoch
            || member.State == MemberState.UnrevokedPartitions
            || (member.State == MemberState.UnreleasedPartitions && !WaitingOnUnreleased(group, member));
        if (!rejoin)
            return new HeartbeatResponse();
        ScheduleJoinTimeoutIfAbsent(group.GroupId, member);
        return new HeartbeatResponse { ErrorCode = ErrorCode.RebalanceInProgress };
    }

    /// <summary>True while some partition of the member's target is still held by another member.</summary>
    private static bool WaitingOnUnreleased(ConsumerGroup group, ConsumerGroupMember member)
    {
        foreach (var (topic, partitions) in group.TargetOf(member.MemberId))
        {
            foreach (int p in partitions)
            {
                if (!TopicAssignment.Contains(member.Assigned, topic, p) && group.OwnerEpoch(topic, p) != -1)
                    return true;
            }
        }
        return false;
    }

    /// <summary>LeaveGroup to a consumer group: each named member (classic or not) is fenced.</summary>
    private CoordinatorResult<LeaveGroupResponse> ClassicLeaveToConsumerGroup(ConsumerGroup group, LeaveGroupRequest request, short version)
    {
        var leaving = version >= 3
            ? request.Members.Select(m => (m.MemberId, m.GroupInstanceId)).ToList()
            : [(request.MemberId, (string?)null)];
        var response = new LeaveGroupResponse();
        var fenced = new List<ConsumerGroupMember>();
        foreach (var (memberId, instanceId) in leaving)
        {
            var result = new LeaveGroupResponse.MemberResponse { MemberId = memberId, GroupInstanceId = instanceId };
            response.Members.Add(result);
            ConsumerGroupMember? member = instanceId is null ? group.Member(memberId) : group.StaticMember(instanceId);
            if (member is null)
                result.ErrorCode = ErrorCode.UnknownMemberId;
            else if (instanceId is not null && memberId.Length > 0 && member.MemberId != memberId)
                result.ErrorCode = ErrorCode.FencedInstanceId;
            else if (!fenced.Contains(member))
                fenced.Add(member);
        }
        if (version < 3)
            response.ErrorCode = response.Members[0].ErrorCode;
        if (fenced.Count == 0)
            return response;
        return FenceConsumerMembers(group, fenced, response);
    }

    // ---- conversions -------------------------------------------------------------------------

    private bool UpgradeAllowed => _options.MigrationPolicy is "upgrade" or "bidirectional";

    private bool DowngradeAllowed => _options.MigrationPolicy is "downgrade" or "bidirectional";

    /// <summary>
    /// A consumer-protocol member joins a classic group with members: the group becomes a consumer
    /// group whose members are the classic ones, each keeping its last assignment at the classic
    /// generation (Kafka's ConsumerGroup.fromClassicGroup). Returns the group as it will be, for the
    /// join to build on; the records create it.
    /// </summary>
    private ConsumerGroup UpgradeToConsumerGroup(ClassicGroup classic, List<CoordinatorRecord> records)
    {
        if (!UpgradeAllowed || classic.ProtocolType != ConsumerProtocolType || classic.Members.Count > _options.ConsumerMaxSize)
            throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Group {classic.GroupId} is not a consumer group.");
        var group = new ConsumerGroup(classic.GroupId, _time, AssignorNames) { GroupEpoch = classic.Generation, AssignmentEpoch = classic.Generation };
        records.Add(new CoordinatorRecord(OffsetsTopic.GroupKey(classic.GroupId), null));
        foreach (var m in classic.Members.Values)
        {
            ConsumerProtocolSubscription? subscription;
            ConsumerProtocolAssignment? assignment;
            try
            {
                subscription = VersionedData.Read<ConsumerProtocolSubscription>(m.MetadataFor(classic.ProtocolName), out _);
                assignment = VersionedData.Read<ConsumerProtocolAssignment>(m.Assignment, out _);
            }
            catch (ProtocolException e)
            {
                throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Cannot upgrade the classic group {classic.GroupId}: {e.Message}");
            }
            var assigned = OwnedByName((assignment?.AssignedPartitions ?? []).Select(p => (p.Topic, (IEnumerable<int>)p.Partitions)));
            var member = new ConsumerGroupMember
            {
                MemberId = m.MemberId,
                InstanceId = m.GroupInstanceId,
                RackId = subscription?.RackId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                SubscribedTopicNames = subscription?.Topics ?? [],
                MemberEpoch = classic.Generation,
                PreviousMemberEpoch = classic.Generation,
                State = MemberState.Stable,
                Assigned = assigned,
                Classic = new ClassicMembership(m.SessionTimeoutMs, m.Protocols),
            };
            group.SetMetadata(member);
            group.SetAssignment(member.MemberId, member.MemberEpoch, member.PreviousMemberEpoch, member.State, member.Assigned, member.PendingRevocation);
            group.SetTarget(member.MemberId, assigned);
            records.Add(ConsumerGroupRecords.Member(group.GroupId, member));
            records.Add(ConsumerGroupRecords.Target(group.GroupId, member.MemberId, assigned));
            records.Add(ConsumerGroupRecords.Current(group.GroupId, member));
        }
        records.Add(ConsumerGroupRecords.Epoch(group.GroupId, classic.Generation));
        records.Add(ConsumerGroupRecords.TargetEpoch(group.GroupId, classic.Generation));
        _logger.LogInformation("Classic group {Group} upgrades to a consumer group ({Members} classic member(s))", classic.GroupId, classic.Members.Count);
        return group;
    }

    /// <summary>After an upgrade: the former classic members are fenced if they go silent, with their own session timeouts.</summary>
    private void ArmConvertedMembers(string groupId)
    {
        if (_groups.GetValueOrDefault(groupId) is not ConsumerGroup group)
            return;
        foreach (var member in group.Members.Values.Where(m => m.UsesClassicProtocol))
            ScheduleSessionTimeout(groupId, member.MemberId, SessionTimeoutOf(groupId, member));
    }

    /// <summary>
    /// The last consumer-protocol member is leaving and classic ones remain: the group goes back to
    /// classic, its members with their current assignments, and rebalances so they rejoin.
    /// </summary>
    private bool DowngradeWanted(ConsumerGroup group, HashSet<string> leaving) =>
        DowngradeAllowed
        && group.Members.Count - leaving.Count > 0
        && group.Members.Values.All(m => leaving.Contains(m.MemberId) || m.UsesClassicProtocol);

    private List<CoordinatorRecord> DowngradeToClassicGroup(ConsumerGroup group, HashSet<string> leaving)
    {
        // Every member's current assignment and metadata; their targets, the epochs and regexes go
        // with the group's own tombstones, the epoch last (that removes the consumer group).
        var records = new List<CoordinatorRecord>();
        foreach (var memberId in group.Members.Keys)
        {
            records.Add(ConsumerGroupRecords.CurrentTombstone(group.GroupId, memberId));
            records.Add(ConsumerGroupRecords.MemberTombstone(group.GroupId, memberId));
        }
        records.AddRange(ConsumerGroupTombstones(group));
        var remaining = group.Members.Values.Where(m => !leaving.Contains(m.MemberId)).ToList();
        // The protocol every remaining member offers, in the first member's order of preference.
        string protocol = remaining[0].Classic!.Protocols.Select(p => p.Name).First(n => remaining.All(m => m.Classic!.Protocols.Any(p => p.Name == n)));
        // As Kafka's ClassicGroup.fromConsumerGroup: the group epoch as the generation, no leader
        // (the rebalance that follows picks one), each member's current assignment.
        var members = remaining.Select(m =>
        {
            byte[] subscription = m.Classic!.Protocols.First(p => p.Name == protocol).Metadata;
            return new GroupMetadataValue.MemberMetadata
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.InstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                RebalanceTimeout = m.RebalanceTimeoutMs,
                SessionTimeout = m.Classic.SessionTimeoutMs,
                Subscription = subscription,
                Assignment = ConsumerProtocolBytes(m.Assigned, subscription),
            };
        });
        records.Add(new CoordinatorRecord(OffsetsTopic.GroupKey(group.GroupId),
            OffsetsTopic.GroupValue(ConsumerProtocolType, group.GroupEpoch, protocol, null, Now, members)));
        _logger.LogInformation("Consumer group {Group} downgrades to a classic group ({Members} classic member(s))", group.GroupId, remaining.Count);
        return records;
    }

    /// <summary>After a downgrade: the classic group's members get session timers and rejoin in a rebalance.</summary>
    private void StartDowngradedGroup(string groupId)
    {
        if (Classic(groupId) is not { } classic)
            return;
        foreach (var member in classic.Members.Values)
            RestartSessionTimer(classic, member);
        PrepareRebalance(classic, "downgraded from a consumer group");
    }
}
