using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>
/// Byte layouts of the KIP-932 RPCs where versions differ (ShareFetch/ShareAcknowledge v1 and v2,
/// DescribeShareGroupOffsets v0 and v1), built by hand from Kafka's message definitions.
/// <see cref="RoundTripTests"/> covers every version of every message with random contents.
/// </summary>
public class ShareMessageTests
{
    private static readonly Guid TopicId = new(Convert.FromHexString("0102030405060708090A0B0C0D0E0F10"), bigEndian: true);

    private const string TopicIdHex = "0102030405060708090A0B0C0D0E0F10";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static T Decode<T>(byte[] bytes, short version)
        where T : IMessage
    {
        var (message, unread) = MessageCatalog.Decode(typeof(T), bytes, version);
        Assert.Equal(0, unread);
        return (T)message;
    }

    private static ShareFetchRequest Fetch() => new()
    {
        GroupId = "g",
        MemberId = "m",
        ShareSessionEpoch = 0,
        MaxWaitMs = 500,
        MinBytes = 1,
        MaxRecords = 500,
        BatchSize = 100,
        ShareAcquireMode = 1,
        Topics =
        [
            new()
            {
                TopicId = TopicId,
                Partitions = [new() { PartitionIndex = 0, AcknowledgementBatches = [new() { FirstOffset = 5, LastOffset = 6, AcknowledgeTypes = [1, 3] }] }],
            },
        ],
    };

    // group, member, epoch, max wait, min bytes, max bytes (default), max records, batch size
    private const string FetchHead = "0267 026D 00000000 000001F4 00000001 7FFFFFFF 000001F4 00000064";

    // one topic: id, one partition: index, one batch: 5..6 with per-offset types accept, reject
    private const string FetchTopics = $"02 {TopicIdHex} 02 00000000 02 0000000000000005 0000000000000006 03 01 03 00 00 00";

    [Fact]
    public void Share_fetch_v2_puts_the_acquire_mode_and_renew_flag_behind_the_batch_size()
    {
        Assert.Equal(Hex($"{FetchHead} {FetchTopics} 01 00"), MessageCatalog.Encode(Fetch(), 1));
        Assert.Equal(Hex($"{FetchHead} 01 00 {FetchTopics} 01 00"), MessageCatalog.Encode(Fetch(), 2));

        var decoded = Decode<ShareFetchRequest>(Hex($"{FetchHead} 01 01 {FetchTopics} 01 00"), 2);
        Assert.Equal(((sbyte)1, true), (decoded.ShareAcquireMode, decoded.IsRenewAck));
        var batch = Assert.Single(Assert.Single(Assert.Single(decoded.Topics).Partitions).AcknowledgementBatches);
        Assert.Equal([1, 3], batch.AcknowledgeTypes);
        // Read as v1 the same fields are absent and keep their defaults.
        var v1 = Decode<ShareFetchRequest>(Hex($"{FetchHead} {FetchTopics} 01 00"), 1);
        Assert.Equal(((sbyte)0, false), (v1.ShareAcquireMode, v1.IsRenewAck));
    }

    [Fact]
    public void Share_fetch_version_zero_is_refused()
    {
        Assert.Equal(1, ShareFetchRequest.LowestVersion);
        Assert.Throws<ProtocolException>(() => MessageCatalog.Decode(typeof(ShareFetchRequest), Hex($"{FetchHead} {FetchTopics} 01 00"), 0));
    }

    [Fact]
    public void Share_fetch_response_carries_acquired_ranges_beside_the_records()
    {
        var response = new ShareFetchResponse
        {
            AcquisitionLockTimeoutMs = 30000,
            Responses =
            [
                new()
                {
                    TopicId = TopicId,
                    Partitions =
                    [
                        new()
                        {
                            AcknowledgeErrorCode = (short)ErrorCode.InvalidRecordState,
                            CurrentLeader = new() { LeaderId = 1 },
                            Records = null,
                            AcquiredRecords = [new() { FirstOffset = 0, LastOffset = 9, DeliveryCount = 1 }],
                        },
                    ],
                },
            ],
        };
        // throttle, error, message | lock | topic: partition, errors (ack 121), leader, null records, one range
        byte[] expected = Hex(
            $"00000000 0000 00 00007530 02 {TopicIdHex} 02 00000000 0000 00 0079 00 00000001 00000000 00 00 "
            + "02 0000000000000000 0000000000000009 0001 00 00 00 01 00");
        Assert.Equal(expected, MessageCatalog.Encode(response, 1));
        Assert.Equal(expected, MessageCatalog.Encode(response, 2));

        var partition = Assert.Single(Assert.Single(Decode<ShareFetchResponse>(expected, 1).Responses).Partitions);
        Assert.Null(partition.Records);
        Assert.Equal((short)121, partition.AcknowledgeErrorCode);
        var acquired = Assert.Single(partition.AcquiredRecords);
        Assert.Equal((0L, 9L, (short)1), (acquired.FirstOffset, acquired.LastOffset, acquired.DeliveryCount));
    }

    [Fact]
    public void Share_acknowledge_v2_adds_the_renew_flag_and_the_lock_duration()
    {
        var request = new ShareAcknowledgeRequest { GroupId = "g", MemberId = "m", ShareSessionEpoch = 3, IsRenewAck = true };
        Assert.Equal(Hex("0267 026D 00000003 01 00"), MessageCatalog.Encode(request, 1));
        Assert.Equal(Hex("0267 026D 00000003 01 01 00"), MessageCatalog.Encode(request, 2));

        var response = new ShareAcknowledgeResponse { AcquisitionLockTimeoutMs = 30000 };
        Assert.Equal(Hex("00000000 0000 00 01 01 00"), MessageCatalog.Encode(response, 1));
        Assert.Equal(Hex("00000000 0000 00 00007530 01 01 00"), MessageCatalog.Encode(response, 2));
    }

    [Fact]
    public void Describe_share_group_offsets_v1_adds_lag_defaulting_to_minus_one()
    {
        var response = new DescribeShareGroupOffsetsResponse
        {
            Groups =
            [
                new()
                {
                    GroupId = "g",
                    Topics = [new() { TopicName = "t", TopicId = TopicId, Partitions = [new() { PartitionIndex = 0, StartOffset = 7, LeaderEpoch = 0 }] }],
                },
            ],
        };
        const string head = "00000000 02 0267 02 0274 " + TopicIdHex + " 02 00000000 0000000000000007 00000000";
        const string tail = "0000 00 00 00 0000 00 00 00";
        Assert.Equal(Hex($"{head} {tail}"), MessageCatalog.Encode(response, 0));
        Assert.Equal(Hex($"{head} FFFFFFFFFFFFFFFF {tail}"), MessageCatalog.Encode(response, 1));
        var partition = Assert.Single(Assert.Single(Assert.Single(Decode<DescribeShareGroupOffsetsResponse>(Hex($"{head} {tail}"), 0).Groups).Topics).Partitions);
        Assert.Equal(-1L, partition.Lag);
    }

    [Fact]
    public void The_registry_knows_the_share_apis_and_their_ranges()
    {
        (ApiKey Key, short Low, short High)[] expected =
        [
            (ApiKey.ShareGroupHeartbeat, 1, 1),
            (ApiKey.ShareGroupDescribe, 1, 1),
            (ApiKey.ShareFetch, 1, 2),
            (ApiKey.ShareAcknowledge, 1, 2),
            (ApiKey.DescribeShareGroupOffsets, 0, 1),
            (ApiKey.AlterShareGroupOffsets, 0, 0),
            (ApiKey.DeleteShareGroupOffsets, 0, 0),
        ];
        foreach (var (key, low, high) in expected)
        {
            Assert.True(ApiMessages.TryGetVersions(key, out short lowest, out short highest), key.ToString());
            Assert.Equal((low, high), (lowest, highest));
            Assert.True(ApiMessages.IsFlexible(key, low));
        }
    }
}
