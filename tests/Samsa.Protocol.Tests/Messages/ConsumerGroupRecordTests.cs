using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>
/// The KIP-848 __consumer_offsets records, framed as the broker stores them: a key is its record
/// type then non-flexible fields, a value is its version then a flexible body. Expected bytes are
/// built by hand from Kafka's layout, so a schema or generator slip shows up as a byte difference
/// rather than as a record Kafka cannot read.
/// </summary>
public class ConsumerGroupRecordTests
{
    private static readonly Guid TopicId = new(Convert.FromHexString("0102030405060708090A0B0C0D0E0F10"), bigEndian: true);

    private const string TopicIdHex = "0102030405060708090A0B0C0D0E0F10";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>Writes, reads back, writes again: the second encoding must match the first.</summary>
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
    public void Keys_are_the_record_type_then_int16_length_strings()
    {
        Assert.Equal(Hex("0003 0001 67"), VersionedData.Write(new ConsumerGroupMetadataKey { GroupId = "g" }, 3));
        Assert.Equal(Hex("0004 0001 67"), VersionedData.Write(new ConsumerGroupPartitionMetadataKey { GroupId = "g" }, 4));
        Assert.Equal(Hex("0005 0001 67 0002 6D31"), VersionedData.Write(new ConsumerGroupMemberMetadataKey { GroupId = "g", MemberId = "m1" }, 5));
        Assert.Equal(Hex("0006 0001 67"), VersionedData.Write(new ConsumerGroupTargetAssignmentMetadataKey { GroupId = "g" }, 6));
        Assert.Equal(Hex("0007 0001 67 0002 6D31"), VersionedData.Write(new ConsumerGroupTargetAssignmentMemberKey { GroupId = "g", MemberId = "m1" }, 7));
        Assert.Equal(Hex("0008 0001 67 0002 6D31"), VersionedData.Write(new ConsumerGroupCurrentMemberAssignmentKey { GroupId = "g", MemberId = "m1" }, 8));
        Assert.Equal(Hex("0010 0001 67 0003 742E2A"), VersionedData.Write(new ConsumerGroupRegularExpressionKey { GroupId = "g", RegularExpression = "t.*" }, 16));
    }

    [Fact]
    public void Keys_round_trip_at_their_record_type()
    {
        Assert.Equal("g", RoundTrip(new ConsumerGroupMetadataKey { GroupId = "g" }, 3).GroupId);
        Assert.Equal("g", RoundTrip(new ConsumerGroupPartitionMetadataKey { GroupId = "g" }, 4).GroupId);
        Assert.Equal("m", RoundTrip(new ConsumerGroupMemberMetadataKey { GroupId = "g", MemberId = "m" }, 5).MemberId);
        Assert.Equal("g", RoundTrip(new ConsumerGroupTargetAssignmentMetadataKey { GroupId = "g" }, 6).GroupId);
        Assert.Equal("m", RoundTrip(new ConsumerGroupTargetAssignmentMemberKey { GroupId = "g", MemberId = "m" }, 7).MemberId);
        Assert.Equal("m", RoundTrip(new ConsumerGroupCurrentMemberAssignmentKey { GroupId = "g", MemberId = "m" }, 8).MemberId);
        Assert.Equal("^orders-.*", RoundTrip(new ConsumerGroupRegularExpressionKey { GroupId = "g", RegularExpression = "^orders-.*" }, 16).RegularExpression);
    }

    [Fact]
    public void A_key_read_under_another_record_type_is_refused()
    {
        // Type 2 is a classic group's key: reading it as a consumer group's must not succeed quietly.
        Assert.Throws<ProtocolException>(() => VersionedData.Read<ConsumerGroupMetadataKey>(Hex("0002 0001 67"), out _));
    }

    [Fact]
    public void Group_metadata_value_leaves_a_zero_hash_off_the_wire()
    {
        Assert.Equal(Hex("0000 00000007 00"), VersionedData.Write(new ConsumerGroupMetadataValue { Epoch = 7 }, 0));
        Assert.Equal(
            Hex("0000 00000007 01 00 08 1122334455667788"),
            VersionedData.Write(new ConsumerGroupMetadataValue { Epoch = 7, MetadataHash = 0x1122334455667788 }, 0));

        var decoded = RoundTrip(new ConsumerGroupMetadataValue { Epoch = 7, MetadataHash = -5 }, 0);
        Assert.Equal((7, -5L), (decoded.Epoch, decoded.MetadataHash));
    }

    [Fact]
    public void Current_assignment_value_uses_compact_arrays_raw_uuids_and_tag_trailers()
    {
        var value = new ConsumerGroupCurrentMemberAssignmentValue
        {
            MemberEpoch = 5,
            PreviousMemberEpoch = 4,
            State = 0,
            AssignedPartitions = [new() { TopicId = TopicId, Partitions = [0, 1] }],
        };
        // version | epochs | state | 1 topic: id, 2 partitions, no tags | no revocations | no tags
        Assert.Equal(
            Hex($"0000 00000005 00000004 00 02 {TopicIdHex} 03 00000000 00000001 00 01 00"),
            VersionedData.Write(value, 0));

        var decoded = RoundTrip(value, 0);
        var topic = Assert.Single(decoded.AssignedPartitions);
        Assert.Equal(TopicId, topic.TopicId);
        Assert.Equal([0, 1], topic.Partitions);
        Assert.Empty(topic.AssignmentEpochs!);
        Assert.Empty(decoded.PartitionsPendingRevocation);
    }

    [Fact]
    public void Assignment_epochs_are_omitted_when_empty_and_marked_when_null()
    {
        static byte[] With(List<int>? epochs) => VersionedData.Write(
            new ConsumerGroupCurrentMemberAssignmentValue
            {
                MemberEpoch = 1,
                AssignedPartitions = [new() { TopicId = TopicId, Partitions = [5], AssignmentEpochs = epochs }],
            },
            0);

        const string head = "0000 00000001 00000000 00 02 " + TopicIdHex + " 02 00000005";
        Assert.Equal(Hex(head + " 00 01 00"), With([]));
        // Kafka's default for this field is the empty list, so null is not the default: it is written.
        Assert.Equal(Hex(head + " 01 00 01 00 01 00"), With(null));
        Assert.Equal(Hex(head + " 01 00 05 02 00000009 01 00"), With([9]));

        var decoded = VersionedData.Read<ConsumerGroupCurrentMemberAssignmentValue>(With(null), out _)!;
        Assert.Null(Assert.Single(decoded.AssignedPartitions).AssignmentEpochs);
        decoded = VersionedData.Read<ConsumerGroupCurrentMemberAssignmentValue>(With([9]), out _)!;
        Assert.Equal([9], Assert.Single(decoded.AssignedPartitions).AssignmentEpochs!);
    }

    private const string MemberBody = "00 00 0263 0268 02 0274 00 000003E8 00";

    private static ConsumerGroupMemberMetadataValue Member(ConsumerGroupMemberMetadataValue.ClassicMemberMetadataData? classic) => new()
    {
        InstanceId = null,
        RackId = null,
        ClientId = "c",
        ClientHost = "h",
        SubscribedTopicNames = ["t"],
        SubscribedTopicRegex = null,
        RebalanceTimeoutMs = 1000,
        ServerAssignor = null,
        ClassicMemberMetadata = classic,
    };

    [Fact]
    public void Member_value_writes_a_null_classic_struct_as_a_varint_null_marker()
    {
        // Tag 0, one byte: the unsigned varint 0 Kafka uses for a null struct inside a tagged field.
        Assert.Equal(Hex($"0000 {MemberBody} 01 00 01 00"), VersionedData.Write(Member(null), 0));
        // The empty struct is the field's default, so it is left off like any default tagged field.
        Assert.Equal(Hex($"0000 {MemberBody} 00"), VersionedData.Write(Member(new()), 0));

        Assert.Null(VersionedData.Read<ConsumerGroupMemberMetadataValue>(Hex($"0000 {MemberBody} 01 00 01 00"), out _)!.ClassicMemberMetadata);
        var absent = VersionedData.Read<ConsumerGroupMemberMetadataValue>(Hex($"0000 {MemberBody} 00"), out _)!;
        Assert.True(absent.ClassicMemberMetadata!.HasDefaultValues());
    }

    [Fact]
    public void Member_value_carries_classic_metadata_behind_a_varint_present_marker()
    {
        var classic = new ConsumerGroupMemberMetadataValue.ClassicMemberMetadataData
        {
            SessionTimeoutMs = 30000,
            SupportedProtocols = [new() { Name = "range", Metadata = [1, 2] }],
        };
        // 17 bytes: present | timeout | 1 protocol: "range", 2 metadata bytes, no tags | no tags
        Assert.Equal(
            Hex($"0000 {MemberBody} 01 00 11 01 00007530 02 0672616E6765 03 0102 00 00"),
            VersionedData.Write(Member(classic), 0));

        var decoded = RoundTrip(Member(classic), 0);
        Assert.Equal("c", decoded.ClientId);
        Assert.Null(decoded.InstanceId);
        Assert.Equal(["t"], decoded.SubscribedTopicNames);
        Assert.Equal(30000, decoded.ClassicMemberMetadata!.SessionTimeoutMs);
        var protocol = Assert.Single(decoded.ClassicMemberMetadata.SupportedProtocols);
        Assert.Equal("range", protocol.Name);
        Assert.Equal(new byte[] { 1, 2 }, protocol.Metadata);
    }

    [Fact]
    public void Partition_metadata_value_nests_compact_arrays_each_with_its_tag_trailer()
    {
        var value = new ConsumerGroupPartitionMetadataValue
        {
            Topics =
            [
                new()
                {
                    TopicId = TopicId,
                    TopicName = "foo",
                    NumPartitions = 3,
                    PartitionMetadata = [new() { Partition = 1, Racks = ["r1"] }],
                },
            ],
        };
        Assert.Equal(
            Hex($"0000 02 {TopicIdHex} 04666F6F 00000003 02 00000001 02 037231 00 00 00"),
            VersionedData.Write(value, 0));

        var topic = Assert.Single(RoundTrip(value, 0).Topics);
        Assert.Equal(("foo", 3), (topic.TopicName, topic.NumPartitions));
        Assert.Equal(["r1"], Assert.Single(topic.PartitionMetadata).Racks);
    }

    [Fact]
    public void Target_assignment_values_match_kafkas_layout()
    {
        Assert.Equal(Hex("0000 00000003 00"), VersionedData.Write(new ConsumerGroupTargetAssignmentMetadataValue { AssignmentEpoch = 3 }, 0));
        Assert.Equal(
            Hex("0000 00000003 01 00 08 0000019000000001"),
            VersionedData.Write(new ConsumerGroupTargetAssignmentMetadataValue { AssignmentEpoch = 3, AssignmentTimestamp = 0x0000019000000001 }, 0));
        var metadata = RoundTrip(new ConsumerGroupTargetAssignmentMetadataValue { AssignmentEpoch = 9, AssignmentTimestamp = 1_700_000_000_000 }, 0);
        Assert.Equal((9, 1_700_000_000_000L), (metadata.AssignmentEpoch, metadata.AssignmentTimestamp));

        var member = new ConsumerGroupTargetAssignmentMemberValue
        {
            TopicPartitions = [new() { TopicId = TopicId, Partitions = [0] }],
        };
        Assert.Equal(Hex($"0000 02 {TopicIdHex} 02 00000000 00 00"), VersionedData.Write(member, 0));
        var topic = Assert.Single(RoundTrip(member, 0).TopicPartitions);
        Assert.Equal((TopicId, 0), (topic.TopicId, Assert.Single(topic.Partitions)));
    }

    [Fact]
    public void Regular_expression_value_matches_kafkas_layout()
    {
        var value = new ConsumerGroupRegularExpressionValue { Topics = ["a", "b"], Version = 42, Timestamp = 1000 };
        Assert.Equal(Hex("0000 03 0261 0262 000000000000002A 00000000000003E8 00"), VersionedData.Write(value, 0));

        var decoded = RoundTrip(value, 0);
        Assert.Equal(["a", "b"], decoded.Topics);
        Assert.Equal((42L, 1000L), (decoded.Version, decoded.Timestamp));
    }

    [Fact]
    public void An_unknown_tag_from_a_newer_writer_is_kept()
    {
        // Tag 3 is not in our schema; a broker that rewrites the record must not drop it.
        byte[] bytes = Hex("0000 00000007 02 00 08 0000000000000001 03 02 ABCD");
        var decoded = VersionedData.Read<ConsumerGroupMetadataValue>(bytes, out _)!;
        Assert.Equal(1L, decoded.MetadataHash);
        Assert.Equal(bytes, VersionedData.Write(decoded, 0));
    }
}
