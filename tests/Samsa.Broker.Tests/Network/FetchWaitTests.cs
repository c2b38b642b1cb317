using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests.Network;

/// <summary>
/// A fetch waiting on max_wait_ms ends when its client leaves (no socket held for a client that is
/// gone), is answered when the broker stops, and its check for a departed client consumes nothing
/// of a request the client pipelined behind it.
/// </summary>
public sealed class FetchWaitTests : IAsyncLifetime
{
    private const int LongWaitMs = 60_000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-fetchwait-" + Guid.NewGuid().ToString("N"));
    private SamsaBroker _broker = null!;
    private bool _disposed;

    public async Task InitializeAsync()
    {
        _broker = await SamsaBroker.StartAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1 });
        Assert.Equal(ErrorCode.None, _broker.Topics.Create("waits", 1).Error);
    }

    public async Task DisposeAsync()
    {
        if (!_disposed)
            await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<TcpClient> Connect()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _broker.Port);
        return client;
    }

    private static byte[] Frame(IRequest request, short version, int correlationId)
    {
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, request, version, correlationId, "fetch-wait-test");
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] LongFetch(int correlationId) => Frame(new FetchRequest
    {
        ReplicaId = -1,
        MaxWaitMs = LongWaitMs,
        MinBytes = 1,
        MaxBytes = 1 << 20,
        SessionEpoch = -1,
        Topics = [new() { Topic = "waits", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
    }, 12, correlationId);

    private static async Task<(int Correlation, byte[] Body)?> ReadFrame(NetworkStream stream, TimeSpan within)
    {
        var size = new byte[4];
        try
        {
            await stream.ReadExactlyAsync(size).AsTask().WaitAsync(within);
            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
            await stream.ReadExactlyAsync(body).AsTask().WaitAsync(within);
            return (BinaryPrimitives.ReadInt32BigEndian(body), body);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>No data in the topic: a fetch being handled is in its wait.</summary>
    private async Task FetchIsWaiting()
    {
        for (var clock = Stopwatch.StartNew(); _broker.BusyConnectionCount != 1; await Task.Delay(10))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the fetch reached its wait");
    }

    [Fact]
    public async Task A_waiting_fetch_whose_client_closed_frees_its_connection_before_max_wait()
    {
        var client = await Connect();
        await client.GetStream().WriteAsync(LongFetch(1));
        await FetchIsWaiting();
        client.Dispose();
        // Without the check the socket stays for the whole 60 s wait.
        var clock = Stopwatch.StartNew();
        while (_broker.ConnectionCount != 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(LongWaitMs / 2), "the connection of a departed client was still held");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_request_pipelined_behind_a_waiting_fetch_is_read_whole_and_answered_after_it()
    {
        using var client = await Connect();
        var stream = client.GetStream();
        await stream.WriteAsync(LongFetch(1));
        await stream.WriteAsync(Frame(new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }, 3, 2));

        // Data arrives through another connection: the fetch answers, then the pipelined request.
        using var producer = await Connect();
        using var batch = new RecordBatchBuilder();
        batch.Add(1000, "k"u8, false, "v"u8, false);
        using var bytes = new PooledBufferWriter();
        batch.Build(bytes);
        await producer.GetStream().WriteAsync(Frame(new ProduceRequest
        {
            Acks = 1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = "waits", PartitionData = [new() { Index = 0, Records = bytes.WrittenMemory.ToArray() }] }],
        }, 9, 9));
        Assert.NotNull(await ReadFrame(producer.GetStream(), TimeSpan.FromSeconds(10)));

        var fetched = await ReadFrame(stream, TimeSpan.FromSeconds(LongWaitMs / 2000));
        Assert.Equal(1, fetched?.Correlation);
        var fetch = KafkaFrame.ReadResponse<FetchResponse>(fetched!.Value.Body, 12, out _);
        Assert.Equal(1, fetch.Responses.Single().Partitions.Single().HighWatermark);
        var versions = await ReadFrame(stream, TimeSpan.FromSeconds(10));
        Assert.Equal(2, versions?.Correlation);
        Assert.Equal(ErrorCode.None, KafkaFrame.ReadResponse<ApiVersionsResponse>(versions!.Value.Body, 3, out _).ErrorCode);
    }

    [Fact]
    public async Task A_waiting_fetch_is_answered_when_the_broker_stops()
    {
        using var client = await Connect();
        var stream = client.GetStream();
        await stream.WriteAsync(LongFetch(1));
        await FetchIsWaiting();
        var reading = ReadFrame(stream, TimeSpan.FromSeconds(LongWaitMs / 2000));
        _disposed = true;
        await _broker.DisposeAsync();
        var answer = await reading;
        Assert.Equal(1, answer?.Correlation);
        Assert.Equal(ErrorCode.None, KafkaFrame.ReadResponse<FetchResponse>(answer!.Value.Body, 12, out _).Responses.Single().Partitions.Single().ErrorCode);
    }
}
