using Microsoft.Extensions.Logging;
using Samsa.Assignors;
using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.Groups.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// KIP-932 share groups: ShareGroupHeartbeat as Kafka's GroupMetadataManager handles it, in the
/// consumer group's three steps — (1) create or update the member, bumping the group epoch when
/// its subscription changed, (2) compute a new target assignment with the simple assignor when the
/// group epoch is ahead of it, (3) move the member to its target — except that step 3 has no
/// revocation: a share partition may be consumed by several members at once, so a member takes its
/// new target (limited to the topics it subscribes to) at once, with the target's epoch.
/// </summary>
internal sealed partial class GroupShard
{
    private static readonly SimpleShareAssignor ShareAssignor = new();

    /// <summary>Told when share members leave and share groups are deleted (the share-partition manager).</summary>
    internal IShareGroupListener? ShareListener { get; set; }

    public ShareGroupHeartbeatResponse ShareGroupHeartbeat(ShareGroupHeartbeatRequest request, string clientId, string clientHost) =>
        Run<ShareGroupHeartbeatResponse>(() =>
        {
            ValidateShareHeartbeat(request);
            return request.MemberEpoch == LeaveEpoch ? ShareGroupLeave(request) : ShareGroupJoinOrHeartbeat(request, clientId, clientHost);
        }, (error, message) => new ShareGroupHeartbeatResponse
        {
            ErrorCode = error,
            ErrorMessage = message,
            MemberId = request.MemberId,
            MemberEpoch = request.MemberEpoch,
        });

    /// <summary>Kafka's throwIfShareGroupHeartbeatRequestIsInvalid (blank counts as empty, as Java's trim().isEmpty()).</summary>
    private void ValidateShareHeartbeat(ShareGroupHeartbeatRequest request)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
                throw new CoordinatorException(ErrorCode.InvalidRequest, message);
        }
        if (!_options.ShareGroupsEnabled)
            throw new CoordinatorException(ErrorCode.UnsupportedVersion, "Share groups are not enabled (share.version).");
        Require(request.MemberId.Trim().Length > 0, "MemberId can't be empty.");
        Require(request.GroupId.Trim().Length > 0, "GroupId can't be empty.");
        Require(request.RackId is null || request.RackId.Trim().Length > 0, "RackId can't be empty.");
        if (request.MemberEpoch == 0)
            Require(request.SubscribedTopicNames is { Count: > 0 }, "SubscribedTopicNames must be set in first request.");
        else
            Require(request.MemberEpoch >= LeaveEpoch, "MemberEpoch is invalid.");
    }

    /// <summary>
    /// The share group of that id; with <paramref name="create"/> a new one (not yet in the map:
    /// replaying its first record puts it there). A group of another type keeps its id: share
    /// groups are not converted to or from other types, and Kafka answers GROUP_ID_NOT_FOUND.
    /// </summary>
    private ShareGroup ShareGroupFor(string groupId, bool create)
    {
        switch (_groups.GetValueOrDefault(groupId))
        {
            case ShareGroup { Deleted: false } group:
                return group;
            case null or ShareGroup when create:
                return new ShareGroup(groupId, _time);
            case null or ShareGroup:
                throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Group {groupId} not found.");
            default:
                throw new CoordinatorException(ErrorCode.GroupIdNotFound, $"Group {groupId} is not a share group.");
        }
    }

    private CoordinatorResult<ShareGroupHeartbeatResponse> ShareGroupJoinOrHeartbeat(ShareGroupHeartbeatRequest request, string clientId, string clientHost)
    {
        var records = new List<CoordinatorRecord>();
        bool joining = request.MemberEpoch == 0;
        var group = ShareGroupFor(request.GroupId, joining);
        string memberId = request.MemberId;
        var existing = group.Member(memberId);
        if (existing is null && group.Members.Count >= _options.ShareMaxSize)
            throw new CoordinatorException(ErrorCode.GroupMaxSizeReached, $"The share group has reached its maximum capacity of {_options.ShareMaxSize} members.");
        var member = existing ?? (joining
            ? new ShareGroupMember { MemberId = memberId }
            : throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Member {memberId} is not a member of group {group.GroupId}."));
        if (existing is not null)
            ThrowIfShareEpochInvalid(existing, request.MemberEpoch);

        var updated = member with
        {
            RackId = request.RackId ?? member.RackId,
            SubscribedTopicNames = request.SubscribedTopicNames ?? member.SubscribedTopicNames,
            ClientId = clientId,
            ClientHost = clientHost,
        };
        bool isNew = existing is null;
        bool subscriptionChanged = isNew || !updated.SameSubscription(member);
        if (isNew || !updated.SameMetadata(member))
            records.Add(ShareGroupRecords.Member(group.GroupId, updated));
        bool bump = subscriptionChanged;
        if (group.MetadataStale)
        {
            // First request after a restart: topics may have changed while the broker was down.
            group.MetadataStale = false;
            bump |= !ShareTargetCoversTopics(group);
        }

        int groupEpoch = group.GroupEpoch;
        if (bump)
        {
            groupEpoch++;
            records.Add(ShareGroupRecords.Epoch(group.GroupId, groupEpoch));
        }

        IReadOnlyDictionary<Guid, IReadOnlySet<int>> target;
        int targetEpoch;
        if (groupEpoch > group.AssignmentEpoch)
        {
            var members = group.Members.Values.Where(m => m.MemberId != memberId).Append(updated).ToList();
            var computed = ComputeShareTarget(members, group.TargetOf);
            foreach (var m in members)
            {
                var after = computed[m.MemberId];
                if (!TopicAssignment.AreEqual(group.TargetOf(m.MemberId), after) || (isNew && m.MemberId == memberId))
                    records.Add(ShareGroupRecords.Target(group.GroupId, m.MemberId, after));
            }
            records.Add(ShareGroupRecords.TargetEpoch(group.GroupId, groupEpoch));
            target = computed[memberId];
            targetEpoch = groupEpoch;
        }
        else
        {
            targetEpoch = group.AssignmentEpoch;
            target = group.TargetOf(memberId);
        }

        // Kafka's ShareGroupAssignmentBuilder: a new target is taken at once; the topics the
        // member no longer subscribes to are dropped from it (the target may lag a subscription).
        var reconciled = updated;
        if (targetEpoch != updated.MemberEpoch)
            reconciled = updated with { MemberEpoch = targetEpoch, PreviousMemberEpoch = updated.MemberEpoch, Assigned = Subscribed(target, updated) };
        else if (subscriptionChanged)
            reconciled = updated with { Assigned = Subscribed(target, updated) };
        if (isNew || !reconciled.SameAssignmentState(updated))
            records.Add(ShareGroupRecords.Current(group.GroupId, reconciled));

        var response = new ShareGroupHeartbeatResponse
        {
            MemberId = reconciled.MemberId,
            MemberEpoch = reconciled.MemberEpoch,
            HeartbeatIntervalMs = (int)_configs.ShareHeartbeatInterval(group.GroupId).TotalMilliseconds,
        };
        // Kafka sends the assignment to a member that (re)joins and whenever its partitions changed.
        if (joining || !TopicAssignment.AreEqual(member.Assigned, reconciled.Assigned))
            response.Assignment = new ShareGroupHeartbeatResponse.AssignmentData { TopicPartitions = ShareWire(reconciled.Assigned) };

        string groupId = group.GroupId;
        return new CoordinatorResult<ShareGroupHeartbeatResponse>(response, records, applied: () =>
        {
            ScheduleShareSessionTimeout(groupId, memberId);
            if (bump)
                _logger.LogInformation("Share group {Group} moved to epoch {Epoch} (member {Member})", groupId, groupEpoch, memberId);
        });
    }

    /// <summary>
    /// Kafka's throwIfShareGroupMemberEpochIsInvalid: a member ahead of the coordinator, or behind
    /// it by more than the one response it may have lost, is FENCED_MEMBER_EPOCH. Epoch 0 is a
    /// member rejoining after it was told it was fenced (KAFKA-19233), which is allowed.
    /// </summary>
    private static void ThrowIfShareEpochInvalid(ShareGroupMember member, int received)
    {
        if (received == 0)
            return;
        if (received > member.MemberEpoch)
        {
            throw new CoordinatorException(ErrorCode.FencedMemberEpoch,
                $"The share group member has a greater member epoch ({received}) than the one known by the group coordinator ({member.MemberEpoch}). The member must abandon all its partitions and rejoin.");
        }
        if (received < member.MemberEpoch && received != member.PreviousMemberEpoch)
        {
            throw new CoordinatorException(ErrorCode.FencedMemberEpoch,
                $"The share group member has a smaller member epoch ({received}) than the one known by the group coordinator ({member.MemberEpoch}), and it does not match the previous member epoch ({member.PreviousMemberEpoch}). The member must abandon all its partitions and rejoin.");
        }
    }

    /// <summary>The part of a target assignment whose topics the member subscribes to.</summary>
    private IReadOnlyDictionary<Guid, IReadOnlySet<int>> Subscribed(IReadOnlyDictionary<Guid, IReadOnlySet<int>> target, ShareGroupMember member)
    {
        var ids = new HashSet<Guid>();
        foreach (var name in member.SubscribedTopicNames)
        {
            if (_topics.TryGet(name, out var id, out _))
                ids.Add(id);
        }
        return target.Keys.All(ids.Contains) ? target : TopicAssignment.From(target.Where(kv => ids.Contains(kv.Key)).Select(kv => (kv.Key, (IEnumerable<int>)kv.Value)));
    }

    private IReadOnlyDictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> ComputeShareTarget(
        IReadOnlyList<ShareGroupMember> members, Func<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> currentTarget)
    {
        var specs = new Dictionary<string, MemberSpec>(StringComparer.Ordinal);
        foreach (var m in members)
        {
            var ids = new HashSet<Guid>();
            foreach (var name in m.SubscribedTopicNames)
            {
                if (_topics.TryGet(name, out var id, out _))
                    ids.Add(id);
            }
            specs[m.MemberId] = new MemberSpec(m.RackId, ids, currentTarget(m.MemberId));
        }
        return ShareAssignor.Assign(new GroupSpec(specs), new CatalogTopics(_topics)).Members;
    }

    /// <summary>
    /// True when the target covers exactly the partitions that exist of the topics the group
    /// subscribes to: false once a topic was created, deleted or grew since it was computed.
    /// </summary>
    private bool ShareTargetCoversTopics(ShareGroup group)
    {
        var expected = new HashSet<(Guid, int)>();
        foreach (var name in group.SubscribedTopicNames())
        {
            if (_topics.TryGet(name, out var id, out int partitions))
            {
                for (int p = 0; p < partitions; p++)
                    expected.Add((id, p));
            }
        }
        var assigned = new HashSet<(Guid, int)>();
        foreach (var target in group.Target.Values)
        {
            foreach (var (topic, partitions) in target)
            {
                foreach (int p in partitions)
                {
                    if (!expected.Contains((topic, p)))
                        return false;
                    assigned.Add((topic, p));
                }
            }
        }
        return assigned.Count == expected.Count;
    }

    private CoordinatorResult<ShareGroupHeartbeatResponse> ShareGroupLeave(ShareGroupHeartbeatRequest request)
    {
        var group = ShareGroupFor(request.GroupId, create: false);
        var member = group.Member(request.MemberId)
            ?? throw new CoordinatorException(ErrorCode.UnknownMemberId, $"Member {request.MemberId} is not a member of group {group.GroupId}.");
        _logger.LogInformation("Member {Member} left share group {Group}", member.MemberId, group.GroupId);
        return FenceShareMember(group, member, new ShareGroupHeartbeatResponse { MemberId = member.MemberId, MemberEpoch = LeaveEpoch }, fenced: false);
    }

    /// <summary>
    /// Removes a member (leave or session expiry): its records are tombstoned and the group epoch
    /// bumped, so the others are given its partitions at their next heartbeat; what it held in the
    /// share-partitions goes back to them once the records are in.
    /// </summary>
    private CoordinatorResult<T> FenceShareMember<T>(ShareGroup group, ShareGroupMember member, T response, bool fenced)
    {
        string groupId = group.GroupId, memberId = member.MemberId;
        var records = new List<CoordinatorRecord>
        {
            ShareGroupRecords.CurrentTombstone(groupId, memberId),
            ShareGroupRecords.TargetTombstone(groupId, memberId),
            ShareGroupRecords.MemberTombstone(groupId, memberId),
            ShareGroupRecords.Epoch(groupId, group.GroupEpoch + 1),
        };
        return new CoordinatorResult<T>(response, records, applied: () =>
        {
            CancelTimer(SessionTimerKey(groupId, memberId));
            ShareListener?.MemberLeft(groupId, memberId, fenced);
        });
    }

    /// <summary>A share member is fenced group.share.session.timeout.ms after its last heartbeat.</summary>
    private void ScheduleShareSessionTimeout(string groupId, string memberId) =>
        ScheduleTimer(SessionTimerKey(groupId, memberId), _configs.ShareSessionTimeout(groupId), () =>
        {
            if (_groups.GetValueOrDefault(groupId) is not ShareGroup group || group.Member(memberId) is not { } member)
                return true;
            _logger.LogInformation("Member {Member} of share group {Group} fenced: session timeout ({Timeout} ms) expired",
                memberId, groupId, _configs.ShareSessionTimeout(groupId).TotalMilliseconds);
            return FenceShareMember(group, member, true, fenced: true);
        });

    /// <summary>Is <paramref name="memberId"/> a member of the share group <paramref name="groupId"/> right now?</summary>
    public bool IsShareMember(string groupId, string memberId)
    {
        lock (_lock)
            return _groups.GetValueOrDefault(groupId) is ShareGroup { Deleted: false } group && group.Member(memberId) is not null;
    }

    private static List<ShareGroupHeartbeatResponse.TopicPartitions> ShareWire(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment) =>
        TopicAssignment.Sorted(assignment).Select(t => new ShareGroupHeartbeatResponse.TopicPartitions { TopicId = t.Topic, Partitions = [.. t.Partitions] }).ToList();

    /// <summary>Everything of an empty share group, for DeleteGroups.</summary>
    private static IEnumerable<CoordinatorRecord> ShareGroupTombstones(ShareGroup group)
    {
        foreach (var memberId in group.Target.Keys)
            yield return ShareGroupRecords.TargetTombstone(group.GroupId, memberId);
        yield return ShareGroupRecords.TargetEpochTombstone(group.GroupId);
        yield return ShareGroupRecords.StatePartitionMetadataTombstone(group.GroupId);
        yield return ShareGroupRecords.EpochTombstone(group.GroupId);
    }

    /// <summary>Share groups subscribed to any of the changed topics bump their epoch.</summary>
    private void ShareTopicsChanged(IReadOnlyCollection<string> topics, List<CoordinatorRecord> records)
    {
        foreach (var group in _groups.Values.OfType<ShareGroup>())
        {
            if (!group.Deleted && !group.IsEmpty && group.SubscribedTopicNames().Overlaps(topics))
                records.Add(ShareGroupRecords.Epoch(group.GroupId, group.GroupEpoch + 1));
        }
    }
}
