using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>Appends coordinator records to one partition of __consumer_offsets.</summary>
internal interface IOffsetsLog
{
    /// <summary>Durably appends records (null value = tombstone) before the caller applies them; throws when it cannot.</summary>
    void Append(int partition, IReadOnlyList<CoordinatorRecord> records);

    /// <summary>
    /// Appends offset records as one transactional batch of the producer (TxnOffsetCommit); throws when
    /// it cannot; INVALID_PRODUCER_EPOCH (nothing written) when a newer epoch's marker is already in.
    /// </summary>
    Samsa.Protocol.ErrorCode AppendTransactional(int partition, IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch);

    /// <summary>Appends a COMMIT or ABORT marker of the producer; returns the log's refusal (INVALID_PRODUCER_EPOCH) or NONE.</summary>
    Samsa.Protocol.ErrorCode AppendMarker(int partition, long producerId, short producerEpoch, bool commit);
}

/// <summary>
/// One record of __consumer_offsets as loading sees it: a plain record, an offset record of a
/// transactional batch (<see cref="ProducerId"/> set, pending until its marker), or a marker
/// (<see cref="Marker"/> set, no key).
/// </summary>
internal readonly record struct OffsetsLogEntry(byte[] Key, byte[]? Value, long ProducerId = -1, Samsa.Protocol.Records.ControlRecordType? Marker = null);

/// <summary>
/// __consumer_offsets: which partition a group lives in, and the record formats Kafka itself
/// writes there (so tools that read the topic, such as Burrow, understand ours).
/// </summary>
internal static class OffsetsTopic
{
    /// <summary>Kafka writes OffsetCommitKey as key type 1 (0 has the same layout).</summary>
    public const short OffsetCommitKeyVersion = 1;
    public const short GroupMetadataKeyVersion = 2;

    /// <summary>v3 (with leader epoch), or v1 when the commit carried a retention time; Burrow reads both.</summary>
    public const short OffsetCommitValueVersion = 3;
    public const short GroupMetadataValueVersion = 3;

    /// <summary>Utils.abs(groupId.hashCode()) % partitions, with Java's String.hashCode over UTF-16.</summary>
    public static int PartitionFor(string groupId, int partitions)
    {
        int hash = 0;
        foreach (char c in groupId)
            hash = unchecked((31 * hash) + c);
        return (hash & 0x7fffffff) % partitions;
    }

    public static byte[] OffsetKey(string group, string topic, int partition) =>
        VersionedData.Write(new OffsetCommitKey { Group = group, Topic = topic, Partition = partition }, OffsetCommitKeyVersion);

    public static byte[] OffsetValue(CommittedOffset offset)
    {
        short version = offset.ExpireTimestamp >= 0 ? (short)1 : OffsetCommitValueVersion;
        return VersionedData.Write(new OffsetCommitValue
        {
            Offset = offset.Offset,
            LeaderEpoch = offset.LeaderEpoch,
            Metadata = offset.Metadata,
            CommitTimestamp = offset.CommitTimestamp,
            ExpireTimestamp = offset.ExpireTimestamp,
        }, version);
    }

    public static byte[] GroupKey(string group) =>
        VersionedData.Write(new GroupMetadataKey { Group = group }, GroupMetadataKeyVersion);

    /// <summary>A classic group at rest: Stable with these members and assignments, or Empty without members.</summary>
    public static byte[] GroupValue(ClassicGroup group, int generation, string? protocol, string? leader, IEnumerable<GroupMember> members, Func<GroupMember, byte[]> assignment, long stateTimestamp) =>
        GroupValue(group.ProtocolType ?? "", generation, protocol, leader, stateTimestamp, members.Select(m => new GroupMetadataValue.MemberMetadata
        {
            MemberId = m.MemberId,
            GroupInstanceId = m.GroupInstanceId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            RebalanceTimeout = m.RebalanceTimeoutMs,
            SessionTimeout = m.SessionTimeoutMs,
            Subscription = m.MetadataFor(protocol),
            Assignment = assignment(m),
        }));

    public static byte[] GroupValue(string protocolType, int generation, string? protocol, string? leader, long stateTimestamp, IEnumerable<GroupMetadataValue.MemberMetadata> members) =>
        VersionedData.Write(new GroupMetadataValue
        {
            ProtocolType = protocolType,
            Generation = generation,
            Protocol = protocol,
            Leader = leader,
            CurrentStateTimestamp = stateTimestamp,
            Members = members.ToList(),
        }, GroupMetadataValueVersion);
}
