using System.Buffers.Binary;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using Samsa.TestKit;

namespace Samsa.Interop.Tests.Protocol;

/// <summary>
/// Requests we encode, sent to librdkafka's mock cluster (an independent Kafka implementation), and
/// its responses decoded by our generated messages.
/// </summary>
public sealed class MockClusterDecodeTests : IDisposable
{
    private readonly MockCluster _mock = new(brokers: 3);
    private int _correlation;

    public void Dispose() => _mock.Dispose();

    private async Task<TResponse> Send<TResponse>(NetworkStream stream, IRequest request, short version)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        int correlation = ++_correlation;
        using (var buffer = new PooledBufferWriter())
        {
            KafkaFrame.WriteRequest(buffer, request, version, correlation, "samsa-test");
            await stream.WriteAsync(buffer.WrittenMemory);
        }
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var response = KafkaFrame.ReadResponse<TResponse>(body, version, out int got);
        Assert.Equal(correlation, got);
        return response;
    }

    private async Task<(TcpClient, NetworkStream)> Connect(int index = 0)
    {
        var address = _mock.BootstrapServers.Split(',')[index];
        var client = new TcpClient();
        await client.ConnectAsync(address[..address.LastIndexOf(':')], int.Parse(address[(address.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return (client, client.GetStream());
    }

    [Fact]
    public async Task Mock_cluster_responses_decode_for_metadata_coordinators_produce_and_fetch()
    {
        _mock.CreateTopic("decoded", 4);
        _mock.SetCoordinator("group", "g1", 2);
        var (client, stream) = await Connect();
        using var _ = client;

        // Ask with our newest ApiVersions; a broker that does not know it answers v0 with its ranges
        // (KIP-511), and we retry with the newest version both sides know.
        var versions = await Send<ApiVersionsResponse>(stream, new ApiVersionsRequest { ClientSoftwareName = "samsa", ClientSoftwareVersion = "0" }, ApiVersionsRequest.HighestVersion);
        if (versions.ErrorCode == ErrorCode.UnsupportedVersion)
        {
            // librdkafka's rule: the broker's max for key 18 if it sent one, else v0.
            short retry = versions.ApiKeys.SingleOrDefault(k => k.ApiKey == (short)ApiKey.ApiVersions)?.MaxVersion ?? 0;
            versions = await Send<ApiVersionsResponse>(stream, new ApiVersionsRequest { ClientSoftwareName = "samsa", ClientSoftwareVersion = "0" }, retry);
        }
        Assert.Equal(ErrorCode.None, versions.ErrorCode);
        short V(ApiKey key, short ours) => Math.Min(ours, versions.ApiKeys.Single(k => k.ApiKey == (short)key).MaxVersion);

        var metadata = await Send<MetadataResponse>(stream, new MetadataRequest { Topics = [new() { Name = "decoded" }] }, V(ApiKey.Metadata, MetadataRequest.HighestVersion));
        Assert.Equal(3, metadata.Brokers.Count);
        var topic = Assert.Single(metadata.Topics);
        Assert.Equal(4, topic.Partitions.Count);

        var coordinator = await Send<FindCoordinatorResponse>(stream, new FindCoordinatorRequest { Key = "g1", KeyType = 0 }, 3);
        Assert.Equal((ErrorCode.None, 2), (coordinator.ErrorCode, coordinator.NodeId));
        var batched = await Send<FindCoordinatorResponse>(stream, new FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = ["g1"] }, V(ApiKey.FindCoordinator, 4));
        if (V(ApiKey.FindCoordinator, 4) >= 4)
            Assert.Equal(2, batched.Coordinators.Single().NodeId);

        _mock.PushRequestErrors((short)ApiKey.FindCoordinator, (short)ErrorCode.CoordinatorNotAvailable);
        var refused = await Send<FindCoordinatorResponse>(stream, new FindCoordinatorRequest { Key = "g1", KeyType = 0 }, 3);
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, refused.ErrorCode);

        // Produce to partition 0's leader, then fetch the records back.
        int leader = topic.Partitions.Single(p => p.PartitionIndex == 0).LeaderId;
        var leaderAddress = metadata.Brokers.Single(b => b.NodeId == leader);
        using var leaderClient = new TcpClient();
        await leaderClient.ConnectAsync(leaderAddress.Host, leaderAddress.Port);
        var leaderStream = leaderClient.GetStream();
        await Send<ApiVersionsResponse>(leaderStream, new ApiVersionsRequest(), 0);

        using var builder = new RecordBatchBuilder { Compression = CompressionType.Lz4 };
        for (int i = 0; i < 5; i++)
            builder.Add(1_700_000_000_000 + i, "k"u8, false, System.Text.Encoding.UTF8.GetBytes($"value-{i}"), false);
        using var batch = new PooledBufferWriter();
        builder.Build(batch);
        var produced = await Send<ProduceResponse>(leaderStream, new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = "decoded", PartitionData = [new() { Index = 0, Records = batch.WrittenMemory.ToArray() }] }],
        }, V(ApiKey.Produce, 9));
        var pr = produced.Responses.Single().PartitionResponses.Single();
        Assert.Equal((ErrorCode.None, 0L), (pr.ErrorCode, pr.BaseOffset));

        var fetched = await Send<FetchResponse>(leaderStream, new FetchRequest
        {
            MaxWaitMs = 100,
            MinBytes = 1,
            MaxBytes = 1 << 20,
            SessionEpoch = -1,
            Topics = [new() { Topic = "decoded", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        }, V(ApiKey.Fetch, 12));
        var data = fetched.Responses.Single().Partitions.Single();
        Assert.Equal((ErrorCode.None, 5L), (data.ErrorCode, data.HighWatermark));
        ReadOnlyMemory<byte> records = data.Records!.Value;
        var values = new List<string>();
        using var scratch = new PooledBufferWriter();
        while (RecordBatch.TryReadNext(ref records, out var b))
        {
            Assert.True(b.CrcMatches);
            foreach (var r in b.GetRecords(scratch))
                values.Add(System.Text.Encoding.UTF8.GetString(r.Value!.Value.Span));
        }
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"value-{i}"), values);
    }
}
