using System.Diagnostics;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Broker;
using Samsa.Client.Consumer;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

// The perf tool: our consumer and Confluent.Kafka's reading the same topics from the same broker
// in the same run. The broker runs in a child process (this executable with "broker"), so the
// CPU time measured here is the consumers' alone.
//
//   dotnet run -c Release --project bench/Samsa.Perf -- consume [--records-100b N] [--records-1k N]
//   dotnet run -c Release --project bench/Samsa.Perf -- produce [--records N]
//   dotnet run -c Release --project bench/Samsa.Perf -- rebalance [--rounds N] [--partitions N] [--members N] [--rate N]
//       [--settings defaults|tuned|both] [--protocols classic|consumer|both] [--steady-ms N] [--jitter-ms N] [--tail-ms N] [--deadline-s N]
//
// The child is "broker <port> <dir> [server.properties key=value ...]".
if (args.Length >= 3 && args[0] == "broker")
{
    var options = new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, int.Parse(args[1], CultureInfo.InvariantCulture)), DataDirectory = args[2] };
    foreach (string setting in args.Skip(3))
    {
        int eq = setting.IndexOf('=', StringComparison.Ordinal);
        options = Samsa.Broker.Configuration.BrokerConfig.Apply(options, setting[..eq], setting[(eq + 1)..], "command line");
    }
    await using var broker = await SamsaBroker.StartAsync(options);
    Console.WriteLine("ready");
    await Console.In.ReadLineAsync(); // runs until the parent closes our stdin
    return 0;
}

if (args.Length > 0 && args[0] == "produce")
    return await ProduceBenchmark.RunAsync(args);

if (args.Length > 0 && args[0] == "rebalance")
    return await RebalanceBenchmark.RunAsync(args);

int records100 = Arg("--records-100b", 1_000_000), records1k = Arg("--records-1k", 200_000), rounds = Arg("--rounds", 2);
string dir = Path.Combine(Path.GetTempPath(), "samsa-perf-" + Guid.NewGuid().ToString("N"));
int port = FreePort();
using var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["broker", port.ToString(CultureInfo.InvariantCulture), dir])
{
    RedirectStandardInput = true,
    RedirectStandardOutput = true,
})!;
await child.StandardOutput.ReadLineAsync();
string bootstrap = $"127.0.0.1:{port}";
try
{
    Console.WriteLine($"| client | record | partitions | messages/s | MB/s | CPU µs/msg | managed bytes/msg |");
    Console.WriteLine($"|---|---|---|---|---|---|---|");
    foreach (var (size, count) in new[] { (100, records100), (1024, records1k) })
    {
        foreach (int partitions in new[] { 1, 8 })
        {
            string topic = $"perf-{size}-{partitions}";
            await Fill(bootstrap, topic, partitions, size, count);
            var best = new Dictionary<string, Result>();
            for (int round = 0; round < rounds; round++)
            {
                foreach (var (name, run) in new (string, Func<Result>)[]
                {
                    ("samsa", () => Measure(count, () => ConsumeSamsa(bootstrap, topic, partitions, count))),
                    ("confluent", () => Measure(count, () => ConsumeConfluent(bootstrap, topic, partitions, count))),
                })
                {
                    var r = run();
                    if (!best.TryGetValue(name, out var b) || r.Seconds < b.Seconds)
                        best[name] = r;
                }
            }
            foreach (var (name, r) in best)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {size} B | {partitions} | {count / r.Seconds:N0} | {count * (double)size / r.Seconds / 1e6:N0} | {r.CpuSeconds * 1e6 / count:N2} | {r.Allocated / (double)count:N0} |"));
            }
        }
    }
}
finally
{
    child.StandardInput.Close();
    await child.WaitForExitAsync();
    Directory.Delete(dir, recursive: true);
}
return 0;

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static int FreePort()
{
    using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

static async Task Fill(string bootstrap, string topic, int partitions, int size, int count)
{
    using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 20, BatchSize = 1 << 20, Acks = Acks.Leader }).Build();
    var value = new byte[size];
    Random.Shared.NextBytes(value);
    for (int i = 0; i < count; i++)
    {
        while (true)
        {
            try
            {
                producer.Produce(new Confluent.Kafka.TopicPartition(topic, i % partitions), new Message<Null, byte[]> { Value = value });
                break;
            }
            catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }
    producer.Flush(TimeSpan.FromMinutes(2));
}

static Result Measure(int count, Action run)
{
    GC.Collect();
    var process = Process.GetCurrentProcess();
    var cpu = process.TotalProcessorTime;
    long allocated = GC.GetTotalAllocatedBytes(precise: true);
    var watch = Stopwatch.StartNew();
    run();
    watch.Stop();
    process.Refresh();
    return new Result(watch.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds, GC.GetTotalAllocatedBytes(precise: true) - allocated);
}

static void ConsumeSamsa(string bootstrap, string topic, int partitions, int count)
{
    using var consumer = new KafkaConsumer<Samsa.Client.Serialization.Ignore?, byte[]?>(new ConsumerOptions { BootstrapServers = bootstrap, MaxPollRecords = 2000 });
    consumer.Assign(Enumerable.Range(0, partitions).Select(p => new SamsaTopicPartition(topic, p)));
    consumer.SeekToBeginning(consumer.Assignment);
    long seen = 0;
    var next = new long[partitions];
    while (seen < count)
    {
        foreach (var r in consumer.Poll(TimeSpan.FromSeconds(10)))
        {
            Check(next, r.Partition, r.Offset);
            seen++;
        }
    }
}

static void ConsumeConfluent(string bootstrap, string topic, int partitions, int count)
{
    using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "perf-unused", EnableAutoCommit = false }).Build();
    consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
    long seen = 0;
    var next = new long[partitions];
    while (seen < count)
    {
        var r = consumer.Consume(TimeSpan.FromSeconds(10));
        if (r is null)
            continue;
        Check(next, r.Partition.Value, r.Offset.Value);
        seen++;
    }
    consumer.Close();
}

// Every record once, in order: a fast wrong consumer must not look good.
static void Check(long[] next, int partition, long offset)
{
    if (offset != next[partition])
        throw new InvalidOperationException($"Partition {partition}: got offset {offset}, expected {next[partition]}.");
    next[partition] = offset + 1;
}

internal sealed record Result(double Seconds, double CpuSeconds, long Allocated);
