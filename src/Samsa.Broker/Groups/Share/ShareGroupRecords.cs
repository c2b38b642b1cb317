using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups.Share;

/// <summary>
/// The __consumer_offsets records of a share group, in Kafka's key and value formats (record types
/// 10-14), so a restart rebuilds the group's members and assignments. Keys carry the record type as
/// their version; values are version 0. Type 15 (which share-partitions have state with the share
/// coordinator) is not written: this broker keeps share-partition state itself, in
/// __share_group_state, and knows which partitions have some from there.
/// </summary>
internal static class ShareGroupRecords
{
    public const short MemberType = 10;
    public const short EpochType = 11;
    public const short TargetEpochType = 12;
    public const short TargetMemberType = 13;
    public const short CurrentAssignmentType = 14;
    public const short StatePartitionMetadataType = 15;

    public static CoordinatorRecord Member(string groupId, ShareGroupMember member) =>
        new(MemberKey(groupId, member.MemberId), VersionedData.Write(new ShareGroupMemberMetadataValue
        {
            RackId = member.RackId,
            ClientId = member.ClientId,
            ClientHost = member.ClientHost,
            SubscribedTopicNames = [.. member.SubscribedTopicNames],
        }, 0));

    public static CoordinatorRecord MemberTombstone(string groupId, string memberId) => new(MemberKey(groupId, memberId), null);

    private static byte[] MemberKey(string groupId, string memberId) =>
        VersionedData.Write(new ShareGroupMemberMetadataKey { GroupId = groupId, MemberId = memberId }, MemberType);

    /// <summary>The group epoch. Kafka also writes a hash of the subscribed topics' metadata here; 0 means none was computed.</summary>
    public static CoordinatorRecord Epoch(string groupId, int epoch) =>
        new(EpochKey(groupId), VersionedData.Write(new ShareGroupMetadataValue { Epoch = epoch, MetadataHash = 0 }, 0));

    public static CoordinatorRecord EpochTombstone(string groupId) => new(EpochKey(groupId), null);

    private static byte[] EpochKey(string groupId) => VersionedData.Write(new ShareGroupMetadataKey { GroupId = groupId }, EpochType);

    public static CoordinatorRecord TargetEpoch(string groupId, int epoch) =>
        new(TargetEpochKey(groupId), VersionedData.Write(new ShareGroupTargetAssignmentMetadataValue { AssignmentEpoch = epoch }, 0));

    public static CoordinatorRecord TargetEpochTombstone(string groupId) => new(TargetEpochKey(groupId), null);

    private static byte[] TargetEpochKey(string groupId) =>
        VersionedData.Write(new ShareGroupTargetAssignmentMetadataKey { GroupId = groupId }, TargetEpochType);

    public static CoordinatorRecord Target(string groupId, string memberId, IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment) =>
        new(TargetKey(groupId, memberId), VersionedData.Write(new ShareGroupTargetAssignmentMemberValue
        {
            TopicPartitions = TopicAssignment.Sorted(assignment)
                .Select(t => new ShareGroupTargetAssignmentMemberValue.TopicPartition { TopicId = t.Topic, Partitions = [.. t.Partitions] }).ToList(),
        }, 0));

    public static CoordinatorRecord TargetTombstone(string groupId, string memberId) => new(TargetKey(groupId, memberId), null);

    private static byte[] TargetKey(string groupId, string memberId) =>
        VersionedData.Write(new ShareGroupTargetAssignmentMemberKey { GroupId = groupId, MemberId = memberId }, TargetMemberType);

    /// <summary>The member's epochs and partitions; State is always Kafka's STABLE (0) for a share member.</summary>
    public static CoordinatorRecord Current(string groupId, ShareGroupMember member) =>
        new(CurrentKey(groupId, member.MemberId), VersionedData.Write(new ShareGroupCurrentMemberAssignmentValue
        {
            MemberEpoch = member.MemberEpoch,
            PreviousMemberEpoch = member.PreviousMemberEpoch,
            State = (sbyte)MemberState.Stable,
            AssignedPartitions = TopicAssignment.Sorted(member.Assigned)
                .Select(t => new ShareGroupCurrentMemberAssignmentValue.TopicPartitions { TopicId = t.Topic, Partitions = [.. t.Partitions] }).ToList(),
        }, 0));

    public static CoordinatorRecord CurrentTombstone(string groupId, string memberId) => new(CurrentKey(groupId, memberId), null);

    private static byte[] CurrentKey(string groupId, string memberId) =>
        VersionedData.Write(new ShareGroupCurrentMemberAssignmentKey { GroupId = groupId, MemberId = memberId }, CurrentAssignmentType);

    /// <summary>Kafka writes this tombstone when it deletes a share group; harmless when the record never existed.</summary>
    public static CoordinatorRecord StatePartitionMetadataTombstone(string groupId) =>
        new(VersionedData.Write(new ShareGroupStatePartitionMetadataKey { GroupId = groupId }, StatePartitionMetadataType), null);

    public static IReadOnlyDictionary<Guid, IReadOnlySet<int>> Assignment(IEnumerable<ShareGroupCurrentMemberAssignmentValue.TopicPartitions> topics) =>
        TopicAssignment.From(topics.Select(t => (t.TopicId, (IEnumerable<int>)t.Partitions)));

    public static IReadOnlyDictionary<Guid, IReadOnlySet<int>> Assignment(IEnumerable<ShareGroupTargetAssignmentMemberValue.TopicPartition> topics) =>
        TopicAssignment.From(topics.Select(t => (t.TopicId, (IEnumerable<int>)t.Partitions)));
}
