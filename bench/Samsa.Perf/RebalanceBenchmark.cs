using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

/// <summary>
/// One member joining a settled group under steady production, classic cooperative-sticky against
/// the consumer protocol (KIP-848), Confluent.Kafka consumers against a Samsa broker in a child
/// process. A producer writes a fixed rate round-robin to every partition, each value carrying its
/// produce timestamp; N-1 consumers settle (every partition assigned, balanced, each being
/// consumed by its owner); after a steady window the Nth member subscribes. Measured: the Nth
/// member's Subscribe to its first record; partitions that moved; revocations (and whether a member
/// lost a partition it ends up keeping); the longest gap between consecutive records of a
/// partition that did not move, before the join and around it; the pause of the partitions that
/// moved. Each round runs both protocols; each heartbeat setting gets its own broker.
/// </summary>
internal static class RebalanceBenchmark
{
    private sealed record Settings(string Name, string ClassicHeartbeat, string ConsumerHeartbeat, string[] BrokerArgs, int? ClassicHeartbeatMs);

    private sealed record Row(string Protocol, string Heartbeat, int Round, double SettleSeconds, double JoinToFirstMs, double JoinToLastMovedMs,
        int Moved, int Revocations, int KeptRevoked, double KeptGapBeforeMs, double KeptGapAroundMs, double MovedPauseMs);

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = Arg(args, "--rounds", 3), partitions = Arg(args, "--partitions", 100), members = Arg(args, "--members", 10);
        int rate = Arg(args, "--rate", 2000), steadyMs = Arg(args, "--steady-ms", 5000), jitterMs = Arg(args, "--jitter-ms", 5000), tailMs = Arg(args, "--tail-ms", 2000);
        int deadlineSeconds = Arg(args, "--deadline-s", 90);
        int s = Array.IndexOf(args, "--settings");
        string which = s >= 0 && s + 1 < args.Length ? args[s + 1] : "both";
        int pr = Array.IndexOf(args, "--protocols");
        bool[] protocols = (pr >= 0 && pr + 1 < args.Length ? args[pr + 1] : "both") switch
        {
            "classic" => [true],
            "consumer" => [false],
            _ => [true, false],
        };
        var settings = new List<Settings>();
        if (which is "defaults" or "both")
            settings.Add(new Settings("defaults", "3 s (client default)", "5 s (broker default)", [], null));
        if (which is "tuned" or "both")
            settings.Add(new Settings("1 s", "1 s (client)", "1 s (broker)",
                ["group.consumer.heartbeat.interval.ms=1000", "group.consumer.min.heartbeat.interval.ms=1000"], 1000));
        if (settings.Count == 0 || members < 2 || partitions < members)
            throw new ArgumentException("--settings is defaults, tuned or both; --members at least 2; --partitions at least --members.");

        var notes = new List<string>();
        var rows = new List<Row>();
        var clientLog = new ConcurrentDictionary<string, int>();
        int failures = 0;
        Console.WriteLine($"| protocol | heartbeat | round | {members - 1} members settle s | join → first record ms | join → last moved partition consuming ms | moved | revocations (of kept) | kept partitions' longest gap before join ms | … around join ms | moved partitions' longest pause ms |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var setting in settings)
        {
            string dir = Path.Combine(Path.GetTempPath(), "samsa-perf-" + Guid.NewGuid().ToString("N"));
            int port = FreePort();
            using var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["broker", port.ToString(CultureInfo.InvariantCulture), dir, .. setting.BrokerArgs])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            })!;
            await child.StandardOutput.ReadLineAsync();
            string bootstrap = $"127.0.0.1:{port}";
            using var stopProducer = new CancellationTokenSource();
            Thread? producer = null;
            try
            {
                const string topic = "rebalance";
                using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
                    await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
                producer = StartProducer(bootstrap, topic, partitions, rate, clientLog, stopProducer.Token);
                await Task.Delay(1000);
                for (int round = 1; round <= rounds; round++)
                {
                    foreach (bool classic in protocols)
                    {
                        string protocol = classic ? "classic cooperative-sticky" : "consumer (KIP-848)";
                        string heartbeat = classic ? setting.ClassicHeartbeat : setting.ConsumerHeartbeat;
                        string tag = $"{(classic ? "classic" : "consumer")}, {setting.Name}, round {round}";
                        Console.Error.WriteLine($"rebalance: {tag}");
                        var scenario = new Scenario(bootstrap, topic, partitions, members, classic, setting.ClassicHeartbeatMs,
                            $"{(classic ? "classic" : "consumer")}-{setting.Name.Replace(' ', '-')}-{round}", clientLog);
                        var row = await scenario.RunAsync(protocol, heartbeat, round, steadyMs, jitterMs, tailMs, TimeSpan.FromSeconds(deadlineSeconds));
                        notes.AddRange(scenario.Notes.Select(n => $"{tag}: {n}"));
                        if (row is null)
                        {
                            failures++;
                            Console.WriteLine($"| {protocol} | {heartbeat} | {round} | timed out | | | | | | | |");
                            continue;
                        }
                        rows.Add(row);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"| {row.Protocol} | {row.Heartbeat} | {row.Round} | {row.SettleSeconds:F1} | {row.JoinToFirstMs:N0} | {row.JoinToLastMovedMs:N0} | {row.Moved} | {row.Revocations} ({row.KeptRevoked}) | {row.KeptGapBeforeMs:N0} | {row.KeptGapAroundMs:N0} | {row.MovedPauseMs:N0} |"));
                    }
                }
            }
            finally
            {
                stopProducer.Cancel();
                producer?.Join(TimeSpan.FromSeconds(15));
                child.StandardInput.Close();
                await child.WaitForExitAsync();
                Directory.Delete(dir, recursive: true);
            }
        }
        Console.WriteLine();
        Console.WriteLine("Over the rounds, median (min–max):");
        Console.WriteLine();
        Console.WriteLine("| protocol | heartbeat | rounds | join → first record ms | join → last moved partition consuming ms | moved | revocations of kept partitions | kept partitions' longest gap before join ms | … around join ms | moved partitions' longest pause ms |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var g in rows.GroupBy(r => (r.Protocol, r.Heartbeat)))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {g.Key.Protocol} | {g.Key.Heartbeat} | {g.Count()} | {Spread(g.Select(r => r.JoinToFirstMs))} | {Spread(g.Select(r => r.JoinToLastMovedMs))} | {Spread(g.Select(r => (double)r.Moved))} | {g.Sum(r => r.KeptRevoked)} | {Spread(g.Select(r => r.KeptGapBeforeMs))} | {Spread(g.Select(r => r.KeptGapAroundMs))} | {Spread(g.Select(r => r.MovedPauseMs))} |"));
        }
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{partitions} partitions, {members - 1} + 1 members, {rate:N0} records/s round-robin ({rate / (double)partitions:F0}/s per partition), the join after a steady window of {steadyMs} ms + a random 0–{jitterMs} ms, the window around it ending {tailMs} ms after the last moved partition is consumed; broker group.initial.rebalance.delay.ms at its default (3000)."));
        foreach (string note in notes)
            Console.WriteLine($"- {note}");
        foreach (var (message, count) in clientLog.OrderByDescending(kv => kv.Value).Take(20))
            Console.Error.WriteLine($"librdkafka ({count}×): {message}");
        return failures == 0 && !notes.Any(n => n.Contains("FAIL", StringComparison.Ordinal)) ? 0 : 1;
    }

    private static Thread StartProducer(string bootstrap, string topic, int partitions, int rate, ConcurrentDictionary<string, int> log, CancellationToken stop)
    {
        var thread = new Thread(() =>
        {
            using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5, Acks = Acks.Leader })
                .SetLogHandler((_, m) => Count(log, "producer " + m.Level + ": " + m.Message))
                .Build();
            var watch = Stopwatch.StartNew();
            long sent = 0;
            while (!stop.IsCancellationRequested)
            {
                long due = (long)(watch.Elapsed.TotalSeconds * rate);
                for (; sent < due; sent++)
                {
                    try
                    {
                        producer.Produce(new Confluent.Kafka.TopicPartition(topic, (int)(sent % partitions)),
                            new Message<Null, byte[]> { Value = BitConverter.GetBytes(Stopwatch.GetTimestamp()) },
                            r =>
                            {
                                if (r.Error.IsError)
                                    Count(log, "delivery: " + r.Error.Reason);
                            });
                    }
                    catch (ProduceException<Null, byte[]> e)
                    {
                        Count(log, "produce: " + e.Error.Reason);
                        producer.Poll(TimeSpan.FromMilliseconds(10));
                    }
                }
                Thread.Sleep(5);
            }
            producer.Flush(TimeSpan.FromSeconds(10));
        })
        { IsBackground = true, Name = "producer" };
        thread.Start();
        return thread;
    }

    private static void Count(ConcurrentDictionary<string, int> log, string message) => log.AddOrUpdate(message, 1, (_, n) => n + 1);

    private readonly record struct Rec(long At, int Member, long Offset, long ProducedAt);

    private readonly record struct Event(long At, int Member, char Kind, int[] Partitions);

    /// <summary>One group: N-1 members settle, the Nth joins. All state is guarded by one lock (a few thousand records/s).</summary>
    private sealed class Scenario(string bootstrap, string topic, int partitions, int members, bool classic, int? classicHeartbeatMs, string groupId,
        ConcurrentDictionary<string, int> clientLog)
    {
        private readonly Lock _gate = new();
        private readonly int[] _owner = Enumerable.Repeat(-1, partitions).ToArray();
        private readonly long[] _ownerSince = new long[partitions];
        private readonly int[] _lastMember = Enumerable.Repeat(-1, partitions).ToArray();
        private readonly long[] _lastAt = new long[partitions];
        private readonly int[] _count = new int[members];
        private readonly long[] _subscribedAt = new long[members];
        private readonly long[] _firstRecordAt = new long[members];
        private readonly List<Rec>[] _records = Enumerable.Range(0, partitions).Select(_ => new List<Rec>()).ToArray();
        private readonly List<Event> _events = [];
        private readonly List<Thread> _threads = [];
        private volatile bool _stopping;
        private int _stray;

        public ConcurrentQueue<string> Notes { get; } = new();

        public async Task<Row?> RunAsync(string protocol, string heartbeat, int round, int steadyMs, int jitterMs, int tailMs, TimeSpan deadline)
        {
            try
            {
                long startAt = Stopwatch.GetTimestamp();
                for (int m = 0; m < members - 1; m++)
                    Start(m);
                if (!await Until(() => Settled(members - 1), deadline, "the first members to settle"))
                    return null;
                long settledAt = Stopwatch.GetTimestamp();
                int eventsAtSettle;
                lock (_gate)
                    eventsAtSettle = _events.Count;
                // A random extra wait puts the join at a random point of the members' heartbeat cycles.
                await Task.Delay(steadyMs + Random.Shared.Next(jitterMs + 1));
                int[] before;
                lock (_gate)
                {
                    if (_events.Count != eventsAtSettle)
                        Notes.Enqueue($"{_events.Count - eventsAtSettle} assignment changes during the steady window before the join.");
                    before = (int[])_owner.Clone();
                }
                Start(members - 1);
                if (!await Until(() => Settled(members), deadline, "the group to settle after the join"))
                    return null;
                await Task.Delay(tailMs);
                long end = Stopwatch.GetTimestamp();
                int[] after;
                Rec[][] records;
                Event[] events;
                long joinAt, firstAt;
                int stray;
                lock (_gate)
                {
                    after = (int[])_owner.Clone();
                    records = _records.Select(r => r.ToArray()).ToArray();
                    events = _events.ToArray();
                    joinAt = _subscribedAt[members - 1];
                    firstAt = _firstRecordAt[members - 1];
                    stray = _stray;
                }
                return Analyse(protocol, heartbeat, round, Ms(settledAt - startAt) / 1000, joinAt, firstAt, end,
                    Stopwatch.Frequency * steadyMs / 1000, before, after, records, events, stray);
            }
            finally
            {
                Stop();
            }
        }

        private Row Analyse(string protocol, string heartbeat, int round, double settleSeconds, long joinAt, long firstAt, long end, long steadyTicks,
            int[] before, int[] after, Rec[][] records, Event[] events, int stray)
        {
            double keptBefore = 0, keptAround = 0, movedPause = 0;
            (int Partition, long From, long To) longest = (-1, 0, 0);
            double latencyBefore = 0, latencyAround = 0; // produce → consume of kept partitions' records
            long lastMovedConsuming = firstAt;
            int moved = 0, nextOffset = 0, skipped = 0, redelivered = 0;
            for (int p = 0; p < partitions; p++)
            {
                var list = records[p];
                if (before[p] == after[p])
                {
                    foreach (var r in list)
                    {
                        if (r.ProducedAt == 0)
                            continue;
                        if (r.At >= joinAt - steadyTicks && r.At <= joinAt)
                            latencyBefore = Math.Max(latencyBefore, Ms(r.At - r.ProducedAt));
                        else if (r.At > joinAt && r.At <= end)
                            latencyAround = Math.Max(latencyAround, Ms(r.At - r.ProducedAt));
                    }
                    for (int i = 1; i < list.Length; i++)
                    {
                        double gap = Ms(list[i].At - list[i - 1].At);
                        if (list[i - 1].At >= joinAt - steadyTicks && list[i].At <= joinAt)
                            keptBefore = Math.Max(keptBefore, gap);
                        if (list[i].At > joinAt && list[i - 1].At < end && gap > keptAround)
                        {
                            keptAround = gap;
                            longest = (p, list[i - 1].At, list[i].At);
                        }
                    }
                    if (list.Length > 0 && list[^1].At < end && Ms(end - Math.Max(list[^1].At, joinAt)) > keptAround)
                    {
                        keptAround = Ms(end - Math.Max(list[^1].At, joinAt));
                        longest = (p, Math.Max(list[^1].At, joinAt), end);
                    }
                    continue;
                }
                moved++;
                int first = Array.FindIndex(list, r => r.At > joinAt && r.Member == after[p]);
                int last = first < 0 ? -1 : Array.FindLastIndex(list, first, r => r.Member == before[p]);
                if (first < 0 || last < 0)
                {
                    Notes.Enqueue($"partition {p} moved m{before[p]} → m{after[p]} without records on both sides.");
                    continue;
                }
                movedPause = Math.Max(movedPause, Ms(list[first].At - list[last].At));
                lastMovedConsuming = Math.Max(lastMovedConsuming, list[first].At);
                long expected = list[last].Offset + 1;
                if (list[first].Offset == expected)
                    nextOffset++;
                else if (list[first].Offset > expected)
                    skipped++;
                else
                    redelivered++;
            }

            int revocations = 0, keptRevoked = 0;
            foreach (var e in events.Where(e => e.At >= joinAt && e.At <= end))
            {
                foreach (int p in e.Partitions)
                {
                    if (e.Kind == '+')
                    {
                        if (after[p] != e.Member)
                            Notes.Enqueue($"partition {p} was assigned to m{e.Member} at +{Ms(e.At - joinAt):N0} ms but ends with m{after[p]} (moved more than once).");
                        continue;
                    }
                    revocations++;
                    if (before[p] == e.Member && after[p] == e.Member)
                    {
                        keptRevoked++;
                        Notes.Enqueue($"FAIL: m{e.Member} {(e.Kind == 'x' ? "lost" : "had revoked")} partition {p} at +{Ms(e.At - joinAt):N0} ms and got it back.");
                    }
                }
            }
            // What happened, relative to the Nth member's Subscribe: who gained (+) or gave up (-, or x for lost) how many partitions when.
            Notes.Enqueue(string.Create(CultureInfo.InvariantCulture, $"join at {Ms(joinAt):F0} ms (Stopwatch); ") + "callbacks: " + string.Join("; ", events.Where(e => e.At >= joinAt && e.At <= end)
                .Select(e => string.Create(CultureInfo.InvariantCulture, $"m{e.Member} {e.Kind}{e.Partitions.Length} at +{Ms(e.At - joinAt):N0}"))) + ".");
            Notes.Enqueue(string.Create(CultureInfo.InvariantCulture,
                $"kept partitions' longest produce → consume latency: {latencyBefore:N0} ms before the join, {latencyAround:N0} ms around it."));
            if (longest.Partition >= 0)
            {
                int m = after[longest.Partition];
                // Was it the partition, its member, or everything (a stalled process or machine)?
                var (from, to) = (longest.From, longest.To);
                int sameMember = 0, others = 0;
                for (int p = 0; p < partitions; p++)
                {
                    foreach (var r in records[p])
                    {
                        if (r.At > from && r.At < to)
                        {
                            if (r.Member == m)
                                sameMember++;
                            else
                                others++;
                        }
                    }
                }
                Notes.Enqueue(string.Create(CultureInfo.InvariantCulture,
                    $"longest gap of a kept partition: {longest.Partition} (m{m}) from +{Ms(from - joinAt):N0} to +{Ms(to - joinAt):N0} ms; meanwhile m{m} consumed {sameMember} records of its other partitions and the other members {others}."));
            }
            var sizes = Enumerable.Range(0, members).Select(m => after.Count(o => o == m)).ToArray();
            if (moved > 0)
                Notes.Enqueue($"{moved} moved partitions: {nextOffset} resumed at the next offset, {skipped} skipped records, {redelivered} re-delivered records; partitions per member after: {string.Join(",", sizes)}.");
            if (stray > 0)
                Notes.Enqueue($"FAIL: {stray} records consumed from a partition the member did not own (by its rebalance callbacks).");
            return new Row(protocol, heartbeat, round, settleSeconds, firstAt == 0 ? double.NaN : Ms(firstAt - joinAt), Ms(lastMovedConsuming - joinAt),
                moved, revocations, keptRevoked, keptBefore, keptAround, movedPause);
        }

        private void Start(int m)
        {
            var config = new ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = groupId,
                ClientId = $"{groupId}-m{m}",
            };
            if (classic)
            {
                config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
                config.HeartbeatIntervalMs = classicHeartbeatMs;
            }
            else
            {
                config.GroupProtocol = GroupProtocol.Consumer;
            }
            // Diagnostics: SAMSA_PERF_RDKAFKA_DEBUG=fetch,cgrp (librdkafka's debug contexts) writes the members' logs to stderr.
            config.Debug = Environment.GetEnvironmentVariable("SAMSA_PERF_RDKAFKA_DEBUG");
            var thread = new Thread(() => Run(m, config)) { IsBackground = true, Name = config.ClientId };
            _threads.Add(thread);
            thread.Start();
        }

        private void Run(int m, ConsumerConfig config)
        {
            using var consumer = new ConsumerBuilder<Ignore, byte[]>(config)
                .SetPartitionsAssignedHandler((_, ps) => OnAssigned(m, ps.Select(p => p.Partition.Value).ToArray()))
                .SetPartitionsRevokedHandler((_, ps) => OnRevoked(m, '-', ps.Select(p => p.Partition.Value).ToArray()))
                .SetPartitionsLostHandler((_, ps) => OnRevoked(m, 'x', ps.Select(p => p.Partition.Value).ToArray()))
                .SetLogHandler((_, l) =>
                {
                    if (config.Debug is null)
                        Count(clientLog, $"{l.Level}: {l.Message}");
                    else
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Ms(Stopwatch.GetTimestamp()):F0} m{m} {l.Facility} {l.Message}"));
                })
                .SetErrorHandler((_, e) => Count(clientLog, "error: " + e.Reason))
                .Build();
            lock (_gate)
                _subscribedAt[m] = Stopwatch.GetTimestamp();
            consumer.Subscribe(topic);
            while (!_stopping)
            {
                ConsumeResult<Ignore, byte[]>? r;
                try
                {
                    r = consumer.Consume(100);
                }
                catch (ConsumeException e)
                {
                    Count(clientLog, "consume: " + e.Error.Reason);
                    continue;
                }
                if (r?.Message is null)
                    continue;
                long produced = r.Message.Value is { Length: 8 } v ? BitConverter.ToInt64(v) : 0;
                int p = r.Partition.Value;
                lock (_gate)
                {
                    long now = Stopwatch.GetTimestamp();
                    if (_owner[p] != m)
                        _stray++;
                    _records[p].Add(new Rec(now, m, r.Offset.Value, produced));
                    _lastMember[p] = m;
                    _lastAt[p] = now;
                    if (_firstRecordAt[m] == 0)
                        _firstRecordAt[m] = now;
                }
            }
            try
            {
                consumer.Close();
            }
            catch (KafkaException e)
            {
                Count(clientLog, "close: " + e.Error.Reason);
            }
        }

        private void OnAssigned(int m, int[] ps)
        {
            lock (_gate)
            {
                long now = Stopwatch.GetTimestamp();
                if (_stopping)
                    return;
                _events.Add(new Event(now, m, '+', ps));
                foreach (int p in ps)
                {
                    if (_owner[p] >= 0 && _owner[p] != m)
                        Notes.Enqueue($"FAIL: partition {p} assigned to m{m} while m{_owner[p]} still owned it.");
                    if (_owner[p] != m)
                        _count[m]++;
                    _owner[p] = m;
                    _ownerSince[p] = now;
                }
            }
        }

        private void OnRevoked(int m, char kind, int[] ps)
        {
            lock (_gate)
            {
                if (_stopping)
                    return;
                _events.Add(new Event(Stopwatch.GetTimestamp(), m, kind, ps));
                foreach (int p in ps)
                {
                    if (_owner[p] == m)
                    {
                        _owner[p] = -1;
                        _count[m]--;
                    }
                }
            }
        }

        /// <summary>The first <paramref name="n"/> members own every partition, balanced, and each partition has been consumed by its owner since it got it.</summary>
        private bool Settled(int n)
        {
            lock (_gate)
            {
                int low = partitions / n, high = (partitions + n - 1) / n;
                for (int m = 0; m < n; m++)
                {
                    if (_count[m] < low || _count[m] > high)
                        return false;
                }
                for (int p = 0; p < partitions; p++)
                {
                    if (_owner[p] < 0 || _lastMember[p] != _owner[p] || _lastAt[p] < _ownerSince[p])
                        return false;
                }
                return _firstRecordAt[n - 1] != 0;
            }
        }

        private async Task<bool> Until(Func<bool> done, TimeSpan deadline, string what)
        {
            var watch = Stopwatch.StartNew();
            while (!done())
            {
                if (watch.Elapsed > deadline)
                {
                    lock (_gate)
                        Notes.Enqueue($"FAIL: timed out after {deadline.TotalSeconds:N0} s waiting for {what}; partitions per member: {string.Join(",", _count)}, unowned: {_owner.Count(o => o < 0)}.");
                    return false;
                }
                await Task.Delay(50);
            }
            return true;
        }

        private void Stop()
        {
            _stopping = true;
            var deadline = Stopwatch.StartNew();
            foreach (var t in _threads)
            {
                var left = TimeSpan.FromSeconds(30) - deadline.Elapsed;
                if (left <= TimeSpan.Zero || !t.Join(left))
                {
                    Notes.Enqueue($"{t.Name} did not close within 30 s.");
                    break;
                }
            }
        }
    }

    private static string Spread(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        double median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        return v[0] == v[^1] ? v[0].ToString("N0", CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{median:N0} ({v[0]:N0}–{v[^1]:N0})");
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
