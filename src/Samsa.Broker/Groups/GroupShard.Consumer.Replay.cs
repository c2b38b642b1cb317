using Samsa.Broker.Groups.Consumer;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// Applies a consumer-group record (types 3-8, 16), live and at load alike. A group comes into
    /// being with its first record (replacing an empty classic group of the same id) and leaves with
    /// the tombstone of its epoch record. Partition metadata (type 4, written by Kafka 4.0 only) is
    /// not needed: the coordinator reads topics from the broker.
    /// </summary>
    private void ReplayConsumerRecord(short type, byte[] key, byte[]? value)
    {
        switch (type)
        {
            case ConsumerGroupRecords.EpochType:
            {
                var k = VersionedData.Read<ConsumerGroupMetadataKey>(key, out _)!;
                if (value is null)
                {
                    if (_groups.GetValueOrDefault(k.GroupId) is ConsumerGroup dead)
                    {
                        dead.Deleted = true;
                        RemoveGroup(k.GroupId);
                    }
                    return;
                }
                var group = ReplayedConsumerGroup(k.GroupId);
                group.GroupEpoch = VersionedData.Read<ConsumerGroupMetadataValue>(value, out _)!.Epoch;
                group.Touched();
                return;
            }
            case ConsumerGroupRecords.MemberType:
            {
                var k = VersionedData.Read<ConsumerGroupMemberMetadataKey>(key, out _)!;
                if (value is null)
                {
                    (_groups.GetValueOrDefault(k.GroupId) as ConsumerGroup)?.RemoveMember(k.MemberId);
                    return;
                }
                var v = VersionedData.Read<ConsumerGroupMemberMetadataValue>(value, out _)!;
                ReplayedConsumerGroup(k.GroupId).SetMetadata(new ConsumerGroupMember
                {
                    MemberId = k.MemberId,
                    InstanceId = v.InstanceId,
                    RackId = v.RackId,
                    ClientId = v.ClientId,
                    ClientHost = v.ClientHost,
                    SubscribedTopicNames = v.SubscribedTopicNames,
                    SubscribedTopicRegex = string.IsNullOrEmpty(v.SubscribedTopicRegex) ? null : v.SubscribedTopicRegex,
                    RebalanceTimeoutMs = v.RebalanceTimeoutMs,
                    ServerAssignor = v.ServerAssignor,
                    Classic = v.ClassicMemberMetadata is { SupportedProtocols.Count: > 0 } classic
                        ? new ClassicMembership(classic.SessionTimeoutMs, classic.SupportedProtocols.Select(p => (p.Name, p.Metadata)).ToList())
                        : null,
                });
                return;
            }
            case ConsumerGroupRecords.TargetEpochType:
            {
                var k = VersionedData.Read<ConsumerGroupTargetAssignmentMetadataKey>(key, out _)!;
                if (value is null)
                {
                    if (_groups.GetValueOrDefault(k.GroupId) is ConsumerGroup g)
                        g.AssignmentEpoch = -1;
                    return;
                }
                var group = ReplayedConsumerGroup(k.GroupId);
                group.AssignmentEpoch = VersionedData.Read<ConsumerGroupTargetAssignmentMetadataValue>(value, out _)!.AssignmentEpoch;
                group.Touched();
                return;
            }
            case ConsumerGroupRecords.TargetMemberType:
            {
                var k = VersionedData.Read<ConsumerGroupTargetAssignmentMemberKey>(key, out _)!;
                if (value is null)
                {
                    (_groups.GetValueOrDefault(k.GroupId) as ConsumerGroup)?.SetTarget(k.MemberId, null);
                    return;
                }
                var v = VersionedData.Read<ConsumerGroupTargetAssignmentMemberValue>(value, out _)!;
                ReplayedConsumerGroup(k.GroupId).SetTarget(k.MemberId, ConsumerGroupRecords.Assignment(v.TopicPartitions));
                return;
            }
            case ConsumerGroupRecords.CurrentAssignmentType:
            {
                var k = VersionedData.Read<ConsumerGroupCurrentMemberAssignmentKey>(key, out _)!;
                if (value is null)
                {
                    // Kafka's tombstone leaves the member at epoch -1 with nothing; its metadata tombstone removes it.
                    if (_groups.GetValueOrDefault(k.GroupId) is ConsumerGroup g && g.Member(k.MemberId) is not null)
                        g.SetAssignment(k.MemberId, LeaveEpoch, LeaveEpoch, MemberState.Stable, TopicAssignment.Empty, TopicAssignment.Empty);
                    return;
                }
                var v = VersionedData.Read<ConsumerGroupCurrentMemberAssignmentValue>(value, out _)!;
                var group = ReplayedConsumerGroup(k.GroupId);
                group.SetAssignment(k.MemberId, v.MemberEpoch, v.PreviousMemberEpoch, MemberStates.FromByte(v.State),
                    ConsumerGroupRecords.Assignment(v.AssignedPartitions), ConsumerGroupRecords.Assignment(v.PartitionsPendingRevocation));
                group.Touched();
                return;
            }
            case ConsumerGroupRecords.RegexType:
            {
                var k = VersionedData.Read<ConsumerGroupRegularExpressionKey>(key, out _)!;
                if (value is null)
                {
                    (_groups.GetValueOrDefault(k.GroupId) as ConsumerGroup)?.SetRegex(k.RegularExpression, null);
                    return;
                }
                var v = VersionedData.Read<ConsumerGroupRegularExpressionValue>(value, out _)!;
                ReplayedConsumerGroup(k.GroupId).SetRegex(k.RegularExpression, v.Topics);
                return;
            }
            default:
                // Partition metadata (4) and the unused type 9: nothing to rebuild from them here.
                return;
        }
    }

    /// <summary>The consumer group a record belongs to, created on its first record.</summary>
    private ConsumerGroup ReplayedConsumerGroup(string groupId)
    {
        switch (_groups.GetValueOrDefault(groupId))
        {
            case ConsumerGroup { Deleted: false } group:
                return group;
            case ClassicGroup classic when !classic.IsEmpty:
                throw new InvalidOperationException($"A consumer-group record for {groupId}, which is a classic group with members.");
            case Share.ShareGroup { Deleted: false }:
                throw new InvalidOperationException($"A consumer-group record for {groupId}, which is a share group.");
            default:
                return Track(new ConsumerGroup(groupId, _time, AssignorNames));
        }
    }

    /// <summary>
    /// After loading: every member of a consumer group gets a session timeout to come back in, and
    /// each group checks at its next heartbeat whether topics changed while the broker was down.
    /// </summary>
    private void EndLoadConsumerGroups()
    {
        foreach (var group in _groups.Values.OfType<ConsumerGroup>())
        {
            group.MetadataStale = true;
            foreach (var member in group.Members.Values)
                ScheduleSessionTimeout(group.GroupId, member.MemberId, SessionTimeoutOf(group.GroupId, member));
        }
    }
}
