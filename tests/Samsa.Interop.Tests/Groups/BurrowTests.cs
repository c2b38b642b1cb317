using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Confluent.Kafka;

namespace Samsa.Interop.Tests.Groups;

/// <summary>
/// LinkedIn's Burrow (Debian's 1.2.1, with the ZooKeeper it needs for itself; both installed by
/// .ci/install-deps) reads committed offsets from our <c>__consumer_offsets</c> in Kafka's record
/// formats and the log-end offsets from the broker, and reports each partition's lag.
/// Burrow 1.2.1 predates group metadata value v3 (Kafka 2.3, static membership), so it skips our
/// group metadata records as it skips a current Kafka's, and cannot name partition owners.
/// </summary>
public sealed class BurrowTests
{
    [Fact]
    public async Task Burrow_reads_committed_offsets_from_consumer_offsets_and_reports_lag()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "bw", NumPartitions = 2, ReplicationFactor = 1 }]);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            for (int i = 0; i < 30; i++)
                producer.Produce(new TopicPartition("bw", i < 20 ? 0 : 1), new Message<Null, string> { Value = $"v{i}" });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "burrowed" }).Build())
        {
            consumer.Assign([new TopicPartition("bw", 0), new TopicPartition("bw", 1)]);
            consumer.Commit([new TopicPartitionOffset("bw", 0, 12), new TopicPartitionOffset("bw", 1, 4)]);
        }

        string dir = Path.Combine(Path.GetTempPath(), "samsa-burrow-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "zk"));
        int zkPort = FreePort(), httpPort = FreePort();
        File.WriteAllText(Path.Combine(dir, "zoo.cfg"), $"""
            tickTime=2000
            dataDir={dir}/zk
            clientPort={zkPort}
            clientPortAddress=127.0.0.1
            admin.enableServer=false
            4lw.commands.whitelist=srvr
            """);
        File.WriteAllText(Path.Combine(dir, "burrow.toml"), $"""
            [general]
            pidfile="{dir}/burrow.pid"
            [zookeeper]
            servers=["127.0.0.1:{zkPort}"]
            timeout=6
            root-path="/burrow"
            [client-profile.samsa]
            client-id="burrow"
            kafka-version="2.0.0"
            [cluster.samsa]
            class-name="kafka"
            servers=["{broker.Bootstrap}"]
            client-profile="samsa"
            topic-refresh=2
            offset-refresh=1
            [consumer.samsa]
            class-name="kafka"
            cluster="samsa"
            servers=["{broker.Bootstrap}"]
            client-profile="samsa"
            offsets-topic="__consumer_offsets"
            start-latest=false
            [httpserver.default]
            address="127.0.0.1:{httpPort}"
            [storage.default]
            class-name="inmemory"
            workers=4
            intervals=10
            expire-group=604800
            min-distance=1
            """);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var zookeeper = Start("/usr/share/zookeeper/bin/zkServer.sh", $"start-foreground {dir}/zoo.cfg", dir, output);
        Process? burrow = null;
        try
        {
            // Burrow gives up at once when its ZooKeeper does not serve yet (listening is not enough).
            await Eventually.True(() => IsServing(zkPort) || zookeeper.HasExited, "ZooKeeper serves", 60);
            Assert.False(zookeeper.HasExited, "ZooKeeper exited:\n" + string.Join("\n", output));
            burrow = Start("/usr/bin/Burrow", $"--config-dir {dir}", dir, output);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            JsonElement? status = null;
            string last = "(no answer)";
            // Burrow starts (after ZooKeeper), reads __consumer_offsets and refreshes log-end offsets on its own schedule.
            await Eventually.True(() =>
            {
                if (burrow.HasExited)
                    return true; // reported below
                try
                {
                    var body = http.GetStringAsync($"http://127.0.0.1:{httpPort}/v3/kafka/samsa/consumer/burrowed/lag").GetAwaiter().GetResult();
                    last = body;
                    var doc = JsonDocument.Parse(body).RootElement;
                    if (doc.GetProperty("error").GetBoolean() || doc.GetProperty("status").GetProperty("partitions").GetArrayLength() != 2)
                        return false;
                    var partitions = doc.GetProperty("status").GetProperty("partitions").EnumerateArray().ToList();
                    if (partitions.Any(p => p.GetProperty("current_lag").GetInt64() == 0))
                        return false; // log-end offsets not read yet
                    status = doc.GetProperty("status");
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            }, "Burrow reports the group's two partitions with their lag", 90).ContinueWith(t =>
            {
                if (t.IsFaulted)
                    Assert.Fail($"{t.Exception!.InnerException!.Message}\nBurrow's last answer: {last}\nBurrow's log:\n{string.Join("\n", output.TakeLast(30))}");
            }, TaskScheduler.Default);

            Assert.False(burrow.HasExited, "Burrow exited:\n" + string.Join("\n", output));
            var byPartition = status!.Value.GetProperty("partitions").EnumerateArray().ToDictionary(p => p.GetProperty("partition").GetInt32());
            Assert.Equal(12, byPartition[0].GetProperty("end").GetProperty("offset").GetInt64());
            Assert.Equal(4, byPartition[1].GetProperty("end").GetProperty("offset").GetInt64());
            Assert.Equal(8, byPartition[0].GetProperty("current_lag").GetInt64()); // 20 written, 12 committed
            Assert.Equal(6, byPartition[1].GetProperty("current_lag").GetInt64()); // 10 written, 4 committed
            Assert.Equal(14, status.Value.GetProperty("totallag").GetInt64());
            Assert.All(byPartition.Values, p => Assert.Equal("bw", p.GetProperty("topic").GetString()));
        }
        finally
        {
            if (burrow is not null)
            {
                burrow.Kill(entireProcessTree: true);
                await burrow.WaitForExitAsync();
                burrow.Dispose();
            }
            zookeeper.Kill(entireProcessTree: true);
            await zookeeper.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Process Start(string file, string args, string dir, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        psi.Environment["ZOO_LOG_DIR"] = dir;
        var process = Process.Start(psi)!;
        // Kept for the failure message; reading also keeps either program from blocking on a full pipe.
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;

        void Keep(string? line)
        {
            if (line is null || line.Contains("\"level\":\"debug\"", StringComparison.Ordinal))
                return;
            output.Enqueue(line);
            while (output.Count > 200)
                output.TryDequeue(out _);
        }
    }

    /// <summary>srvr answers "not currently serving requests" until ZooKeeper takes sessions.</summary>
    private static bool IsServing(int port)
    {
        try
        {
            // A ZooKeeper still starting may take the connection and never answer: bound the wait.
            using var client = new TcpClient { ReceiveTimeout = 2000, SendTimeout = 2000 };
            client.Connect(IPAddress.Loopback, port);
            using var stream = client.GetStream();
            stream.Write("srvr"u8);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().StartsWith("Zookeeper version", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
