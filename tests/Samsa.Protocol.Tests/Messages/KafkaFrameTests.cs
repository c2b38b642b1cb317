using System.Buffers.Binary;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Tests.Messages;

public class KafkaFrameTests
{
    [Theory]
    [InlineData((short)5, 1)]
    [InlineData((short)6, 2)]
    [InlineData((short)9, 2)]
    public void Request_frames_carry_size_header_and_body(short version, int expectedHeaderVersion)
    {
        var request = new JoinGroupRequest { GroupId = "orders", SessionTimeoutMs = 45000, MemberId = "", ProtocolType = "consumer" };
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, request, version, correlationId: 42, clientId: "app");

        var frame = buffer.WrittenMemory;
        Assert.Equal(frame.Length - 4, BinaryPrimitives.ReadInt32BigEndian(frame.Span));
        var body = frame[4..];
        var (key, v, correlation) = KafkaFrame.PeekRequest(body.Span);
        Assert.Equal((ApiKey.JoinGroup, version, 42), (key, v, correlation));
        Assert.Equal(expectedHeaderVersion, ApiMessages.RequestHeaderVersion(key, v));

        var decoded = Assert.IsType<JoinGroupRequest>(KafkaFrame.ReadRequest(body, out var header));
        Assert.Equal("app", header.ClientId);
        Assert.Equal("orders", decoded.GroupId);
        Assert.Equal(45000, decoded.SessionTimeoutMs);
    }

    [Fact]
    public void Response_frames_round_trip_with_the_correlation_id()
    {
        var response = new HeartbeatResponse { ErrorCode = ErrorCode.RebalanceInProgress };
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteResponse(buffer, response, 4, correlationId: 7);
        var decoded = KafkaFrame.ReadResponse<HeartbeatResponse>(buffer.WrittenMemory[4..], 4, out int correlation);
        Assert.Equal(7, correlation);
        Assert.Equal(ErrorCode.RebalanceInProgress, decoded.ErrorCode);
    }

    [Fact]
    public void Unsupported_request_versions_are_protocol_errors_and_trailing_bytes_are_ignored_as_kafka_does()
    {
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, new HeartbeatRequest { GroupId = "g", MemberId = "m" }, 4, 1, null);
        byte[] body = buffer.WrittenSpan[4..].ToArray();

        byte[] tooNew = (byte[])body.Clone();
        BinaryPrimitives.WriteInt16BigEndian(tooNew.AsSpan(2), 99);
        Assert.Throws<ProtocolException>(() => KafkaFrame.ReadRequest(tooNew, out _));

        byte[] trailing = [.. body, 1, 0, 0];
        Assert.IsType<HeartbeatRequest>(KafkaFrame.ReadRequest(trailing, out _, out int ignored));
        Assert.Equal(3, ignored);
        Assert.Throws<ProtocolException>(() => KafkaFrame.PeekRequest(body.AsSpan(0, 5)));
    }

    [Fact]
    public void ApiVersions_responses_always_use_header_v0_so_any_client_can_read_them()
    {
        Assert.Equal(0, ApiMessages.ResponseHeaderVersion(ApiKey.ApiVersions, 4));
        Assert.Equal(2, ApiMessages.RequestHeaderVersion(ApiKey.ApiVersions, 3));
        Assert.Equal(1, ApiMessages.ResponseHeaderVersion(ApiKey.Metadata, 9));
        Assert.Equal(0, ApiMessages.ResponseHeaderVersion(ApiKey.Metadata, 8));
    }

    [Theory]
    [InlineData(ApiKey.Produce, 0, 13)]
    [InlineData(ApiKey.Fetch, 0, 18)]
    [InlineData(ApiKey.ListOffsets, 0, 11)]
    [InlineData(ApiKey.Metadata, 0, 13)]
    [InlineData(ApiKey.OffsetCommit, 0, 10)]
    [InlineData(ApiKey.OffsetFetch, 0, 10)]
    [InlineData(ApiKey.JoinGroup, 0, 9)]
    [InlineData(ApiKey.ApiVersions, 0, 4)]
    [InlineData(ApiKey.ConsumerGroupHeartbeat, 0, 1)]
    [InlineData(ApiKey.DescribeAcls, 0, 3)]
    [InlineData(ApiKey.CreateAcls, 0, 3)]
    [InlineData(ApiKey.DeleteAcls, 0, 3)]
    public void Schemas_cover_old_client_versions_and_kafka_4_maxima(ApiKey key, short low, short high)
    {
        Assert.True(ApiMessages.TryGetVersions(key, out short l, out short h));
        Assert.Equal((low, high), (l, h));
    }
}
