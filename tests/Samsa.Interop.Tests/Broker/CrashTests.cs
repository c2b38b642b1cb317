using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Samsa.Broker;

namespace Samsa.Interop.Tests.Broker;

/// <summary>A real `samsa broker` process killed with SIGKILL while a producer writes to it.</summary>
public class CrashTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Every_acknowledged_record_survives_a_kill_9_of_the_broker()
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-crash-" + Guid.NewGuid().ToString("N"));
        int port = FreePort();
        string cli = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{cli}\" broker --listen 127.0.0.1:{port} --data-dir \"{dir}\" --override log.segment.bytes=2048")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var acknowledged = new List<long>();
        try
        {
            // Wait for the "listening" line: the process is ready when it says so.
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))) is not null && !line.Contains("listening", StringComparison.Ordinal))
            {
            }
            Assert.NotNull(line);

            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = $"127.0.0.1:{port}",
                Acks = Acks.Leader,
                MessageTimeoutMs = 5000,
                LingerMs = 0,
            }).Build();
            for (int i = 0; i < 200; i++)
            {
                var d = await producer.ProduceAsync("crash", new Message<Null, string> { Value = $"r{i}" });
                acknowledged.Add(d.Offset.Value);
                if (i == 150)
                {
                    // Kill while more produce requests are in flight.
                    for (int j = 0; j < 20; j++)
                        producer.Produce("crash", new Message<Null, string> { Value = $"late{j}" });
                    process.Kill(entireProcessTree: true);
                    break;
                }
            }
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }

        // Small segments: the log rolled several times, so the restart takes the rolled segments from
        // their index files and checks the active one's tail batch by batch.
        string partition = Path.Combine(dir, "crash-0");
        Assert.True(Directory.GetFiles(partition, "*.log").Length >= 3);
        Assert.Equal(Directory.GetFiles(partition, "*.log").Length - 1, Directory.GetFiles(partition, "*.index").Length);
        var broker = await SamsaBroker.StartAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = dir, SegmentBytes = 2048 });
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "verify" }).Build();
        consumer.Assign(new TopicPartitionOffset("crash", 0, Offset.Beginning));
        var seen = new HashSet<long>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!acknowledged.All(seen.Contains) && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
                seen.Add(r.Offset.Value);
        }
        consumer.Close();
        await broker.DisposeAsync();
        Directory.Delete(dir, recursive: true);
        Assert.All(acknowledged, o => Assert.Contains(o, seen));
    }
}
