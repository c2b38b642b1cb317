using System.Diagnostics;
using Samsa.Client.Admin;
using Samsa.Client.Producer;

namespace Samsa.Cli.Demo;

/// <summary>
/// Step 7: the difference readers of the consumer notes care most about. Records flow steadily into every partition while a
/// member joins; each partition's longest gap between two records reaching the application shows
/// which ones stopped, under the classic protocol and the consumer protocol at the same time.
/// </summary>
internal static partial class DemoCommand
{
    private const string BusyTopic = "busy";
    private const int BusyPartitions = 8;

    /// <summary>One record per partition this often: steady gaps this short stand out from any rebalance pause.</summary>
    private static readonly TimeSpan ProduceEvery = TimeSpan.FromMilliseconds(20);

    /// <summary>How long the flow is watched before the join and after the groups settle, so a pause at either edge is seen whole.</summary>
    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(1);

    private static async Task JoinBusyGroup(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        BusyGroup[] groups =
        [
            new(Membership.Classic("cooperative-sticky"), "busy-classic", "classic", BusyTopic, BusyPartitions),
            new(Membership.Consumer("uniform"), "busy-kip848", "kip848", BusyTopic, BusyPartitions),
        ];
        Console.WriteLine();
        Step($"7. A member joins a busy group: only the partitions that move stop (two groups read the same {BusyPartitions} partitions, side by side)",
            $"a record into every partition each {Ms(ProduceEvery)}; two members per group, then a third joins both");
        foreach (var g in groups)
            Console.WriteLine($"  {g.How.Label}: {g.How.Describe()}");
        await using var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = bootstrap });
        await admin.CreateTopicsAsync([new NewTopic(BusyTopic, BusyPartitions)], cancellationToken: ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producing = Task.Run(() => ProduceSteadily(bootstrap, stop.Token), ct);
        try
        {
            foreach (var g in groups)
            {
                g.Add(bootstrap);
                g.Add(bootstrap);
            }
            var settled = await Task.WhenAll(groups.Select(g => g.SettleAsync(admin, ct)));
            long steadyFrom = Stopwatch.GetTimestamp();
            check(settled.All(s => s) && await FlowFor(groups, steadyFrom, ct), "in both groups two members own four partitions each, and records flow from every partition");

            long joinAt = Stopwatch.GetTimestamp();
            foreach (var g in groups)
            {
                g.SnapshotBefore();
                g.Add(bootstrap);
            }
            settled = await Task.WhenAll(groups.Select(g => g.SettleAsync(admin, ct)));
            var settledIn = Stopwatch.GetElapsedTime(joinAt);
            foreach (var g in groups)
                g.SnapshotAfter();
            bool flowing = await FlowFor(groups, Stopwatch.GetTimestamp(), ct);
            long end = Stopwatch.GetTimestamp();

            var steady = groups.Select(g => Enumerable.Range(0, BusyPartitions).Max(p => g.Timeline.LongestGap(p, steadyFrom, joinAt))).ToList();
            var gaps = groups.Select(g => Enumerable.Range(0, BusyPartitions).Select(p => g.Timeline.LongestGap(p, joinAt, end)).ToArray()).ToList();
            PrintBusyTable(groups, gaps);
            Console.WriteLine($"  both groups settled {Ms(settledIn)} after the join; \"longest gap\" is the longest time between two records of the partition reaching the application, from the join until {Ms(Watch)} after settling");
            Console.WriteLine("  a moved partition waits for its new owner: under cooperative-sticky for the second JoinGroup/SyncGroup round, under the consumer protocol "
                + $"for the new owner's next ConsumerGroupHeartbeat after the old owner let go, within group.consumer.heartbeat.interval.ms ({Ms(ConsumerHeartbeat)} here, 5000 ms by default)");
            for (int i = 0; i < groups.Length; i++)
                ReportBusy(groups[i], settled[i] && flowing, gaps[i], steady[i], check);
        }
        finally
        {
            await stop.CancelAsync();
            await producing;
            Parallel.ForEach(groups, g => g.Dispose());
        }
    }

    /// <summary>
    /// Waits until <see cref="Watch"/> has passed since <paramref name="since"/> and, in every group,
    /// every partition delivered a record in the second half of it: the flow is steady, not a
    /// backlog being drained. False after 20 s without that; the report then shows the quiet partitions.
    /// </summary>
    private static async Task<bool> FlowFor(BusyGroup[] groups, long since, CancellationToken ct)
    {
        long halfway = since + (long)(Watch.TotalSeconds * Stopwatch.Frequency / 2);
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 20;
        while (Stopwatch.GetElapsedTime(since) < Watch || !groups.All(g => g.Timeline.AllConsumedAfter(BusyPartitions, halfway)))
        {
            if (Stopwatch.GetTimestamp() > until)
                return false;
            await Task.Delay(20, ct);
        }
        return true;
    }

    private static async Task ProduceSteadily(string bootstrap, CancellationToken stop)
    {
        await using var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = bootstrap });
        using var timer = new PeriodicTimer(ProduceEvery);
        long n = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                for (int p = 0; p < BusyPartitions; p++)
                    producer.Produce(BusyTopic, new Message<string, string>($"key-{p}", $"record {n}") { Partition = p });
                n++;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void PrintBusyTable(BusyGroup[] groups, List<TimeSpan[]> gaps)
    {
        var rows = new List<string[]>();
        for (int p = 0; p < BusyPartitions; p++)
        {
            var row = new List<string> { p.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            for (int i = 0; i < groups.Length; i++)
            {
                var (before, after) = (groups[i].Before[p], groups[i].After[p]);
                row.Add(before == after ? $"{before} (stays)" : $"{before} -> {after}");
                row.Add(Ms(gaps[i][p]));
            }
            rows.Add([.. row]);
        }
        DemoTable.Print(groups.SelectMany(g => new[] { g.How.Label, "longest gap" }).Prepend("partition").ToList(), rows);
    }

    /// <summary>The floor of what counts as a pause: on a quiet machine the flow's gaps are a few milliseconds, and a scheduling hiccup is not a stop.</summary>
    private static readonly TimeSpan PauseFloor = TimeSpan.FromMilliseconds(200);

    private static void ReportBusy(BusyGroup g, bool settled, TimeSpan[] gaps, TimeSpan steady, Action<bool, string> check)
    {
        var moved = g.Moved;
        var stayed = Enumerable.Range(0, BusyPartitions).Except(moved).ToList();
        var revoked = g.RevokedSinceJoin();
        // A pause must stand out from the flow the same group saw before the join, measured on
        // this machine now: a busy machine stretches every gap, not only the moving ones'.
        var threshold = TimeSpan.FromTicks(Math.Max(PauseFloor.Ticks, steady.Ticks * 3));
        var paused = Enumerable.Range(0, BusyPartitions).Where(p => gaps[p] > threshold).ToList();
        var stayedMax = stayed.Select(p => gaps[p]).DefaultIfEmpty().Max();
        string List(IEnumerable<int> ps) => ps.Any() ? string.Join(", ", ps) : "none";
        Console.WriteLine($"  {g.How.Label}:");
        Console.WriteLine($"    moved: {moved.Count} of {BusyPartitions} partitions ({List(moved)}), longest gaps {string.Join(", ", moved.Select(p => Ms(gaps[p])))}; "
            + $"revoked during the join: {List(revoked.Order())}");
        Console.WriteLine($"    stayed: {stayed.Count}, longest gap {Ms(stayedMax)} (before the join no partition's gap was longer than {Ms(steady)})");
        var quick = moved.Except(paused).ToList();
        Console.WriteLine($"    paused (longest gap over {Ms(threshold)}: three times the longest gap before the join, at least {Ms(PauseFloor)}): {List(paused)}"
            + (paused.Count == 0 ? "" : paused.All(moved.Contains) ? ", every one of them a partition that moved" : ", not only partitions that moved")
            + (quick.Count == 0 ? "" : $"; moved but handed over within that: {List(quick)}"));
        check(settled && moved.Count > 0 && g.Members[^1].Owned.Count > 0 && revoked.Order().SequenceEqual(moved.Order()),
            $"{g.How.Label}: the new member took its share and only the partitions that moved were revoked");
        check(stayed.All(p => gaps[p] <= threshold), $"{g.How.Label}: only partitions that moved paused; the ones that stayed kept flowing");
    }
}
