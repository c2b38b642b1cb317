using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>
/// The KIP-932 records: share-group records in __consumer_offsets (types 10-15) and share-partition
/// state in __share_group_state (types 0 and 1), framed as stored. Expected bytes are written out by
/// hand from Kafka's layout, as in <see cref="ConsumerGroupRecordTests"/>.
/// </summary>
public class ShareGroupRecordTests
{
    private static readonly Guid TopicId = new(Convert.FromHexString("0102030405060708090A0B0C0D0E0F10"), bigEndian: true);

    private const string TopicIdHex = "0102030405060708090A0B0C0D0E0F10";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static T RoundTrip<T>(T message, short version)
        where T : class, IMessage<T>
    {
        byte[] first = VersionedData.Write(message, version);
        var decoded = VersionedData.Read<T>(first, out short readVersion);
        Assert.NotNull(decoded);
        Assert.Equal(version, readVersion);
        Assert.Equal(first, VersionedData.Write(decoded, version));
        return decoded;
    }

    [Fact]
    public void Share_group_keys_are_record_types_10_to_15()
    {
        Assert.Equal(Hex("000A 0001 67 0002 6D31"), VersionedData.Write(new ShareGroupMemberMetadataKey { GroupId = "g", MemberId = "m1" }, 10));
        Assert.Equal(Hex("000B 0001 67"), VersionedData.Write(new ShareGroupMetadataKey { GroupId = "g" }, 11));
        Assert.Equal(Hex("000C 0001 67"), VersionedData.Write(new ShareGroupTargetAssignmentMetadataKey { GroupId = "g" }, 12));
        Assert.Equal(Hex("000D 0001 67 0002 6D31"), VersionedData.Write(new ShareGroupTargetAssignmentMemberKey { GroupId = "g", MemberId = "m1" }, 13));
        Assert.Equal(Hex("000E 0001 67 0002 6D31"), VersionedData.Write(new ShareGroupCurrentMemberAssignmentKey { GroupId = "g", MemberId = "m1" }, 14));
        Assert.Equal(Hex("000F 0001 67"), VersionedData.Write(new ShareGroupStatePartitionMetadataKey { GroupId = "g" }, 15));

        Assert.Equal("m", RoundTrip(new ShareGroupMemberMetadataKey { GroupId = "g", MemberId = "m" }, 10).MemberId);
        Assert.Equal("g", RoundTrip(new ShareGroupStatePartitionMetadataKey { GroupId = "g" }, 15).GroupId);
    }

    [Fact]
    public void Share_state_keys_are_types_0_and_1_with_a_raw_uuid_and_partition()
    {
        var snapshot = new ShareSnapshotKey { GroupId = "g", TopicId = TopicId, Partition = 3 };
        Assert.Equal(Hex($"0000 0001 67 {TopicIdHex} 00000003"), VersionedData.Write(snapshot, 0));
        var update = new ShareUpdateKey { GroupId = "g", TopicId = TopicId, Partition = 3 };
        Assert.Equal(Hex($"0001 0001 67 {TopicIdHex} 00000003"), VersionedData.Write(update, 1));

        var decoded = RoundTrip(update, 1);
        Assert.Equal((TopicId, 3), (decoded.TopicId, decoded.Partition));
        // A snapshot key is type 0: it must not pass for an update key.
        Assert.Throws<ProtocolException>(() => VersionedData.Read<ShareUpdateKey>(VersionedData.Write(snapshot, 0), out _));
    }

    [Fact]
    public void Share_group_metadata_value_writes_the_hash_untagged_even_when_zero()
    {
        Assert.Equal(Hex("0000 00000007 0000000000000000 00"), VersionedData.Write(new ShareGroupMetadataValue { Epoch = 7 }, 0));
        var decoded = RoundTrip(new ShareGroupMetadataValue { Epoch = 7, MetadataHash = 0x1122334455667788 }, 0);
        Assert.Equal(Hex("0000 00000007 1122334455667788 00"), VersionedData.Write(decoded, 0));
    }

    [Fact]
    public void Member_value_has_a_nullable_rack_then_compact_strings()
    {
        var value = new ShareGroupMemberMetadataValue { RackId = null, ClientId = "c", ClientHost = "h", SubscribedTopicNames = ["t"] };
        Assert.Equal(Hex("0000 00 0263 0268 02 0274 00"), VersionedData.Write(value, 0));
        value.RackId = "r";
        Assert.Equal(Hex("0000 0272 0263 0268 02 0274 00"), VersionedData.Write(value, 0));
        var decoded = RoundTrip(value, 0);
        Assert.Equal("r", decoded.RackId);
        Assert.Equal(["t"], decoded.SubscribedTopicNames);
    }

    [Fact]
    public void Assignment_values_match_kafkas_layout()
    {
        var current = new ShareGroupCurrentMemberAssignmentValue
        {
            MemberEpoch = 5,
            PreviousMemberEpoch = 4,
            State = 0,
            AssignedPartitions = [new() { TopicId = TopicId, Partitions = [0, 1] }],
        };
        // No PartitionsPendingRevocation after the assigned list, unlike a consumer group's value.
        Assert.Equal(Hex($"0000 00000005 00000004 00 02 {TopicIdHex} 03 00000000 00000001 00 00"), VersionedData.Write(current, 0));
        Assert.Equal([0, 1], Assert.Single(RoundTrip(current, 0).AssignedPartitions).Partitions);

        Assert.Equal(Hex("0000 00000003 00"), VersionedData.Write(new ShareGroupTargetAssignmentMetadataValue { AssignmentEpoch = 3 }, 0));
        var member = new ShareGroupTargetAssignmentMemberValue { TopicPartitions = [new() { TopicId = TopicId, Partitions = [2] }] };
        Assert.Equal(Hex($"0000 02 {TopicIdHex} 02 00000002 00 00"), VersionedData.Write(member, 0));
        Assert.Equal(2, Assert.Single(Assert.Single(RoundTrip(member, 0).TopicPartitions).Partitions));
    }

    [Fact]
    public void State_partition_metadata_value_holds_three_topic_lists()
    {
        var value = new ShareGroupStatePartitionMetadataValue
        {
            InitializingTopics = [],
            InitializedTopics = [new() { TopicId = TopicId, TopicName = "foo", Partitions = [0] }],
            DeletingTopics = [new() { TopicId = TopicId, TopicName = "bar" }],
        };
        Assert.Equal(
            Hex($"0000 01 02 {TopicIdHex} 04666F6F 02 00000000 00 02 {TopicIdHex} 04626172 00 00"),
            VersionedData.Write(value, 0));
        var decoded = RoundTrip(value, 0);
        Assert.Empty(decoded.InitializingTopics);
        Assert.Equal("foo", Assert.Single(decoded.InitializedTopics).TopicName);
        Assert.Equal("bar", Assert.Single(decoded.DeletingTopics).TopicName);
    }

    private const string SnapshotHead = "0000 00000001 00000002 00000003 000000000000000A 0000000000000064 00000000000000C8";

    private const string Batch = "02 000000000000000A 000000000000000C 02 0001 00";

    private static ShareSnapshotValue Snapshot(int deliveryCompleteCount) => new()
    {
        SnapshotEpoch = 1,
        StateEpoch = 2,
        LeaderEpoch = 3,
        StartOffset = 10,
        DeliveryCompleteCount = deliveryCompleteCount,
        CreateTimestamp = 100,
        WriteTimestamp = 200,
        StateBatches = [new() { FirstOffset = 10, LastOffset = 12, DeliveryState = 2, DeliveryCount = 1 }],
    };

    [Fact]
    public void Snapshot_value_leaves_an_unknown_delivery_complete_count_off_the_wire()
    {
        Assert.Equal(Hex($"{SnapshotHead} {Batch} 00"), VersionedData.Write(Snapshot(-1), 0));
        // Tag 0, four bytes: the count Kafka 4.2 adds for share-partition lag.
        Assert.Equal(Hex($"{SnapshotHead} {Batch} 01 00 04 00000003"), VersionedData.Write(Snapshot(3), 0));

        var absent = VersionedData.Read<ShareSnapshotValue>(Hex($"{SnapshotHead} {Batch} 00"), out _)!;
        Assert.Equal(-1, absent.DeliveryCompleteCount);
        var decoded = RoundTrip(Snapshot(3), 0);
        Assert.Equal((1, 2, 3, 10L, 3), (decoded.SnapshotEpoch, decoded.StateEpoch, decoded.LeaderEpoch, decoded.StartOffset, decoded.DeliveryCompleteCount));
        var batch = Assert.Single(decoded.StateBatches);
        Assert.Equal((10L, 12L, (sbyte)2, (short)1), (batch.FirstOffset, batch.LastOffset, batch.DeliveryState, batch.DeliveryCount));
    }

    [Fact]
    public void Update_value_has_no_state_epoch_or_timestamps()
    {
        var value = new ShareUpdateValue
        {
            SnapshotEpoch = 1,
            LeaderEpoch = 3,
            StartOffset = -1,
            StateBatches = [new() { FirstOffset = 10, LastOffset = 12, DeliveryState = 2, DeliveryCount = 1 }],
        };
        Assert.Equal(Hex($"0000 00000001 00000003 FFFFFFFFFFFFFFFF {Batch} 00"), VersionedData.Write(value, 0));
        Assert.Equal(-1L, RoundTrip(value, 0).StartOffset);
    }
}
