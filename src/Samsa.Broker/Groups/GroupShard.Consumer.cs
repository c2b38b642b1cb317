using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// KIP-848 consumer groups: ConsumerGroupHeartbeat as Kafka's GroupMetadataManager handles it, in
/// three steps that only read the group and collect records — (1) create or update the member,
/// bumping the group epoch when its subscription changed, (2) compute a new target assignment when
/// the group epoch is ahead of it, (3) reconcile the member towards its target — then the runtime
/// appends the records, replays them into the group and answers.
/// </summary>
internal sealed partial class GroupShard
{
    public const int LeaveEpoch = -1;
    public const int StaticLeaveEpoch = -2;

    public ConsumerGroupHeartbeatResponse ConsumerGroupHeartbeat(ConsumerGroupHeartbeatRequest request, short version, string clientId, string clientHost) =>
        Run<ConsumerGroupHeartbeatResponse>(() =>
        {
            ValidateHeartbeat(request, version);
            return request.MemberEpoch is LeaveEpoch or StaticLeaveEpoch
                ? ConsumerGroupLeave(request)
                : ConsumerGroupJoinOrHeartbeat(request, clientId, clientHost);
        }, (error, message) => new ConsumerGroupHeartbeatResponse
        {
            ErrorCode = error,
            ErrorMessage = message,
            MemberId = request.MemberId,
            MemberEpoch = request.MemberEpoch,
        });

    private void ValidateHeartbeat(ConsumerGroupHeartbeatRequest request, short version)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
                throw new CoordinatorException(ErrorCode.InvalidRequest, message);
        }
        Require(request.GroupId.Length > 0, "GroupId can't be empty.");
        Require(request.InstanceId is not { Length: 0 }, "InstanceId can't be empty.");
        Require(request.RackId is not { Length: 0 }, "RackId can't be empty.");
        if (request.MemberEpoch > 0 || request.MemberEpoch == LeaveEpoch)
            Require(request.MemberId.Length > 0, "MemberId can't be empty.");
        else if (request.MemberEpoch == 0)
        {
            // v1 (KIP-1082): the client picks its member id; v0 lets the coordinator pick one.
            Require(version == 0 || request.MemberId.Length > 0, "MemberId can't be empty.");
            Require(request.RebalanceTimeoutMs != -1, "RebalanceTimeoutMs must be provided in first request.");
            Require(request.TopicPartitions is { Count: 0 }, "TopicPartitions must be empty when (re-)joining.");
            Require(request.SubscribedTopicNames is { Count: > 0 } || request.SubscribedTopicRegex is { Length: > 0 },
                "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
        }
        else if (request.MemberEpoch == StaticLeaveEpoch)
        {
            Require(request.MemberId.Length > 0, "MemberId can't be empty.");
            Require(request.InstanceId is not null, "InstanceId can't be null.");
        }
        else
            Require(false, "MemberEpoch is invalid.");
        if (request.ServerAssignor is not null && !_options.ConsumerAssignors.Any(a => a.Name == request.ServerAssignor))
        {
            throw new CoordinatorException(ErrorCode.UnsupportedAssignor,
                $"ServerAssignor {request.ServerAssignor} is not supported. Supported assignors: {string.Join(", ", _options.ConsumerAssignors.Select(a => a.Name))}.");
        }
        if (request.SubscribedTopicRegex is { Length: > 0 } regex)
            TopicRegex.Validate(regex);
        if (!_options.RebalanceProtocols.Contains("consumer"))
            throw new CoordinatorException(ErrorCode.UnsupportedVersion, "The consumer group protocol is not enabled (group.coordinator.rebalance.protocols).");
    }

    /// <summary>
    /// The consumer group of that id; with <paramref name="create"/>, a new one (not yet in the map:
    /// replaying its first record puts it there) or one replacing an empty classic group.
    /// </summary>
    private ConsumerGroup ConsumerGroupFor(string groupId, bool create, List<CoordinatorRecord> records)
    {
        switch (_groups.GetValueOrDefault(groupId))
        {
            case ConsumerGroup { Deleted: false } group:
                return group;
            case ClassicGroup { IsEmpty: true } when create:
                // An empty classic group (offsets only) becomes a consumer group, keeping its offsets.
                records.Add(new CoordinatorRecord(OffsetsTopic.GroupKey(groupId), null));
                return new ConsumerGroup(groupId, _time, AssignorNames);
            case ClassicGroup classic when create:
                return UpgradeToConsumerGroup(classic, records);
            case ClassicGroup:
                throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Group {groupId} is not a consumer group.");
            case Share.ShareGroup { Deleted: false }:
                throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Group {groupId} is not a consumer group.");
            default:
                if (!create)
                    throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Group {groupId} not found.");
                return new ConsumerGroup(groupId, _time, AssignorNames);
        }
    }

    private CoordinatorResult<ConsumerGroupHeartbeatResponse> ConsumerGroupJoinOrHeartbeat(ConsumerGroupHeartbeatRequest request, string clientId, string clientHost)
    {
        var records = new List<CoordinatorRecord>();
        bool joining = request.MemberEpoch == 0;
        var group = ConsumerGroupFor(request.GroupId, joining, records);
        string memberId = request.MemberId.Length > 0 ? request.MemberId : NewMemberId();
        ThrowIfGroupFull(group, memberId);
        var owned = request.TopicPartitions is null ? null : TopicAssignment.From(request.TopicPartitions.Select(t => (t.TopicId, (IEnumerable<int>)t.Partitions)));

        var (member, replaced) = ResolveMember(group, memberId, request, owned, records);
        var updated = member with
        {
            InstanceId = request.InstanceId ?? member.InstanceId,
            RackId = request.RackId ?? member.RackId,
            RebalanceTimeoutMs = request.RebalanceTimeoutMs != -1 ? request.RebalanceTimeoutMs : member.RebalanceTimeoutMs,
            ServerAssignor = request.ServerAssignor ?? member.ServerAssignor,
            SubscribedTopicNames = request.SubscribedTopicNames ?? member.SubscribedTopicNames,
            SubscribedTopicRegex = request.SubscribedTopicRegex is null ? member.SubscribedTopicRegex : request.SubscribedTopicRegex.Length == 0 ? null : request.SubscribedTopicRegex,
            ClientId = clientId,
            ClientHost = clientHost,
            Classic = null,
        };
        var step = Advance(group, member, updated, replaced, owned, records);
        var reconciled = step.Member;

        // The assignment goes out on a full request (a join, or a client resending everything after
        // an error) or when what the member may consume changed.
        bool full = request.MemberEpoch == 0
            || (request.RebalanceTimeoutMs != -1 && (request.SubscribedTopicNames is not null || request.SubscribedTopicRegex is not null) && request.TopicPartitions is not null);
        var response = new ConsumerGroupHeartbeatResponse
        {
            MemberId = reconciled.MemberId,
            MemberEpoch = reconciled.MemberEpoch,
            HeartbeatIntervalMs = (int)_configs.ConsumerHeartbeatInterval(group.GroupId).TotalMilliseconds,
        };
        if (full || !TopicAssignment.AreEqual(member.Assigned, reconciled.Assigned) || replaced is not null)
            response.Assignment = new ConsumerGroupHeartbeatResponse.MemberAssignment { TopicPartitions = ToWire(reconciled.Assigned) };

        string groupId = group.GroupId;
        bool upgraded = _groups.GetValueOrDefault(groupId) is ClassicGroup;
        return new CoordinatorResult<ConsumerGroupHeartbeatResponse>(response, records, applied: () =>
        {
            if (upgraded)
                ArmConvertedMembers(groupId);
            if (replaced is not null)
                CancelMemberTimers(groupId, replaced.MemberId);
            ScheduleSessionTimeout(groupId, reconciled.MemberId, _configs.ConsumerSessionTimeout(groupId));
            if (step.AssignmentChanged)
            {
                if (reconciled.State == MemberState.UnrevokedPartitions)
                    ScheduleRebalanceTimeout(groupId, reconciled.MemberId, reconciled.MemberEpoch, reconciled.RebalanceTimeoutMs);
                else
                    CancelTimer(RebalanceTimerKey(groupId, reconciled.MemberId));
            }
            if (step.RegexPending)
                ScheduleRegexResolution(groupId);
            step.Log(this);
        });
    }

    private void ThrowIfGroupFull(ConsumerGroup group, string memberId)
    {
        if (group.Members.Count >= _options.ConsumerMaxSize && group.Member(memberId) is null)
            throw new CoordinatorException(ErrorCode.GroupMaxSizeReached, $"The consumer group has reached its maximum capacity of {_options.ConsumerMaxSize} members.");
    }

    /// <summary>The outcome of <see cref="Advance"/>: the member as reconciled, and what changed.</summary>
    private readonly record struct MemberStep(ConsumerGroupMember Member, bool Bumped, int GroupEpoch, bool AssignmentChanged, string GroupId, bool RegexPending)
    {
        public void Log(GroupShard shard)
        {
            if (Bumped)
                shard._logger.LogInformation("Consumer group {Group} moved to epoch {Epoch} (member {Member})", GroupId, GroupEpoch, Member.MemberId);
        }
    }

    /// <summary>
    /// The three steps every member's request takes, whichever protocol it speaks: (1) write the
    /// member's metadata if it changed and bump the group epoch if its subscription did, (2) compute
    /// a new target assignment when the group epoch is ahead of it, (3) reconcile the member with its
    /// target, given what it reports owning. Reads the group only; records go to <paramref name="records"/>.
    /// </summary>
    private MemberStep Advance(ConsumerGroup group, ConsumerGroupMember member, ConsumerGroupMember updated, ConsumerGroupMember? replaced,
        IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned, List<CoordinatorRecord> records)
    {
        // A static member taking its old place is not new: its replacement records are written already.
        bool isNew = replaced is null && group.Member(member.MemberId) is null;
        // A regex nobody in the group resolved yet is resolved after this request, as Kafka resolves
        // it in the background (see ResolveRegexes): the member is assigned its named topics now and
        // the regex's topics once the resolution bumps the epoch. A change to a regex that is already
        // resolved bumps now, and so does leaving a regex whose topics the member was given.
        bool regexPending = updated.SubscribedTopicRegex is { } regex && !group.Regexes.ContainsKey(regex);
        bool dropsRegexTopics = member.SubscribedTopicRegex is { } previous && previous != updated.SubscribedTopicRegex
            && group.Regexes.TryGetValue(previous, out var previousTopics) && previousTopics.Count > 0;
        bool bump = isNew || !updated.SameSubscription(member, ignoringRegex: regexPending && !dropsRegexTopics);
        if (isNew || !updated.SameMetadata(member))
            records.Add(ConsumerGroupRecords.Member(group.GroupId, updated));
        if (member.SubscribedTopicRegex != updated.SubscribedTopicRegex)
            records.AddRange(UnusedRegexTombstones(group, [member], replacement: updated));
        if (group.MetadataStale)
        {
            // First request after a restart: topics may have changed while the broker was down.
            group.MetadataStale = false;
            bump |= !TargetCoversTopics(group);
        }

        int groupEpoch = group.GroupEpoch;
        if (bump)
        {
            groupEpoch++;
            records.Add(ConsumerGroupRecords.Epoch(group.GroupId, groupEpoch));
        }

        IReadOnlyDictionary<Guid, IReadOnlySet<int>> CurrentTarget(ConsumerGroupMember m) =>
            ReferenceEquals(m, updated) && replaced is not null ? group.TargetOf(replaced.MemberId) : group.TargetOf(m.MemberId);
        IReadOnlyDictionary<Guid, IReadOnlySet<int>> target;
        int targetEpoch;
        if (groupEpoch > group.AssignmentEpoch)
        {
            var members = group.Members.Values.Where(m => m.MemberId != updated.MemberId && !ReferenceEquals(m, replaced)).Append(updated).ToList();
            var computed = ComputeTarget(group, members, CurrentTarget);
            foreach (var m in members)
            {
                var after = computed[m.MemberId];
                if (!TopicAssignment.AreEqual(CurrentTarget(m), after) || (isNew && ReferenceEquals(m, updated)))
                    records.Add(ConsumerGroupRecords.Target(group.GroupId, m.MemberId, after));
            }
            records.Add(ConsumerGroupRecords.TargetEpoch(group.GroupId, groupEpoch));
            target = computed[updated.MemberId];
            targetEpoch = groupEpoch;
        }
        else
        {
            targetEpoch = group.AssignmentEpoch;
            target = CurrentTarget(updated);
        }

        var reconciled = updated.IsReconciledTo(targetEpoch)
            ? updated
            : CurrentAssignmentBuilder.Reconcile(updated, targetEpoch, target, group.OwnerEpoch, owned);
        bool assignmentChanged = isNew || !reconciled.SameAssignmentState(updated);
        if (assignmentChanged)
            records.Add(ConsumerGroupRecords.Current(group.GroupId, reconciled));
        return new MemberStep(reconciled, bump, groupEpoch, assignmentChanged, group.GroupId, regexPending);
    }

    /// <summary>Kafka's member ids are random UUIDs in base64url (22 characters).</summary>
    private static string NewMemberId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// The member a heartbeat speaks for. Dynamic members are found by id (created on a join);
    /// static ones by instance id: a join replaces a member that left temporarily (epoch -2) under a
    /// new member id, keeping its assignment; UNRELEASED_INSTANCE_ID while the old one is still in;
    /// FENCED_INSTANCE_ID for an old id once replaced.
    /// </summary>
    private (ConsumerGroupMember Member, ConsumerGroupMember? Replaced) ResolveMember(ConsumerGroup group, string memberId,
        ConsumerGroupHeartbeatRequest request, IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned, List<CoordinatorRecord> records)
    {
        bool joining = request.MemberEpoch == 0;
        if (request.InstanceId is not { } instanceId)
        {
            var existing = group.Member(memberId);
            if (existing is null)
            {
                if (!joining)
                    throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Member {memberId} is not a member of group {group.GroupId}.");
                return (new ConsumerGroupMember { MemberId = memberId }, null);
            }
            if (!joining)
                ThrowIfEpochInvalid(existing, request.MemberEpoch, owned);
            return (existing, null);
        }

        var holder = group.StaticMember(instanceId);
        if (joining)
        {
            if (holder is null)
                return (group.Member(memberId) ?? new ConsumerGroupMember { MemberId = memberId, InstanceId = instanceId }, null);
            if (holder.MemberEpoch != StaticLeaveEpoch)
            {
                throw new CoordinatorException(ErrorCode.UnreleasedInstanceId,
                    $"Static member {memberId} with instance id {instanceId} cannot join the group because the instance id is owned by member {holder.MemberId}.");
            }
            var successor = holder with { MemberId = memberId, MemberEpoch = 0, PreviousMemberEpoch = 0 };
            records.AddRange(MemberTombstones(group.GroupId, holder.MemberId));
            records.Add(ConsumerGroupRecords.Member(group.GroupId, successor));
            records.Add(ConsumerGroupRecords.Target(group.GroupId, memberId, group.TargetOf(holder.MemberId)));
            records.Add(ConsumerGroupRecords.Current(group.GroupId, successor));
            _logger.LogInformation("Static member {Instance} rejoined consumer group {Group} as {Member}, replacing {Old}", instanceId, group.GroupId, memberId, holder.MemberId);
            return (successor, holder);
        }
        if (holder is null)
            throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Instance id {instanceId} is unknown.");
        if (holder.MemberId != memberId)
            throw new CoordinatorException(ErrorCode.FencedInstanceId, $"Static member {memberId} with instance id {instanceId} was fenced by member {holder.MemberId}.");
        ThrowIfEpochInvalid(holder, request.MemberEpoch, owned);
        return (holder, null);
    }

    /// <summary>
    /// An epoch ahead of the coordinator's, or behind it, fences the member — except the previous
    /// epoch with owned partitions the member still has: the response that moved it on was lost.
    /// </summary>
    private static void ThrowIfEpochInvalid(ConsumerGroupMember member, int epoch, IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned)
    {
        if (epoch > member.MemberEpoch)
        {
            throw new CoordinatorException(ErrorCode.FencedMemberEpoch,
                $"The consumer group member has a greater member epoch ({epoch}) than the one known by the group coordinator ({member.MemberEpoch}). The member must abandon all its partitions and rejoin.");
        }
        if (epoch < member.MemberEpoch && (epoch != member.PreviousMemberEpoch || !IsSubset(owned, member.Assigned)))
        {
            throw new CoordinatorException(ErrorCode.FencedMemberEpoch,
                $"The consumer group member has a smaller member epoch ({epoch}) than the one known by the group coordinator ({member.MemberEpoch}). The member must abandon all its partitions and rejoin.");
        }
    }

    private static bool IsSubset(IReadOnlyDictionary<Guid, IReadOnlySet<int>>? owned, IReadOnlyDictionary<Guid, IReadOnlySet<int>> assigned)
    {
        if (owned is null)
            return false;
        foreach (var (topic, partitions) in owned)
        {
            if (!assigned.TryGetValue(topic, out var set) || !partitions.IsSubsetOf(set))
                return false;
        }
        return true;
    }

    private static List<ConsumerGroupHeartbeatResponse.TopicPartitions> ToWire(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment) =>
        TopicAssignment.Sorted(assignment).Select(t => new ConsumerGroupHeartbeatResponse.TopicPartitions { TopicId = t.Topic, Partitions = [.. t.Partitions] }).ToList();

    /// <summary>Leave (epoch -1) or, for a static member, a temporary leave (-2) that keeps its assignment for the session timeout.</summary>
    private CoordinatorResult<ConsumerGroupHeartbeatResponse> ConsumerGroupLeave(ConsumerGroupHeartbeatRequest request)
    {
        var group = ConsumerGroupFor(request.GroupId, create: false, []);
        var response = new ConsumerGroupHeartbeatResponse { MemberId = request.MemberId, MemberEpoch = request.MemberEpoch };
        ConsumerGroupMember member;
        if (request.InstanceId is null)
            member = group.Member(request.MemberId) ?? throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Member {request.MemberId} is not a member of group {group.GroupId}.");
        else
        {
            member = group.StaticMember(request.InstanceId) ?? throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Instance id {request.InstanceId} is unknown.");
            if (member.MemberId != request.MemberId)
                throw new CoordinatorException(ErrorCode.FencedInstanceId, $"Static member {request.MemberId} with instance id {request.InstanceId} was fenced by member {member.MemberId}.");
            if (request.MemberEpoch == StaticLeaveEpoch)
            {
                // Away for a restart: it keeps its partitions (nobody else gets them) until it comes
                // back under a new member id or its session times out.
                var away = member with { MemberEpoch = StaticLeaveEpoch, PendingRevocation = TopicAssignment.Empty };
                _logger.LogInformation("Static member {Instance} ({Member}) left consumer group {Group} temporarily", request.InstanceId, member.MemberId, group.GroupId);
                return new CoordinatorResult<ConsumerGroupHeartbeatResponse>(response, [ConsumerGroupRecords.Current(group.GroupId, away)],
                    applied: () => CancelTimer(RebalanceTimerKey(group.GroupId, member.MemberId)));
            }
        }
        _logger.LogInformation("Member {Member} left consumer group {Group}", member.MemberId, group.GroupId);
        response.MemberEpoch = LeaveEpoch;
        return FenceConsumerMember(group, member, response);
    }
}
