using System.Diagnostics;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Samsa.Client.Producer;

/// <summary>
/// Our producer vs Confluent.Kafka's into the same broker (a child process) in the same run:
/// messages/s, MB/s and p50/p99 delivery latency, for 100 B and 1 KiB records, acks=1 and all,
/// with and without lz4.
/// </summary>
internal static class ProduceBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int count = args.Length > 2 && args[1] == "--records" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 300_000;
        string dir = Path.Combine(Path.GetTempPath(), "samsa-perf-" + Guid.NewGuid().ToString("N"));
        int port;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        using var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["broker", port.ToString(CultureInfo.InvariantCulture), dir]) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        await child.StandardOutput.ReadLineAsync();
        string bootstrap = $"127.0.0.1:{port}";
        try
        {
            Console.WriteLine("| client | record | acks | codec | messages/s | MB/s | p50 ms | p99 ms |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            int run = 0;
            foreach (int size in new[] { 100, 1024 })
            {
                foreach (var acks in new[] { "1", "all" })
                {
                    foreach (var codec in new[] { "none", "lz4" })
                    {
                        foreach (var client in new[] { "samsa", "confluent" })
                        {
                            string topic = $"produce-{run++}";
                            var r = client == "samsa" ? Ours(bootstrap, topic, size, acks, codec, count) : Theirs(bootstrap, topic, size, acks, codec, count);
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"| {client} | {size} B | {acks} | {codec} | {count / r.Seconds:N0} | {count * (double)size / r.Seconds / 1e6:N0} | {r.P50:F1} | {r.P99:F1} |"));
                        }
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
    }

    private sealed record Outcome(double Seconds, double P50, double P99);

    private static Outcome Summarize(long[] sent, long[] done, Stopwatch watch)
    {
        var latencies = sent.Zip(done, (s, d) => (d - s) * 1000.0 / Stopwatch.Frequency).Order().ToArray();
        return new Outcome(watch.Elapsed.TotalSeconds, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
    }

    private static Outcome Ours(string bootstrap, string topic, int size, string acks, string codec, int count)
    {
        var options = ProducerOptions.FromProperties([new("acks", acks), new("compression.type", codec), new("linger.ms", "5"),
            new("batch.size", Environment.GetEnvironmentVariable("SAMSA_PERF_BATCH") ?? "16384")]) with
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = acks == "all",
        };
        using var producer = new KafkaProducer<Samsa.Client.Serialization.Null?, byte[]>(options);
        var value = new byte[size];
        Random.Shared.NextBytes(value.AsSpan(0, size / 2));
        var sent = new long[count];
        var done = new long[count];
        producer.ProduceAsync(topic, new Samsa.Client.Producer.Message<Samsa.Client.Serialization.Null?, byte[]>(null, value)).GetAwaiter().GetResult(); // creates the topic
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            int index = i;
            sent[i] = Stopwatch.GetTimestamp();
            producer.Produce(topic, new Samsa.Client.Producer.Message<Samsa.Client.Serialization.Null?, byte[]>(null, value), r =>
            {
                if (r.Error is not null)
                    throw r.Error;
                done[index] = Stopwatch.GetTimestamp();
            });
        }
        producer.Flush(TimeSpan.FromMinutes(5));
        watch.Stop();
        return Summarize(sent, done, watch);
    }

    private static Outcome Theirs(string bootstrap, string topic, int size, string acks, string codec, int count)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = acks == "all" ? Acks.All : Acks.Leader,
            EnableIdempotence = acks == "all",
            CompressionType = codec == "lz4" ? CompressionType.Lz4 : CompressionType.None,
            LingerMs = 5,
            BatchSize = int.TryParse(Environment.GetEnvironmentVariable("SAMSA_PERF_CONFLUENT_BATCH"), out int b) ? b : null,
        }).Build();
        var value = new byte[size];
        Random.Shared.NextBytes(value.AsSpan(0, size / 2));
        var sent = new long[count];
        var done = new long[count];
        producer.ProduceAsync(topic, new Confluent.Kafka.Message<Null, byte[]> { Value = value }).GetAwaiter().GetResult();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            int index = i;
            sent[i] = Stopwatch.GetTimestamp();
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Confluent.Kafka.Message<Null, byte[]> { Value = value }, r =>
                    {
                        if (r.Error.IsError)
                            throw new InvalidOperationException(r.Error.Reason);
                        done[index] = Stopwatch.GetTimestamp();
                    });
                    break;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(1));
                }
            }
        }
        producer.Flush(TimeSpan.FromMinutes(5));
        watch.Stop();
        return Summarize(sent, done, watch);
    }
}
