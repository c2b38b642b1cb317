using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Samsa.Client.Producer;

/// <summary>
/// Our producer against Confluent.Kafka's (librdkafka) at its defaults and tuned for throughput,
/// into the same broker in the same run, for 100 B and 1 KiB records, acks=1 and all, none and
/// lz4, 1 and 8 partitions. Each row: messages/s flat out (median of the rounds, with spread) and
/// p50/p99 send→acknowledgement latency; then, unless --no-half-peak, every client again at the
/// same fixed offered rate, half the slowest client's peak, where latency is what matters.
/// Our producer runs at its defaults throughout (idempotence follows acks, as in Java).
/// </summary>
internal static class ProduceBenchmark
{
    private sealed record Outcome(double Seconds, double P50, double P99, double BytesPerRecord);

    private sealed record Row(int Size, string Acks, string Codec, int Partitions);

    public static async Task<int> RunAsync(string[] args)
    {
        int count = Harness.Int(args, "--records", 300_000), rounds = Harness.Int(args, "--rounds", 3);
        bool halfPeak = !args.Contains("--no-half-peak");
        await using var harness = await Harness.StartAsync(args);
        string bootstrap = harness.Bootstrap, run = Guid.NewGuid().ToString("N")[..6];
        // --sizes 100 --acks 1 --codecs none --partitions 1: a subset of the rows, to work on one.
        string[] List(string name, string all) => (Harness.Text(args, name) ?? all).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var rows = (from size in List("--sizes", "100,1024").Select(v => int.Parse(v, CultureInfo.InvariantCulture))
                    from acks in List("--acks", "1,all")
                    from codec in List("--codecs", "none,lz4")
                    from partitions in List("--partitions", "1,8").Select(v => int.Parse(v, CultureInfo.InvariantCulture))
                    select new Row(size, acks, codec, partitions)).ToList();
        Console.WriteLine($"Producing {count:N0} records per run into {harness.Describe}; {rounds} round(s) per row, clients alternating; median (lowest–highest).");
        Console.WriteLine();
        Console.WriteLine("| client | record | acks | codec | partitions | messages/s | MB/s | p50 ms | p99 ms | managed bytes/msg |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var fixedRate = new List<string>();
        var ratios = new List<string>();
        int topics = 0;
        foreach (var row in rows)
        {
            string Topic() => $"produce-{run}-{topics++}";
            async Task<string> Fresh() { string t = Topic(); await harness.CreateTopicAsync(t, row.Partitions); return t; }
            var names = new[] { "samsa", "librdkafka defaults", "librdkafka tuned" };
            var prepared = new Dictionary<string, Queue<string>>();
            foreach (var name in names)
            {
                prepared[name] = new Queue<string>();
                for (int i = 0; i < rounds; i++)
                    prepared[name].Enqueue(await Fresh());
            }
            var results = Harness.Rounds<Outcome>(rounds,
            [
                ("samsa", () => Ours(bootstrap, prepared["samsa"].Dequeue(), row, count, rate: 0)),
                ("librdkafka defaults", () => Theirs(bootstrap, prepared["librdkafka defaults"].Dequeue(), row, count, tuned: false, rate: 0)),
                ("librdkafka tuned", () => Theirs(bootstrap, prepared["librdkafka tuned"].Dequeue(), row, count, tuned: true, rate: 0)),
            ]);
            foreach (var (name, list) in results)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {row.Size} B | {row.Acks} | {row.Codec} | {row.Partitions} | {Harness.MedianSpread(list.Select(r => count / r.Seconds).ToList(), "N0")} | {Harness.Median(list.Select(r => count * (double)row.Size / r.Seconds / 1e6)):N0} | {Harness.Median(list.Select(r => r.P50)):F1} | {Harness.Median(list.Select(r => r.P99)):F1} | {Harness.Median(list.Select(r => r.BytesPerRecord)):N0} |"));
            double Peak(string name) => Harness.Median(results[name].Select(r => count / r.Seconds));
            ratios.Add(string.Create(CultureInfo.InvariantCulture,
                $"{row.Size} B acks={row.Acks} {row.Codec} × {row.Partitions}: {Peak("samsa") / Peak("librdkafka defaults"):F2}× defaults, {Peak("samsa") / Peak("librdkafka tuned"):F2}× tuned"));
            if (!halfPeak)
                continue;
            // The same offered rate for every client: half of the slowest one's peak, for about 3 s.
            double rate = names.Min(Peak) / 2;
            int paced = (int)Math.Clamp(rate * 3, 1000, count);
            foreach (var name in names)
            {
                string topic = await Fresh();
                var r = name == "samsa" ? Ours(bootstrap, topic, row, paced, rate) : Theirs(bootstrap, topic, row, paced, tuned: name.EndsWith("tuned", StringComparison.Ordinal), rate);
                fixedRate.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {row.Size} B | {row.Acks} | {row.Codec} | {row.Partitions} | {rate:N0} | {r.P50:F1} | {r.P99:F1} |"));
            }
        }
        Console.WriteLine();
        Console.WriteLine("Ours against librdkafka (median messages/s):");
        foreach (var line in ratios)
            Console.WriteLine("- " + line);
        if (halfPeak)
        {
            Console.WriteLine();
            Console.WriteLine("At a fixed offered rate (half the slowest client's peak), one run each:");
            Console.WriteLine();
            Console.WriteLine("| client | record | acks | codec | partitions | offered messages/s | p50 ms | p99 ms |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var line in fixedRate)
                Console.WriteLine(line);
        }
        return 0;
    }

    private static Outcome Summarize(long[] sent, long[] done, Stopwatch watch, long allocatedBefore)
    {
        double bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)sent.Length;
        var latencies = sent.Zip(done, (s, d) => (d - s) * 1000.0 / Stopwatch.Frequency).Order().ToArray();
        return new Outcome(watch.Elapsed.TotalSeconds, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)], bytes);
    }

    /// <summary>Paces record <paramref name="i"/> to <paramref name="rate"/> per second (0: flat out); spins the last 2 ms, which sleeps overshoot.</summary>
    private static void Pace(Stopwatch watch, int i, double rate)
    {
        if (rate <= 0)
            return;
        double due = i / rate;
        while (watch.Elapsed.TotalSeconds < due)
        {
            if (due - watch.Elapsed.TotalSeconds > 0.002)
                Thread.Sleep(1);
        }
    }

    private static byte[] Value(int size)
    {
        var value = new byte[size];
        Random.Shared.NextBytes(value.AsSpan(0, size / 2)); // half random, half zeros: lz4 has something to do
        return value;
    }

    private static Outcome Ours(string bootstrap, string topic, Row row, int count, double rate)
    {
        var options = ProducerOptions.FromProperties([new("bootstrap.servers", bootstrap), new("acks", row.Acks), new("compression.type", row.Codec)]);
        using var producer = new KafkaProducer<Samsa.Client.Serialization.Null?, byte[]>(options);
        var value = Value(row.Size);
        var sent = new long[count];
        var done = new long[count];
        producer.ProduceAsync(topic, new Samsa.Client.Producer.Message<Samsa.Client.Serialization.Null?, byte[]>(null, value)).GetAwaiter().GetResult(); // metadata and connections
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            Pace(watch, i, rate);
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
        return Summarize(sent, done, watch, allocated);
    }

    private static Outcome Theirs(string bootstrap, string topic, Row row, int count, bool tuned, double rate)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = row.Acks == "all" ? Acks.All : Acks.Leader,
            CompressionType = row.Codec == "lz4" ? CompressionType.Lz4 : CompressionType.None,
        };
        if (tuned)
            Librdkafka.TuneProducer(config);
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var value = Value(row.Size);
        var sent = new long[count];
        var done = new long[count];
        producer.ProduceAsync(topic, new Confluent.Kafka.Message<Null, byte[]> { Value = value }).GetAwaiter().GetResult();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            Pace(watch, i, rate);
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
        return Summarize(sent, done, watch, allocated);
    }
}
