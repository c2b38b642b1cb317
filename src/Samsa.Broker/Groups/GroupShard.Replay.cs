using System.Buffers.Binary;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// Applies one __consumer_offsets record: the one path by which committed offsets and group
    /// state change, both live (after the runtime appended the record) and when loading. Record types
    /// 0-2 are classic offsets and groups; 3-8 and 16 are consumer groups (GroupShard.Consumer.Replay.cs);
    /// 10-15 share groups (GroupShard.Share.Replay.cs); others are skipped.
    /// </summary>
    public void Replay(byte[] key, byte[]? value)
    {
        lock (_lock)
            ReplayLocked(key, value);
    }

    private void ReplayLocked(byte[] key, byte[]? value)
    {
        if (key.Length < 2)
            throw new ProtocolException("__consumer_offsets key without a version.");
        short type = BinaryPrimitives.ReadInt16BigEndian(key);
        switch (type)
        {
            case 0:
            case 1:
            {
                var k = VersionedData.Read<OffsetCommitKey>(key, out _)!;
                SupersedePendingLocked(k.Group, k.Topic, k.Partition);
                if (value is null)
                {
                    if (_offsets.TryGetValue(k.Group, out var offsets))
                    {
                        offsets.Remove((k.Topic, k.Partition));
                        if (offsets.Count == 0)
                            _offsets.Remove(k.Group);
                    }
                    return;
                }
                var v = VersionedData.Read<OffsetCommitValue>(value, out _)!;
                // Offsets of a group that does not exist make an empty classic group, as in Kafka, so it is listed.
                if (!_groups.ContainsKey(k.Group))
                    Track(new ClassicGroup(k.Group, Now));
                OffsetsOf(k.Group)[(k.Topic, k.Partition)] = new CommittedOffset(v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, v.ExpireTimestamp);
                return;
            }
            case 2:
            {
                var k = VersionedData.Read<GroupMetadataKey>(key, out _)!;
                if (value is null)
                {
                    // Deleted, or upgraded to a consumer group whose records follow.
                    if (Classic(k.Group) is { } dead)
                    {
                        Retire(dead);
                        if (!_loading)
                            dead.TransitionTo(GroupState.Dead, Now);
                        RemoveGroup(k.Group);
                    }
                    return;
                }
                ReplayClassicGroup(k.Group, VersionedData.Read<GroupMetadataValue>(value, out _)!);
                return;
            }
            case >= Share.ShareGroupRecords.MemberType and <= Share.ShareGroupRecords.StatePartitionMetadataType:
                ReplayShareRecord(type, key, value);
                return;
            default:
                ReplayConsumerRecord(type, key, value);
                return;
        }
    }

    private Dictionary<(string Topic, int Partition), CommittedOffset> OffsetsOf(string groupId)
    {
        if (!_offsets.TryGetValue(groupId, out var offsets))
            _offsets[groupId] = offsets = [];
        return offsets;
    }

    /// <summary>
    /// A classic group at rest: Stable with the record's members and assignments, or Empty without
    /// members. Loading builds the group from it; live, it lands on a group that has just finished a
    /// sync (or replaced a static member, or emptied), so the members it names are updated in place
    /// — their parked requests and timers are not in the record — a static member's new id replaces
    /// the old one (fencing it), and members it does not name are gone.
    /// </summary>
    private void ReplayClassicGroup(string groupId, GroupMetadataValue value)
    {
        if (_groups.TryGetValue(groupId, out var other) && other is not ClassicGroup)
            RemoveGroup(groupId); // a consumer group converted back to classic: the record describes it whole
        bool created = !_groups.ContainsKey(groupId);
        var group = GetOrCreateClassic(groupId);
        group.Generation = value.Generation;
        group.ProtocolType = value.ProtocolType.Length > 0 ? value.ProtocolType : null;
        group.ProtocolName = value.Protocol;
        group.LeaderId = value.Leader;

        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mm in value.Members)
        {
            named.Add(mm.MemberId);
            if (!group.Members.TryGetValue(mm.MemberId, out var member))
            {
                member = new GroupMember(mm.MemberId, mm.GroupInstanceId, mm.ClientId, mm.ClientHost)
                {
                    ProtocolType = value.ProtocolType,
                    Protocols = [(value.Protocol ?? "", mm.Subscription)],
                };
                if (mm.GroupInstanceId is not null && group.StaticMembers.TryGetValue(mm.GroupInstanceId, out var oldId)
                    && group.Members.TryGetValue(oldId, out var old))
                {
                    member.Protocols = old.Protocols;
                    FenceReplacedMember(group, old);
                }
                group.Add(member);
                if (mm.GroupInstanceId is not null)
                    group.StaticMembers[mm.GroupInstanceId] = mm.MemberId;
            }
            member.ClientId = mm.ClientId;
            member.ClientHost = mm.ClientHost;
            member.SessionTimeoutMs = mm.SessionTimeout;
            member.RebalanceTimeoutMs = mm.RebalanceTimeout > 0 ? mm.RebalanceTimeout : mm.SessionTimeout;
            member.Assignment = mm.Assignment;
        }
        foreach (var gone in group.Members.Values.Where(m => !named.Contains(m.MemberId)).ToList())
        {
            gone.SessionTimer?.Dispose();
            group.Remove(gone);
            if (gone.GroupInstanceId is not null && group.StaticMembers.GetValueOrDefault(gone.GroupInstanceId) == gone.MemberId)
                group.StaticMembers.Remove(gone.GroupInstanceId);
        }

        var state = group.Members.Count > 0 ? GroupState.Stable : GroupState.Empty;
        if (_loading || created)
            group.Restore(state, value.CurrentStateTimestamp >= 0 ? value.CurrentStateTimestamp : Now);
        else if (group.State != state)
            group.TransitionTo(state, Now);
        group.MarkChanged();
    }

    /// <summary>
    /// A classic group leaving the map (deleted or upgraded): its timers stop and parked requests
    /// are told to rejoin, so nothing of it acts on the group that may take its id.
    /// </summary>
    private static void Retire(ClassicGroup group)
    {
        group.RebalanceTimer?.Dispose();
        group.RebalanceTimer = null;
        foreach (var t in group.PendingMembers.Values)
            t.Dispose();
        group.PendingMembers.Clear();
        foreach (var m in group.Members.Values)
        {
            m.SessionTimer?.Dispose();
            m.PendingJoin?.TrySetResult(new JoinGroupResponse { ErrorCode = ErrorCode.RebalanceInProgress, MemberId = m.MemberId, GenerationId = -1 });
            m.PendingJoin = null;
            CompleteSync(m, new SyncGroupResponse { ErrorCode = ErrorCode.RebalanceInProgress });
        }
    }

    private bool _loading;

    /// <summary>Start-up: records are applied with no transition checks until <see cref="EndLoad"/>.</summary>
    public void BeginLoad()
    {
        lock (_lock)
            _loading = true;
    }

    /// <summary>
    /// After loading: members of restored groups must heartbeat within their session timeout, as
    /// after a Kafka coordinator failover, and every group's view is published.
    /// </summary>
    public void EndLoad()
    {
        lock (_lock)
        {
            _loading = false;
            foreach (var group in _groups.Values)
            {
                if (group is ClassicGroup classic)
                {
                    foreach (var member in classic.Members.Values)
                        RestartSessionTimer(classic, member);
                }
                group.MarkChanged();
            }
            EndLoadConsumerGroups();
            EndLoadShareGroups();
            PublishChanges();
        }
    }
}
