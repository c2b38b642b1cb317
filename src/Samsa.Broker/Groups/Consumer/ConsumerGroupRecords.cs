using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// The __consumer_offsets records of a consumer group, in Kafka's own key and value formats (record
/// types 3, 5-8 and 16), so a restart rebuilds the group and tools that read the topic see what
/// they see on Kafka. Keys carry the record type as their version; values are version 0.
/// </summary>
internal static class ConsumerGroupRecords
{
    public const short EpochType = 3;
    public const short PartitionMetadataType = 4;
    public const short MemberType = 5;
    public const short TargetEpochType = 6;
    public const short TargetMemberType = 7;
    public const short CurrentAssignmentType = 8;
    public const short RegexType = 16;

    public static CoordinatorRecord Epoch(string groupId, int epoch) =>
        new(EpochKey(groupId), VersionedData.Write(new ConsumerGroupMetadataValue { Epoch = epoch }, 0));

    public static CoordinatorRecord EpochTombstone(string groupId) => new(EpochKey(groupId), null);

    private static byte[] EpochKey(string groupId) => VersionedData.Write(new ConsumerGroupMetadataKey { GroupId = groupId }, EpochType);

    public static CoordinatorRecord Member(string groupId, ConsumerGroupMember member) =>
        new(MemberKey(groupId, member.MemberId), VersionedData.Write(new ConsumerGroupMemberMetadataValue
        {
            InstanceId = member.InstanceId,
            RackId = member.RackId,
            ClientId = member.ClientId,
            ClientHost = member.ClientHost,
            SubscribedTopicNames = [.. member.SubscribedTopicNames],
            SubscribedTopicRegex = member.SubscribedTopicRegex,
            RebalanceTimeoutMs = member.RebalanceTimeoutMs,
            ServerAssignor = member.ServerAssignor,
            // Kafka writes null, not the empty default, for a consumer-protocol member.
            ClassicMemberMetadata = member.Classic is { } classic
                ? new ConsumerGroupMemberMetadataValue.ClassicMemberMetadataData
                {
                    SessionTimeoutMs = classic.SessionTimeoutMs,
                    SupportedProtocols = classic.Protocols.Select(p => new ConsumerGroupMemberMetadataValue.ClassicProtocol { Name = p.Name, Metadata = p.Metadata }).ToList(),
                }
                : null,
        }, 0));

    public static CoordinatorRecord MemberTombstone(string groupId, string memberId) => new(MemberKey(groupId, memberId), null);

    private static byte[] MemberKey(string groupId, string memberId) =>
        VersionedData.Write(new ConsumerGroupMemberMetadataKey { GroupId = groupId, MemberId = memberId }, MemberType);

    public static CoordinatorRecord TargetEpoch(string groupId, int epoch) =>
        new(TargetEpochKey(groupId), VersionedData.Write(new ConsumerGroupTargetAssignmentMetadataValue { AssignmentEpoch = epoch }, 0));

    public static CoordinatorRecord TargetEpochTombstone(string groupId) => new(TargetEpochKey(groupId), null);

    private static byte[] TargetEpochKey(string groupId) =>
        VersionedData.Write(new ConsumerGroupTargetAssignmentMetadataKey { GroupId = groupId }, TargetEpochType);

    public static CoordinatorRecord Target(string groupId, string memberId, IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment) =>
        new(TargetKey(groupId, memberId), VersionedData.Write(new ConsumerGroupTargetAssignmentMemberValue
        {
            TopicPartitions = TopicAssignment.Sorted(assignment)
                .Select(t => new ConsumerGroupTargetAssignmentMemberValue.TopicPartition { TopicId = t.Topic, Partitions = [.. t.Partitions] }).ToList(),
        }, 0));

    public static CoordinatorRecord TargetTombstone(string groupId, string memberId) => new(TargetKey(groupId, memberId), null);

    private static byte[] TargetKey(string groupId, string memberId) =>
        VersionedData.Write(new ConsumerGroupTargetAssignmentMemberKey { GroupId = groupId, MemberId = memberId }, TargetMemberType);

    public static CoordinatorRecord Current(string groupId, ConsumerGroupMember member) =>
        new(CurrentKey(groupId, member.MemberId), VersionedData.Write(new ConsumerGroupCurrentMemberAssignmentValue
        {
            MemberEpoch = member.MemberEpoch,
            PreviousMemberEpoch = member.PreviousMemberEpoch,
            State = (sbyte)member.State,
            AssignedPartitions = Wire(member.Assigned),
            PartitionsPendingRevocation = Wire(member.PendingRevocation),
        }, 0));

    public static CoordinatorRecord CurrentTombstone(string groupId, string memberId) => new(CurrentKey(groupId, memberId), null);

    private static byte[] CurrentKey(string groupId, string memberId) =>
        VersionedData.Write(new ConsumerGroupCurrentMemberAssignmentKey { GroupId = groupId, MemberId = memberId }, CurrentAssignmentType);

    private static List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> Wire(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment) =>
        TopicAssignment.Sorted(assignment)
            .Select(t => new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions { TopicId = t.Topic, Partitions = [.. t.Partitions] }).ToList();

    public static CoordinatorRecord Regex(string groupId, string regex, IReadOnlyList<string> topics, long now) =>
        new(RegexKey(groupId, regex), VersionedData.Write(new ConsumerGroupRegularExpressionValue
        {
            Topics = [.. topics],
            Version = now,
            Timestamp = now,
        }, 0));

    public static CoordinatorRecord RegexTombstone(string groupId, string regex) => new(RegexKey(groupId, regex), null);

    private static byte[] RegexKey(string groupId, string regex) =>
        VersionedData.Write(new ConsumerGroupRegularExpressionKey { GroupId = groupId, RegularExpression = regex }, RegexType);

    public static IReadOnlyDictionary<Guid, IReadOnlySet<int>> Assignment(IEnumerable<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> topics) =>
        TopicAssignment.From(topics.Select(t => (t.TopicId, (IEnumerable<int>)t.Partitions)));

    public static IReadOnlyDictionary<Guid, IReadOnlySet<int>> Assignment(IEnumerable<ConsumerGroupTargetAssignmentMemberValue.TopicPartition> topics) =>
        TopicAssignment.From(topics.Select(t => (t.TopicId, (IEnumerable<int>)t.Partitions)));
}
