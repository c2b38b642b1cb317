using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.TestKit;

namespace Samsa.Client.Tests.Network;

/// <summary>Our connection against librdkafka's mock cluster, an implementation we did not write.</summary>
public sealed class BrokerConnectionTests : IDisposable
{
    private readonly MockCluster _mock = new(brokers: 2);

    public void Dispose() => _mock.Dispose();

    private (string Host, int Port) Broker(int index)
    {
        var endpoint = IPEndPoint.Parse(_mock.BootstrapServers.Split(',')[index]);
        return (endpoint.Address.ToString(), endpoint.Port);
    }

    private Task<BrokerConnection> Connect(int index = 0, TimeProvider? time = null)
    {
        var (host, port) = Broker(index);
        return BrokerConnection.ConnectAsync(host, port, "samsa-test", time ?? TimeProvider.System, TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    [Fact]
    public async Task Versions_are_negotiated_even_when_the_broker_does_not_know_our_ApiVersions()
    {
        await using var connection = await Connect();
        // The mock serves ApiVersions up to v2 and Metadata up to v13 (see the mock decode test).
        Assert.True(connection.TryGetVersion(ApiKey.Metadata, out short metadata));
        Assert.Equal(13, metadata);
        Assert.True(connection.TryGetVersion(ApiKey.Fetch, out short fetch));
        Assert.InRange(fetch, 4, FetchRequest.HighestVersion);
        Assert.False(connection.TryGetVersion(ApiKey.DescribeCluster, out _));
    }

    [Fact]
    public async Task Pipelined_requests_get_their_own_responses()
    {
        _mock.CreateTopic("pipe", 3);
        await using var connection = await Connect();
        var requests = Enumerable.Range(0, 50)
            .Select(i => connection.SendAsync<MetadataResponse>(new MetadataRequest { Topics = i % 2 == 0 ? [new() { Name = "pipe" }] : [] }, CancellationToken.None))
            .ToList();
        var responses = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 50; i++)
            Assert.Equal(i % 2 == 0 ? 1 : 0, responses[i].Topics.Count);
    }

    [Fact]
    public async Task A_broker_going_down_fails_in_flight_and_later_requests_as_retriable()
    {
        await using var connection = await Connect(1);
        _mock.SetBrokerDown(2);
        var ex = await Assert.ThrowsAsync<KafkaConnectionException>(async () =>
        {
            // The mock closes the connection; the first or a following request fails with it.
            for (int i = 0; i < 100; i++)
                await connection.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        });
        Assert.True(ex.IsRetriable);
        _mock.SetBrokerUp(2);
        await using var again = await Connect(1);
        Assert.NotNull(await again.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, CancellationToken.None));
    }

    [Fact]
    public async Task A_request_without_an_answer_times_out_on_request_timeout_ms_and_closes_the_connection()
    {
        // A "broker" that accepts and answers ApiVersions, then goes silent.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var time = new FakeTimeProvider();
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            using var stream = new NetworkStream(socket);
            var size = new byte[4];
            await stream.ReadExactlyAsync(size);
            var body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(size)];
            await stream.ReadExactlyAsync(body);
            var (_, _, correlation) = KafkaFrame.PeekRequest(body);
            using var frame = new Samsa.Protocol.Primitives.PooledBufferWriter();
            KafkaFrame.WriteResponse(frame, new ApiVersionsResponse
            {
                ApiKeys = [new() { ApiKey = (short)ApiKey.ApiVersions, MinVersion = 0, MaxVersion = 4 }, new() { ApiKey = (short)ApiKey.Metadata, MinVersion = 0, MaxVersion = 12 }],
            }, 4, correlation);
            await stream.WriteAsync(frame.WrittenMemory);
            // Then silence: read (and ignore) requests until the client hangs up.
            var sink = new byte[256];
            while (await stream.ReadAsync(sink) > 0)
            {
            }
        });
        await using var connection = await BrokerConnection.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, "t", time, TimeSpan.FromSeconds(30), CancellationToken.None);
        var pending = connection.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, CancellationToken.None);
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(31));
        var ex = await Assert.ThrowsAsync<KafkaConnectionException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("request.timeout.ms", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KafkaConnectionException>(() => connection.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, CancellationToken.None));
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
