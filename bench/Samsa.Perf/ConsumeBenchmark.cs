using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Samsa.Client.Consumer;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

/// <summary>
/// Our consumer against Confluent.Kafka's (librdkafka) at its defaults and tuned for throughput,
/// reading the same filled topics from the same broker in the same run: messages/s as the median
/// of the rounds with its spread, CPU time and managed allocation per message.
/// </summary>
internal static class ConsumeBenchmark
{
    private sealed record Result(double Seconds, double CpuSeconds, long Allocated);

    public static async Task<int> RunAsync(string[] args)
    {
        int records100 = Harness.Int(args, "--records-100b", 1_000_000), records1k = Harness.Int(args, "--records-1k", 200_000);
        int rounds = Harness.Int(args, "--rounds", 3);
        await using var harness = await Harness.StartAsync(args);
        string bootstrap = harness.Bootstrap;
        string run = Guid.NewGuid().ToString("N")[..6]; // a broker given by address may hold topics of earlier runs
        Console.WriteLine($"Consuming from {harness.Describe}; {rounds} round(s) per row, clients alternating; messages/s as median (lowest–highest).");
        Console.WriteLine();
        Console.WriteLine("| client | record | partitions | messages/s | MB/s | CPU µs/msg | managed bytes/msg |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var ratios = new List<string>();
        foreach (var (size, count) in new[] { (100, records100), (1024, records1k) })
        {
            foreach (int partitions in new[] { 1, 8 })
            {
                string topic = $"perf-{run}-{size}-{partitions}";
                await harness.CreateTopicAsync(topic, partitions);
                Fill(bootstrap, topic, partitions, size, count);
                var results = Harness.Rounds<Result>(rounds,
                [
                    ("samsa", () => Measure(() => ConsumeSamsa(bootstrap, topic, partitions, count))),
                    ("librdkafka defaults", () => Measure(() => ConsumeConfluent(bootstrap, topic, partitions, count, tuned: false))),
                    ("librdkafka tuned", () => Measure(() => ConsumeConfluent(bootstrap, topic, partitions, count, tuned: true))),
                ]);
                foreach (var (name, list) in results)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {name} | {size} B | {partitions} | {Harness.MedianSpread(list.Select(r => count / r.Seconds).ToList(), "N0")} | {Harness.Median(list.Select(r => count * (double)size / r.Seconds / 1e6)):N0} | {Harness.Median(list.Select(r => r.CpuSeconds * 1e6 / count)):N2} | {Harness.Median(list.Select(r => r.Allocated / (double)count)):N0} |"));
                }
                double ours = Harness.Median(results["samsa"].Select(r => count / r.Seconds));
                ratios.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{size} B × {partitions}: {ours / Harness.Median(results["librdkafka defaults"].Select(r => count / r.Seconds)):F2}× defaults, {ours / Harness.Median(results["librdkafka tuned"].Select(r => count / r.Seconds)):F2}× tuned; CPU/msg {Harness.Median(results["samsa"].Select(r => r.CpuSeconds)) / Harness.Median(results["librdkafka tuned"].Select(r => r.CpuSeconds)):F2}× tuned's"));
            }
        }
        Console.WriteLine();
        Console.WriteLine("Ours against librdkafka (medians):");
        foreach (var line in ratios)
            Console.WriteLine("- " + line);
        return 0;
    }

    private static void Fill(string bootstrap, string topic, int partitions, int size, int count)
    {
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

    private static Result Measure(Action run)
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

    private static void ConsumeSamsa(string bootstrap, string topic, int partitions, int count)
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

    private static void ConsumeConfluent(string bootstrap, string topic, int partitions, int count, bool tuned)
    {
        var config = new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "perf-unused", EnableAutoCommit = false };
        if (tuned)
            Librdkafka.TuneConsumer(config);
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
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
    private static void Check(long[] next, int partition, long offset)
    {
        if (offset != next[partition])
            throw new InvalidOperationException($"Partition {partition}: got offset {offset}, expected {next[partition]}.");
        next[partition] = offset + 1;
    }
}
