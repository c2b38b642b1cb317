using Samsa.Broker.Groups.Share;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// Applies a share-group record (types 10-15), live and at load alike. A share group comes
    /// into being with its first record and leaves with the tombstone of its epoch record. Type 15
    /// (the share coordinator's bookkeeping) has nothing to rebuild here.
    /// </summary>
    private void ReplayShareRecord(short type, byte[] key, byte[]? value)
    {
        switch (type)
        {
            case ShareGroupRecords.MemberType:
            {
                var k = VersionedData.Read<ShareGroupMemberMetadataKey>(key, out _)!;
                if (value is null)
                {
                    (_groups.GetValueOrDefault(k.GroupId) as ShareGroup)?.RemoveMember(k.MemberId);
                    return;
                }
                var v = VersionedData.Read<ShareGroupMemberMetadataValue>(value, out _)!;
                ReplayedShareGroup(k.GroupId).SetMetadata(new ShareGroupMember
                {
                    MemberId = k.MemberId,
                    RackId = v.RackId,
                    ClientId = v.ClientId,
                    ClientHost = v.ClientHost,
                    SubscribedTopicNames = v.SubscribedTopicNames,
                });
                return;
            }
            case ShareGroupRecords.EpochType:
            {
                var k = VersionedData.Read<ShareGroupMetadataKey>(key, out _)!;
                if (value is null)
                {
                    if (_groups.GetValueOrDefault(k.GroupId) is ShareGroup dead)
                    {
                        dead.Deleted = true;
                        RemoveGroup(k.GroupId);
                    }
                    return;
                }
                var group = ReplayedShareGroup(k.GroupId);
                group.GroupEpoch = VersionedData.Read<ShareGroupMetadataValue>(value, out _)!.Epoch;
                group.Touched();
                return;
            }
            case ShareGroupRecords.TargetEpochType:
            {
                var k = VersionedData.Read<ShareGroupTargetAssignmentMetadataKey>(key, out _)!;
                if (value is null)
                {
                    if (_groups.GetValueOrDefault(k.GroupId) is ShareGroup g)
                        g.AssignmentEpoch = -1;
                    return;
                }
                var group = ReplayedShareGroup(k.GroupId);
                group.AssignmentEpoch = VersionedData.Read<ShareGroupTargetAssignmentMetadataValue>(value, out _)!.AssignmentEpoch;
                group.Touched();
                return;
            }
            case ShareGroupRecords.TargetMemberType:
            {
                var k = VersionedData.Read<ShareGroupTargetAssignmentMemberKey>(key, out _)!;
                if (value is null)
                {
                    (_groups.GetValueOrDefault(k.GroupId) as ShareGroup)?.SetTarget(k.MemberId, null);
                    return;
                }
                var v = VersionedData.Read<ShareGroupTargetAssignmentMemberValue>(value, out _)!;
                ReplayedShareGroup(k.GroupId).SetTarget(k.MemberId, ShareGroupRecords.Assignment(v.TopicPartitions));
                return;
            }
            case ShareGroupRecords.CurrentAssignmentType:
            {
                var k = VersionedData.Read<ShareGroupCurrentMemberAssignmentKey>(key, out _)!;
                if (value is null)
                {
                    // Like Kafka's: the member stays (at epoch -1, nothing assigned) until its metadata tombstone.
                    if (_groups.GetValueOrDefault(k.GroupId) is ShareGroup g && g.Member(k.MemberId) is not null)
                        g.SetAssignment(k.MemberId, LeaveEpoch, LeaveEpoch, Consumer.TopicAssignment.Empty);
                    return;
                }
                var v = VersionedData.Read<ShareGroupCurrentMemberAssignmentValue>(value, out _)!;
                ReplayedShareGroup(k.GroupId).SetAssignment(k.MemberId, v.MemberEpoch, v.PreviousMemberEpoch, ShareGroupRecords.Assignment(v.AssignedPartitions));
                return;
            }
            default:
                return;
        }
    }

    /// <summary>The share group a record belongs to, created on its first record.</summary>
    private ShareGroup ReplayedShareGroup(string groupId)
    {
        switch (_groups.GetValueOrDefault(groupId))
        {
            case ShareGroup { Deleted: false } group:
                return group;
            case ClassicGroup { IsEmpty: true }:
                // Offsets were committed for this id before the share group was created (Kafka
                // would have refused the share heartbeat): the share group takes the id.
                RemoveGroup(groupId);
                return Track(new ShareGroup(groupId, _time));
            case null or ShareGroup:
                return Track(new ShareGroup(groupId, _time));
            default:
                throw new InvalidOperationException($"A share-group record for {groupId}, which is a group of another type.");
        }
    }

    /// <summary>
    /// After loading: every member of a share group gets a session timeout to come back in, and
    /// each group checks at its next heartbeat whether topics changed while the broker was down.
    /// </summary>
    private void EndLoadShareGroups()
    {
        foreach (var group in _groups.Values.OfType<ShareGroup>())
        {
            group.MetadataStale = true;
            foreach (var member in group.Members.Values)
                ScheduleShareSessionTimeout(group.GroupId, member.MemberId);
        }
    }
}
