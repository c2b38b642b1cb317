using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace Samsa.Broker.Tests.Network;

public class IdleTimeoutTests
{
    [Fact]
    public async Task Idle_connections_are_closed_after_connections_max_idle_ms()
    {
        var time = new FakeTimeProvider();
        string dir = Path.Combine(Path.GetTempPath(), "samsa-idle-" + Guid.NewGuid().ToString("N"));
        var broker = await SamsaBroker.StartAsync(new BrokerOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            DataDirectory = dir,
            ConnectionsMaxIdle = TimeSpan.FromSeconds(10),
            OffsetsTopicPartitions = 1,
            TimeProvider = time,
            ShutdownTimeout = TimeSpan.Zero,
        });
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, broker.Port);
            var stream = client.GetStream();
            // The broker registers the connection asynchronously; it counts once accepted.
            var until = DateTime.UtcNow.AddSeconds(10);
            while (broker.ConnectionCount == 0 && DateTime.UtcNow < until)
                await Task.Yield();
            Assert.Equal(1, broker.ConnectionCount);

            time.Advance(TimeSpan.FromSeconds(6)); // the idle check runs, but 6 s < 10 s
            Assert.Equal(1, broker.ConnectionCount);
            time.Advance(TimeSpan.FromSeconds(6)); // 12 s idle: closed
            int n = await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, n);
        }
        finally
        {
            await broker.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
