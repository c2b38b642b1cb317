using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Xunit.Abstractions;
using SamsaProducer = Samsa.Client.Producer;

namespace Samsa.Interop.Tests.Faults;

/// <summary>
/// The crash loop: a `samsa broker` process killed with SIGKILL at random moments, 20 times, while
/// two idempotent acks=all producers write (librdkafka's and ours) and a group consumer commits.
/// Afterwards every acknowledged record is in the log exactly once, at its acknowledged offset, in
/// each producer's order, and each committed offset is the last acknowledged commit or one whose
/// answer the kill swallowed.
/// </summary>
public sealed class CrashLoopTests(ITestOutputHelper output) : IDisposable
{
    private const string Topic = "crashloop";
    private const int Partitions = 2;
    // SAMSA_CRASH_CYCLES makes a longer run (docs/reliability.md's figures come from 100).
    private static readonly int Cycles = int.TryParse(Environment.GetEnvironmentVariable("SAMSA_CRASH_CYCLES"), out int n) ? n : 20;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-crashloop-" + Guid.NewGuid().ToString("N"));
    private readonly int _port = FreePort();
    private Process? _broker;

    private string Bootstrap => $"127.0.0.1:{_port}";

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (_broker is { HasExited: false })
            _broker.Kill(entireProcessTree: true);
        _broker?.Dispose();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private async Task StartBroker()
    {
        // SAMSA_CLI points the suite at another build (to check that it catches an old bug).
        string cli = Environment.GetEnvironmentVariable("SAMSA_CLI") ?? Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        _broker = Process.Start(new ProcessStartInfo("dotnet",
            $"\"{cli}\" broker --listen {Bootstrap} --data-dir \"{_dir}\" --override log.segment.bytes=65536 --override group.initial.rebalance.delay.ms=0 --override num.partitions={Partitions} --override offsets.topic.num.partitions=1")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string? line;
        while ((line = await _broker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) is not null && !line.Contains("listening", StringComparison.Ordinal))
        {
        }
        Assert.NotNull(line);
        _ = _broker.StandardOutput.ReadToEndAsync();
        _ = _broker.StandardError.ReadToEndAsync();
    }

    private async Task KillBroker()
    {
        _broker!.Kill(entireProcessTree: true);
        await _broker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _broker.Dispose();
        _broker = null;
    }

    private sealed record Acked(string Value, int Partition, long Offset);

    [Fact]
    public async Task Kill_9s_under_idempotent_producers_lose_nothing_duplicate_nothing_and_keep_commits()
    {
        await StartBroker();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build())
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);

        var acked = new ConcurrentQueue<Acked>();
        using var stop = new CancellationTokenSource();
        var theirs = Task.Run(() => RunConfluentProducer(acked, stop.Token));
        var ours = Task.Run(() => RunOurProducer(acked, stop.Token));
        var commits = new CommitLog();
        var consumer = Task.Run(() => RunCommittingConsumer(commits, stop.Token));

        var random = new Random(17);
        var clock = Stopwatch.StartNew();
        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            int before = acked.Count;
            // A random moment, but only once this life of the broker has acknowledged something: kills must land under load.
            var due = Stopwatch.StartNew();
            int wait = random.Next(200, 1200);
            while (acked.Count == before || due.ElapsedMilliseconds < wait)
            {
                Assert.True(due.Elapsed < TimeSpan.FromSeconds(90), $"cycle {cycle}: the producers made progress after the restart");
                await Task.Delay(20);
            }
            await KillBroker();
            await StartBroker();
        }
        var cycles = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(theirs, ours, consumer);

        var log = ReadEverything();
        var byValue = log.GroupBy(r => r.Value).ToDictionary(g => g.Key, g => g.ToList());
        var duplicated = byValue.Where(kv => kv.Value.Count > 1).Select(kv => kv.Key).ToList();
        Assert.True(duplicated.Count == 0, $"written twice: {string.Join(", ", duplicated.Take(10))}");
        foreach (var a in acked)
        {
            Assert.True(byValue.TryGetValue(a.Value, out var found), $"acknowledged {a.Value} at {a.Partition}/{a.Offset} is missing");
            Assert.Equal((a.Partition, a.Offset), (found[0].Partition, found[0].Offset));
        }
        foreach (var producer in (string[])["c", "s"])
        {
            foreach (var partition in log.Where(r => r.Value.StartsWith(producer + "-", StringComparison.Ordinal)).GroupBy(r => r.Partition))
            {
                var sequence = partition.OrderBy(r => r.Offset).Select(r => int.Parse(r.Value[2..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.True(sequence.SequenceEqual(sequence.Order()), $"producer {producer} partition {partition.Key} out of order");
            }
        }
        var committed = ReadCommitted();
        foreach (var (partition, (ok, attempted)) in commits.Snapshot())
        {
            long got = committed.GetValueOrDefault(partition, -1);
            Assert.True(attempted.Contains(got), $"partition {partition}: committed {got}, last acknowledged commit {ok}");
        }
        output.WriteLine($"{Cycles} kill -9 cycles in {cycles.TotalSeconds:0} s; {acked.Count} records acknowledged ({acked.Count(a => a.Value[0] == 'c')} by librdkafka, {acked.Count(a => a.Value[0] == 's')} by ours), "
            + $"{log.Count} in the log, none twice; commits acknowledged: {commits.Acknowledged}");
        Assert.True(acked.Any(a => a.Value[0] == 'c') && acked.Any(a => a.Value[0] == 's'), "both producers got acknowledgements");
    }

    private void RunConfluentProducer(ConcurrentQueue<Acked> acked, CancellationToken stop)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = Bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            MessageTimeoutMs = 300_000,
            ReconnectBackoffMaxMs = 200,
        }).Build();
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string value = $"c-{i}";
            while (true)
            {
                try
                {
                    producer.Produce(Topic, new Message<Null, string> { Value = value }, report =>
                    {
                        if (report.Error.Code == Confluent.Kafka.ErrorCode.NoError)
                            acked.Enqueue(new Acked(value, report.Partition.Value, report.Offset.Value));
                    });
                    break;
                }
                catch (ProduceException<Null, string> e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
            producer.Poll(TimeSpan.Zero);
            if (i % 20 == 19)
                Thread.Sleep(10); // a steady load of about 2,000 records a second, not a flood to read back
        }
        producer.Flush(TimeSpan.FromSeconds(120));
    }

    private async Task RunOurProducer(ConcurrentQueue<Acked> acked, CancellationToken stop)
    {
        await using var producer = new SamsaProducer.KafkaProducer<string, string>(new SamsaProducer.ProducerOptions
        {
            BootstrapServers = Bootstrap,
            EnableIdempotence = true,
            Acks = -1,
            Linger = TimeSpan.FromMilliseconds(5),
            DeliveryTimeout = TimeSpan.FromMinutes(5),
            RetryBackoff = TimeSpan.FromMilliseconds(50),
        });
        var inFlight = new SemaphoreSlim(2000);
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string value = $"s-{i}";
            await inFlight.WaitAsync(CancellationToken.None);
            producer.Produce(Topic, new SamsaProducer.Message<string, string>(value, value), report =>
            {
                if (report.Result is { } r)
                    acked.Enqueue(new Acked(value, r.Partition, r.Offset));
                inFlight.Release();
            });
            if (i % 20 == 19)
                await Task.Delay(10, CancellationToken.None); // the same steady load as librdkafka's
        }
        await producer.FlushAsync(CancellationToken.None);
    }

    /// <summary>Per partition: the last offset whose commit was acknowledged, and every one attempted after it.</summary>
    private sealed class CommitLog
    {
        private readonly Dictionary<int, (long Ok, HashSet<long> Attempted)> _partitions = [];

        public int Acknowledged { get; private set; }

        public void Attempt(int partition, long offset)
        {
            lock (_partitions)
            {
                var entry = _partitions.TryGetValue(partition, out var known) ? known : (Ok: -1L, Attempted: new HashSet<long> { -1L });
                entry.Attempted.Add(offset);
                _partitions[partition] = entry;
            }
        }

        public void Succeeded(int partition, long offset)
        {
            lock (_partitions)
            {
                _partitions[partition] = (offset, [offset]);
                Acknowledged++;
            }
        }

        public List<(int, (long, HashSet<long>))> Snapshot()
        {
            lock (_partitions)
                return [.. _partitions.Select(kv => (kv.Key, kv.Value))];
        }
    }

    private void RunCommittingConsumer(CommitLog commits, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = "crashloop-g",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            ReconnectBackoffMaxMs = 200,
        }).Build();
        consumer.Subscribe(Topic);
        while (!stop.IsCancellationRequested)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null || record.Offset.Value % 50 != 0)
                continue;
            var at = new TopicPartitionOffset(record.TopicPartition, record.Offset + 1);
            commits.Attempt(at.Partition.Value, at.Offset.Value);
            try
            {
                consumer.Commit([at]);
                commits.Succeeded(at.Partition.Value, at.Offset.Value);
            }
            catch (KafkaException)
            {
                // The broker died under the commit: it may or may not have been written.
            }
        }
        consumer.Close();
    }

    private List<(string Value, int Partition, long Offset)> ReadEverything()
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "verify-" + Guid.NewGuid().ToString("N") }).Build();
        var records = new List<(string, int, long)>();
        for (int p = 0; p < Partitions; p++)
        {
            var partition = new TopicPartition(Topic, p);
            long end = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(30)).High.Value;
            consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
            for (long next = 0, until = Environment.TickCount64 + 120_000; next < end;)
            {
                Assert.True(Environment.TickCount64 < until, $"partition {p} read to its end {end} (at {next})");
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
                {
                    records.Add((r.Message.Value, p, r.Offset.Value));
                    next = r.Offset.Value + 1;
                }
            }
        }
        return records;
    }

    private Dictionary<int, long> ReadCommitted()
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "crashloop-g" }).Build();
        return consumer.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)), TimeSpan.FromSeconds(30))
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }
}
