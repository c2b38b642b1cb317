using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Samsa.Broker;
using Samsa.Client.Admin;
using Samsa.Client.Producer;
using Samsa.Cli.Commands;

namespace Samsa.Cli.Demo;

/// <summary>
/// <c>samsa demo</c>: the consumer-group notes (and share groups, step 8) as a live walk-through on an embedded broker. Every
/// step names the API and settings behind it, shows the assignment before and after, and checks
/// what happened; the command exits 0 only if all of them behaved as described.
/// </summary>
internal static partial class DemoCommand
{
    private const string Topic = "orders";
    private const int Partitions = 4;

    /// <summary>
    /// The broker's group.consumer.heartbeat.interval.ms for the demo (default 5 s): a consumer-protocol
    /// member learns of a new assignment only at a heartbeat, so this bounds how long a move takes.
    /// </summary>
    private static readonly TimeSpan ConsumerHeartbeat = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var verbose = Common.Verbose();
        var command = new Command("demo", "Walk through consumer groups, classic and KIP-848, and share groups (KIP-932) on an embedded broker (about a minute).") { verbose };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "demo", () => RunAsync(ct)));
        return command;
    }

    private static async Task<int> RunAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        string dir = Path.Combine(Path.GetTempPath(), "samsa-demo-" + Guid.NewGuid().ToString("N"));
        var failures = new List<string>();
        void Check(bool ok, string what)
        {
            Console.WriteLine($"  {(ok ? "ok  " : "FAIL")} {what}");
            if (!ok)
                failures.Add(what);
        }
        try
        {
            await using var broker = await SamsaBroker.StartAsync(new BrokerOptions
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                DataDirectory = dir,
                GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100),
                ConsumerGroupMinHeartbeatInterval = ConsumerHeartbeat,
                ConsumerGroupHeartbeatInterval = ConsumerHeartbeat,
                ShareGroupMinHeartbeatInterval = ShareHeartbeat,
                ShareGroupHeartbeatInterval = ShareHeartbeat,
                ShareRecordLockDuration = ShareLock,
                ShareAutoOffsetReset = "earliest",
            }, cancellationToken: ct);
            string bootstrap = broker.BootstrapServers;
            Console.WriteLine($"Embedded broker on {bootstrap} (data in {dir}).");
            Console.WriteLine($"Timings lowered for the demo, so partitions move within a second: the broker runs with "
                + $"group.consumer.heartbeat.interval.ms={ConsumerHeartbeat.TotalMilliseconds:F0} (default 5000, and its min lowered to match) "
                + "and group.initial.rebalance.delay.ms=100 (default 3000); classic members use "
                + $"heartbeat.interval.ms={Membership.ClassicHeartbeat.TotalMilliseconds:F0} (default 3000) and "
                + $"session.timeout.ms={Membership.ClassicSession.TotalMilliseconds:F0} (default 45000); share groups run with "
                + $"group.share.heartbeat.interval.ms={ShareHeartbeat.TotalMilliseconds:F0} (default 5000), group.share.record.lock.duration.ms={ShareLock.TotalMilliseconds:F0} (default 30000) "
                + "and share.auto.offset.reset=earliest (default latest).");
            await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = bootstrap }))
                await admin.CreateTopicsAsync([new NewTopic(Topic, Partitions)], cancellationToken: ct);
            await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = bootstrap }))
            {
                for (int i = 0; i < 40; i++)
                    producer.Produce(Topic, new Message<string, string>($"customer-{i % 10}", $"order {i}"));
                await producer.FlushAsync(ct);
            }
            Console.WriteLine($"Topic '{Topic}' with {Partitions} partitions and 40 records.\n");

            var stepTwo = await Eager(bootstrap, Check, ct);
            await Cooperative(bootstrap, stepTwo, Check, ct);
            await Static(bootstrap, Check, ct);
            await CommitAndResume(bootstrap, Check, ct);
            await Standalone(bootstrap, Check, ct);
            await JoinBusyGroup(bootstrap, Check, ct);
            await ShareGroupWork(bootstrap, Check, ct);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        Console.WriteLine(failures.Count == 0
            ? $"\nEvery step behaved as described ({watch.Elapsed.TotalSeconds:F0} s)."
            : $"\n{failures.Count} step(s) did not behave as described: {string.Join("; ", failures)}");
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Waits (up to 20 s) until the members own all <paramref name="partitions"/>, each once, split
    /// as <paramref name="expected"/> says. False on timeout: the step then reports a failure.
    /// </summary>
    private static async Task<bool> Settle(IReadOnlyList<DemoMember> members, Func<IReadOnlyList<HashSet<int>>, bool> expected, CancellationToken ct, int partitions = Partitions)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 20;
        while (Stopwatch.GetTimestamp() < until)
        {
            var owned = members.Select(m => m.Owned).ToList();
            var all = owned.SelectMany(o => o).ToList();
            if (all.Count == partitions && all.Distinct().Count() == partitions && expected(owned))
                return true;
            await Task.Delay(20, ct);
        }
        return false;
    }

    /// <summary>The step's heading and the API and settings behind it.</summary>
    private static void Step(string heading, string how)
    {
        Console.WriteLine(heading);
        Console.WriteLine($"  how: {how}");
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:F0} ms";
}
