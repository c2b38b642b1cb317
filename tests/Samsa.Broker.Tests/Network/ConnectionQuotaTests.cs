using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Samsa.Broker.Tests.Network;

/// <summary>max.connections makes new clients wait for a slot; max.connections.per.ip closes the extra one at once.</summary>
public sealed class ConnectionQuotaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-quota-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<SamsaBroker> Start(int maxConnections = int.MaxValue, int perIp = int.MaxValue) =>
        SamsaBroker.StartAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1, MaxConnections = maxConnections, MaxConnectionsPerIp = perIp });

    private static async Task Until(Func<bool> condition, string what)
    {
        for (var clock = Stopwatch.StartNew(); !condition(); await Task.Delay(10))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), what);
    }

    /// <summary>True when the broker closed the connection (a read ends at once with nothing).</summary>
    private static async Task<bool> ClosedByBroker(TcpClient client)
    {
        var read = client.GetStream().ReadAsync(new byte[1]).AsTask();
        return await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read && await read == 0;
    }

    [Fact]
    public async Task Over_max_connections_per_ip_the_new_connection_is_closed_and_counted()
    {
        await using var broker = await Start(perIp: 2);
        using var a = new TcpClient();
        using var b = new TcpClient();
        using var c = new TcpClient();
        await a.ConnectAsync(IPAddress.Loopback, broker.Port);
        await b.ConnectAsync(IPAddress.Loopback, broker.Port);
        await Until(() => broker.ConnectionCount == 2, "two connections are taken");
        await c.ConnectAsync(IPAddress.Loopback, broker.Port);
        Assert.True(await ClosedByBroker(c), "the third connection from the address is closed");
        Assert.Equal(1, broker.RefusedConnections);
        Assert.Equal(2, broker.ConnectionCount);

        a.Dispose();
        await Until(() => broker.ConnectionCount == 1, "a closed connection gives its address a slot back");
        using var d = new TcpClient();
        await d.ConnectAsync(IPAddress.Loopback, broker.Port);
        await Until(() => broker.ConnectionCount == 2, "a new connection is taken again");
    }

    [Fact]
    public async Task At_max_connections_a_new_client_waits_until_one_closes()
    {
        await using var broker = await Start(maxConnections: 1);
        using var first = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, broker.Port);
        await Until(() => broker.ConnectionCount == 1, "the first connection is taken");
        using var second = new TcpClient();
        await second.ConnectAsync(IPAddress.Loopback, broker.Port); // completes in the listen backlog
        Assert.Equal(1, broker.ConnectionCount);
        first.Dispose();
        await Until(() => broker.ConnectionCount == 1 && broker.RefusedConnections == 0, "the waiting client is taken once the first closed");
        // The waiting connection is now served: an ApiVersions request gets its answer.
        var stream = second.GetStream();
        using var buffer = new Samsa.Protocol.Primitives.PooledBufferWriter();
        Samsa.Protocol.Messages.KafkaFrame.WriteRequest(buffer, new Samsa.Protocol.Messages.ApiVersionsRequest(), 0, 1, "t");
        await stream.WriteAsync(buffer.WrittenMemory);
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
