using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Client.Errors;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.TestKit;

namespace Samsa.Client.Tests.Network;

public sealed class BrokerConnectionTests
{
    private static async Task<BrokerConnection> ConnectAsync(MockCluster cluster)
    {
        var first = cluster.BootstrapServers.Split(',')[0];
        int colon = first.LastIndexOf(':');
        return await BrokerConnection.ConnectAsync(first[..colon], int.Parse(first[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture),
            "test", TimeSpan.FromSeconds(30), TimeProvider.System, NullLogger.Instance, CancellationToken.None);
    }

    [Fact]
    public async Task Negotiates_versions_with_the_mock_cluster()
    {
        using var cluster = new MockCluster(3);
        await using var connection = await ConnectAsync(cluster);

        Assert.True(connection.TryGetVersion(ApiKey.Metadata, out var metadata));
        Assert.True(metadata >= 1);
        Assert.True(connection.TryGetVersion(ApiKey.ApiVersions, out _));
    }

    [Fact]
    public async Task Pipelined_requests_all_complete_with_their_own_responses()
    {
        using var cluster = new MockCluster(3);
        cluster.CreateTopic("t", 3);
        await using var connection = await ConnectAsync(cluster);
        short version = connection.GetVersion(ApiKey.ApiVersions);

        var tasks = Enumerable.Range(0, 20)
            .Select(_ => connection.SendAsync<ApiVersionsRequest, ApiVersionsResponse>(new ApiVersionsRequest { ClientSoftwareName = "x", ClientSoftwareVersion = "1" }, version, CancellationToken.None).AsTask())
            .ToArray();
        var responses = await Task.WhenAll(tasks);

        Assert.All(responses, r => Assert.Equal(ErrorCode.None, r.ErrorCode));
    }

    [Fact]
    public async Task Broker_down_fails_requests_retriably()
    {
        using var cluster = new MockCluster(1);
        await using var connection = await ConnectAsync(cluster);
        short version = connection.GetVersion(ApiKey.ApiVersions);

        cluster.SetBrokerDown(1);
        var error = await Assert.ThrowsAnyAsync<KafkaException>(async () =>
        {
            // The mock closes the socket on set-down; the next exchange observes it.
            for (int i = 0; i < 100; i++)
                await connection.SendAsync<ApiVersionsRequest, ApiVersionsResponse>(new ApiVersionsRequest(), version, CancellationToken.None);
        });
        Assert.True(error.IsRetriable);
        Assert.IsType<KafkaNetworkException>(error);
        Assert.False(connection.IsConnected);
    }
}
