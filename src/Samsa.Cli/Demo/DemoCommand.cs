using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Samsa.Broker;
using Samsa.Client;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Cli.Commands;

namespace Samsa.Cli.Demo;

/// <summary>
/// <c>samsa demo</c>: the consumer-group notes as a live walk-through on an embedded broker. Every
/// step checks what happened; the command exits 0 only if all of them behaved as described.
/// </summary>
internal static class DemoCommand
{
    private const string Topic = "orders";

    public static Command Create()
    {
        var verbose = Common.Verbose();
        var command = new Command("demo", "Walk through consumer groups on an embedded broker (about half a minute).") { verbose };
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
            }, cancellationToken: ct);
            string bootstrap = broker.BootstrapServers;
            Console.WriteLine($"Embedded broker on {bootstrap} (data in {dir}).");
            await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = bootstrap }))
                await admin.CreateTopicsAsync([new NewTopic(Topic, 4)], cancellationToken: ct);
            await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = bootstrap }))
            {
                for (int i = 0; i < 40; i++)
                    producer.Produce(Topic, new Message<string, string>($"customer-{i % 10}", $"order {i}"));
                await producer.FlushAsync(ct);
            }
            Console.WriteLine($"Topic '{Topic}' with 4 partitions and 40 records.\n");

            await Eager(bootstrap, Check, ct);
            await Cooperative(bootstrap, Check, ct);
            await Static(bootstrap, Check, ct);
            await CommitAndResume(bootstrap, Check, ct);
            await Standalone(bootstrap, Check, ct);
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

    /// <summary>Waits (up to 20 s) until the members split the partitions as <paramref name="expected"/> says.</summary>
    private static async Task<bool> Settle(IReadOnlyList<DemoMember> members, Func<IReadOnlyList<HashSet<int>>, bool> expected, CancellationToken ct)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            var owned = members.Select(m => m.Owned).ToList();
            var all = owned.SelectMany(o => o).ToList();
            if (all.Count == 4 && all.Distinct().Count() == 4 && expected(owned))
                return true;
            await Task.Delay(50, ct);
        }
        return false;
    }

    private static void Print(IReadOnlyList<DemoMember> members)
    {
        for (int p = 0; p < 4; p++)
        {
            var owner = members.FirstOrDefault(m => m.Owned.Contains(p));
            Console.WriteLine($"    partition {p} -> {owner?.Name ?? "(nobody)"}");
        }
        foreach (var idle in members.Where(m => m.Owned.Count == 0))
            Console.WriteLine($"    {idle.Name} is idle: more consumers than partitions");
    }

    private static async Task Eager(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine("1. A group grows from two to five consumers (eager rebalancing, range assignor)");
        var members = new List<DemoMember>();
        try
        {
            for (int i = 1; i <= 5; i++)
            {
                members.Add(new DemoMember($"consumer-{i}", bootstrap, "eager", Topic, "range"));
                if (i < 2)
                    continue;
                bool ok = await Settle(members, o => i <= 4 ? o.All(x => x.Count == 4 / i || x.Count == 4 / i + 1) : o.Count(x => x.Count == 0) == 1, ct);
                Console.WriteLine($"  {i} consumers:");
                Print(members);
                check(ok, i == 5 ? "with five consumers every partition has one owner and one consumer is idle" : $"{i} consumers share the 4 partitions, each owned once");
            }
            Console.WriteLine("\n2. consumer-2 leaves: its partition moves to the idle consumer");
            var leaving = members[1];
            var before = members.Where(m => m != leaving).ToDictionary(m => m, m => m.RevokedSnapshot().Count);
            leaving.Dispose();
            members.Remove(leaving);
            bool moved = await Settle(members, o => o.All(x => x.Count == 1), ct);
            Print(members);
            check(moved, "the four remaining consumers own one partition each");
            var revoked = members.SelectMany(m => m.RevokedSnapshot().Skip(before[m])).ToList();
            var longest = members.SelectMany(m => m.Paused).Select(p => p.For).DefaultIfEmpty().Max();
            Console.WriteLine($"  eager: {revoked.Count} partition revocation(s) across the group for one move; the longest stop was {longest.TotalMilliseconds:F0} ms");
            check(revoked.Count >= 3, "under eager rebalancing every member gave up its partitions, even those that did not move");
        }
        finally
        {
            foreach (var m in members)
                m.Dispose();
        }
    }

    private static async Task Cooperative(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine("\n3. The same change with cooperative-sticky (incremental rebalancing)");
        var members = new List<DemoMember>();
        try
        {
            for (int i = 1; i <= 4; i++)
                members.Add(new DemoMember($"coop-{i}", bootstrap, "coop", Topic, "cooperative-sticky"));
            check(await Settle(members, o => o.All(x => x.Count == 1), ct), "four cooperative consumers own one partition each");
            members.Add(new DemoMember("coop-5", bootstrap, "coop", Topic, "cooperative-sticky"));
            await Settle(members, o => o.Count(x => x.Count == 0) == 1, ct);
            var leaving = members.First(m => m.Owned.Count == 1);
            var moving = leaving.Owned.Single();
            var before = members.Where(m => m != leaving).ToDictionary(m => m, m => m.RevokedSnapshot().Count);
            leaving.Dispose();
            members.Remove(leaving);
            bool moved = await Settle(members, o => o.All(x => x.Count == 1), ct);
            Print(members);
            var revoked = members.SelectMany(m => m.RevokedSnapshot().Skip(before[m])).ToList();
            Console.WriteLine($"  cooperative: {leaving.Name} left with partition {moving}; other members revoked {(revoked.Count == 0 ? "nothing" : string.Join(",", revoked))} and kept consuming");
            check(moved && revoked.Count == 0, "only the departed member's partition moved; nobody else stopped");
        }
        finally
        {
            foreach (var m in members)
                m.Dispose();
        }
    }

    private static async Task Static(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine("\n4. A static member (group.instance.id) restarts within session.timeout.ms");
        var a = new DemoMember("static-a", bootstrap, "static", Topic, "range", instanceId: "host-a");
        var b = new DemoMember("static-b", bootstrap, "static", Topic, "range", instanceId: "host-b");
        try
        {
            check(await Settle([a, b], o => o.All(x => x.Count == 2), ct), "two static members own two partitions each");
            var owned = b.Owned;
            int revokesOfA = a.RevokedSnapshot().Count;
            b.Dispose();
            b = new DemoMember("static-b", bootstrap, "static", Topic, "range", instanceId: "host-b");
            bool back = await Settle([a, b], o => o[1].SetEquals(owned), ct);
            Print([a, b]);
            check(back && a.RevokedSnapshot().Count == revokesOfA, "the restarted member got its partitions back and the other member was not rebalanced");
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }

    private static async Task CommitAndResume(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine("\n5. Commit, stop, and a new consumer resumes at the committed offset");
        var tp = new TopicPartition(Topic, 0);
        long committed;
        await using (var first = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = bootstrap, GroupId = "resume", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false }))
        {
            first.Assign([tp]);
            var records = new List<ConsumeResult<string, string>>();
            while (records.Count < 3)
                records.AddRange(await first.PollAsync(TimeSpan.FromSeconds(1), ct));
            committed = records[2].Offset + 1;
            await first.CommitSyncAsync([records[2].NextOffset], ct);
            Console.WriteLine($"  the first consumer processed offsets {records[0].Offset}..{records[2].Offset} of {tp} and committed {committed}");
        }
        await using var second = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = bootstrap, GroupId = "resume", AutoOffsetReset = AutoOffsetReset.Earliest });
        second.Assign([tp]);
        var next = new List<ConsumeResult<string, string>>();
        while (next.Count == 0)
            next.AddRange(await second.PollAsync(TimeSpan.FromSeconds(1), ct));
        Console.WriteLine($"  the second consumer started at offset {next[0].Offset}");
        check(next[0].Offset == committed, "the new consumer resumed exactly at the committed offset");
    }

    private static async Task Standalone(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine("\n6. A standalone consumer: assign a partition and seek, no group at all");
        var tp = new TopicPartition(Topic, 2);
        await using var consumer = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = bootstrap });
        consumer.Assign([tp]);
        consumer.Seek(new TopicPartitionOffset(tp, 2));
        var records = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (records.Count == 0 && DateTime.UtcNow < until)
            records.AddRange(await consumer.PollAsync(TimeSpan.FromSeconds(1), ct));
        Console.WriteLine($"  read {records.Count} record(s) of {tp} starting at offset {records.FirstOrDefault()?.Offset}");
        check(records.Count > 0 && records[0].Offset == 2, "assign + seek read from the chosen offset without joining a group");
    }
}
