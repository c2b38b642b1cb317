using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Broker.Tests.Network;

public sealed class ConnectionTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-conn-" + Guid.NewGuid().ToString("N"));
    private SamsaBroker _broker = null!;

    public async Task InitializeAsync() =>
        _broker = await SamsaBroker.StartAsync(new BrokerOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            DataDirectory = _dir,
            SocketRequestMaxBytes = 1024 * 1024,
            OffsetsTopicPartitions = 2,
        });

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<NetworkStream> Connect()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _broker.Port);
        return client.GetStream();
    }

    private static async Task<byte[]?> RoundTrip(NetworkStream stream, byte[] frame)
    {
        await stream.WriteAsync(frame);
        return await ReadFrame(stream);
    }

    private static async Task<byte[]?> ReadFrame(NetworkStream stream)
    {
        var size = new byte[4];
        if (!await ReadExactly(stream, size))
            return null;
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        return await ReadExactly(stream, body) ? body : null;
    }

    private static async Task<bool> ReadExactly(NetworkStream stream, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (n == 0)
                return false;
            read += n;
        }
        return true;
    }

    private static byte[] Request(IRequest request, short version, int correlationId)
    {
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, request, version, correlationId, "test");
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task ApiVersions_advertises_the_apis_and_answers_unknown_versions_with_v0()
    {
        using var stream = await Connect();
        var body = await RoundTrip(stream, Request(new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }, 3, 1));
        var response = KafkaFrame.ReadResponse<ApiVersionsResponse>(body!, 3, out int correlation);
        Assert.Equal(1, correlation);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.Produce && k.MinVersion == 0);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.JoinGroup && k.MaxVersion == 9);

        // A version from the future: header v0 + v0 body with UNSUPPORTED_VERSION and our ranges (KIP-511).
        var future = Request(new ApiVersionsRequest(), 3, 2);
        BinaryPrimitives.WriteInt16BigEndian(future.AsSpan(6), 99);
        var fallback = KafkaFrame.ReadResponse<ApiVersionsResponse>((await RoundTrip(stream, future))!, 0, out correlation);
        Assert.Equal((2, ErrorCode.UnsupportedVersion), (correlation, fallback.ErrorCode));
        Assert.NotEmpty(fallback.ApiKeys);
    }

    [Fact]
    public async Task An_oversized_frame_closes_that_connection_only()
    {
        using var bad = await Connect();
        using var good = await Connect();
        var huge = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(huge, int.MaxValue); // claims 2 GiB; we send 4 bytes of it
        await bad.WriteAsync(huge);
        Assert.Null(await ReadFrame(bad)); // closed without waiting for (or buffering) the body

        var body = await RoundTrip(good, Request(new ApiVersionsRequest(), 0, 7));
        Assert.NotNull(body);
    }

    [Fact]
    public async Task A_malformed_request_closes_that_connection_and_the_broker_keeps_serving()
    {
        using var bad = await Connect();
        var frame = Request(new MetadataRequest { Topics = null }, 9, 3);
        // Claim a topic array of 100 million entries in a frame that holds a handful of bytes.
        var broken = frame.Concat(new byte[] { 0 }).ToArray();
        BinaryPrimitives.WriteInt32BigEndian(broken, broken.Length - 4);
        broken[^2] = 0xFF;
        Assert.Null(await RoundTrip(bad, broken));

        using var good = await Connect();
        var body = await RoundTrip(good, Request(new MetadataRequest { Topics = null }, 9, 4));
        var metadata = KafkaFrame.ReadResponse<MetadataResponse>(body!, 9, out _);
        Assert.Single(metadata.Brokers);
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order()
    {
        using var stream = await Connect();
        var frames = Enumerable.Range(100, 20).SelectMany(i => Request(new ApiVersionsRequest(), 2, i)).ToArray();
        await stream.WriteAsync(frames);
        for (int i = 100; i < 120; i++)
        {
            var body = await ReadFrame(stream);
            KafkaFrame.ReadResponse<ApiVersionsResponse>(body!, 2, out int correlation);
            Assert.Equal(i, correlation);
        }
    }
}

public sealed class GarbageTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-garbage-" + Guid.NewGuid().ToString("N"));
    private SamsaBroker _broker = null!;

    public async Task InitializeAsync() =>
        _broker = await SamsaBroker.StartAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1 });

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<bool> ClosedAfter(byte[] bytes, bool halfClose = false)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _broker.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(bytes);
        if (halfClose)
            client.Client.Shutdown(SocketShutdown.Send);
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10))) > 0)
        {
        }
        return n == 0;
    }

    private async Task StillServes()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _broker.Port);
        var stream = client.GetStream();
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, new DescribeClusterRequest(), 0, 5, "after");
        await stream.WriteAsync(buffer.WrittenMemory);
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body);
        var cluster = KafkaFrame.ReadResponse<DescribeClusterResponse>(body, 0, out _);
        Assert.Equal(_broker.Port, cluster.Brokers.Single().Port);
    }

    [Fact]
    public async Task Random_garbage_closes_the_connection_and_others_carry_on()
    {
        var random = new Random(3);
        for (int i = 0; i < 20; i++)
        {
            var garbage = new byte[random.Next(12, 200)];
            random.NextBytes(garbage);
            // A plausible small size so the body is read and decoded, not refused up front.
            BinaryPrimitives.WriteInt32BigEndian(garbage, garbage.Length - 4);
            BinaryPrimitives.WriteInt16BigEndian(garbage.AsSpan(4), (short)ApiKey.Metadata);
            BinaryPrimitives.WriteInt16BigEndian(garbage.AsSpan(6), 9);
            Assert.True(await ClosedAfter(garbage));
        }
        await StillServes();
    }

    [Fact]
    public async Task Unknown_api_keys_and_truncated_frames_close_only_that_connection()
    {
        var unknown = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(unknown, 12);
        BinaryPrimitives.WriteInt16BigEndian(unknown.AsSpan(4), 999);
        Assert.True(await ClosedAfter(unknown));

        var truncated = new byte[10];
        BinaryPrimitives.WriteInt32BigEndian(truncated, 100); // says 100 bytes, sends 6, then stops
        Assert.True(await ClosedAfter(truncated, halfClose: true));
        await StillServes();
    }
}
