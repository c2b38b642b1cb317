using System.Diagnostics;
using Samsa.Client.Admin;
using Samsa.Client.Producer;

namespace Samsa.Cli.Demo;

/// <summary>
/// Step 8: a share group (KIP-932), what the classic group's limit of one consumer per partition
/// gives way to. Five members work one partition together; one stops dead holding records, which
/// come back to the others once their lock runs out; a poison record rejected once is never seen again.
/// </summary>
internal static partial class DemoCommand
{
    private const string ShareTopic = "jobs";
    private const string ShareGroup = "workers";
    private const int ShareBatch = 4;
    private const int ShareRecords = 60;

    /// <summary>The broker's group.share.record.lock.duration.ms for the demo (default 30 s).</summary>
    private static readonly TimeSpan ShareLock = TimeSpan.FromSeconds(2);

    /// <summary>The broker's group.share.heartbeat.interval.ms for the demo (default 5 s): a member is assigned the partition at its first heartbeats.</summary>
    private static readonly TimeSpan ShareHeartbeat = TimeSpan.FromMilliseconds(500);

    private static async Task ShareGroupWork(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine();
        Step("8. A share group: five consumers on one partition, all of them working (KIP-932 queues)",
            $"ShareGroupHeartbeat to join (the share assignor gives every member the partition), ShareFetch acquiring up to max.poll.records={ShareBatch} "
            + $"under a lock of group.share.record.lock.duration.ms={ShareLock.TotalMilliseconds:F0} (default 30000), share.acknowledgement.mode=explicit with "
            + "accept/reject riding on the next ShareFetch, share.auto.offset.reset=earliest");
        await using var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = bootstrap });
        await admin.CreateTopicsAsync([new NewTopic(ShareTopic, 1)], cancellationToken: ct);
        var deliveries = new List<ShareDelivery>();
        var workers = Enumerable.Range(1, 5)
            .Select(i => new ShareWorker($"worker-{i}", bootstrap, ShareGroup, ShareTopic, ShareBatch, stopDead: i == 3, deliveries))
            .ToList();
        var victim = workers[2];
        try
        {
            bool assigned = await Until(() => workers.All(w => w.Assigned == 1), ct);
            check(assigned, "all five members are assigned the one partition (a classic group would leave four of them idle)");

            // Small batches: a share fetch acquires whole record batches, so one big batch would go to one member.
            await ProduceInBatches(bootstrap, ShareTopic, ShareRecords, ShareBatch, i => $"job {i}", ct);
            IReadOnlyList<Samsa.Client.Consumer.ConsumeResult<string, string>> held;
            try
            {
                held = await victim.StoppedDead.WaitAsync(TimeSpan.FromSeconds(20), ct);
            }
            catch (TimeoutException)
            {
                check(false, $"{victim.Name} received records within 20 s");
                return;
            }
            long stoppedAt = Stopwatch.GetTimestamp();
            var heldOffsets = held.Select(r => r.Offset).ToHashSet();
            Console.WriteLine($"  {victim.Name} stops dead holding offsets {Ranges(heldOffsets)}: it never acknowledges them, never polls again and never closes");
            bool allDone = await Until(() => Accepted(deliveries).Count == ShareRecords, ct);
            var snapshot = Snapshot(deliveries);
            var redeliveries = snapshot.Where(d => heldOffsets.Contains(d.Offset) && d.Worker != victim.Name).ToList();
            var lastBack = redeliveries.Select(d => d.At).DefaultIfEmpty(stoppedAt).Max();
            var firstBack = redeliveries.Select(d => d.At).DefaultIfEmpty(stoppedAt).Min();
            Console.WriteLine($"  its records went to the others {Ms(Stopwatch.GetElapsedTime(stoppedAt, firstBack))} after it stopped "
                + $"(the lock is {Ms(ShareLock)} from the moment they were acquired), each as its second delivery:");
            DemoTable.Print(["offset", "first delivery", "second delivery"],
                heldOffsets.Order().Select(o => new[]
                {
                    o.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"{victim.Name} (held)",
                    string.Join(", ", redeliveries.Where(d => d.Offset == o).Select(d => $"{d.Worker} (delivery {d.DeliveryCount}, {d.Outcome})")),
                }).ToList());
            check(workers.All(w => snapshot.Any(d => d.Worker == w.Name)), "every one of the five members received records");
            check(allDone && heldOffsets.Count > 0 && heldOffsets.All(o => redeliveries.Count(d => d.Offset == o) == 1)
                && redeliveries.All(d => d.DeliveryCount == 2 && d.Outcome == "accepted"),
                $"the records {victim.Name} held were redelivered to the others once their lock ran out (delivery count 2)");
            check(Stopwatch.GetElapsedTime(stoppedAt, firstBack) >= ShareLock - TimeSpan.FromMilliseconds(500),
                "no held record came back before its lock could have run out");

            // A poison record, then more work behind it.
            long poisonOffset = ShareRecords;
            await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = bootstrap }))
            {
                await producer.ProduceAsync(ShareTopic, new Message<string, string>("bad", ShareWorker.Poison), ct);
                for (int i = 0; i < ShareBatch; i++)
                    producer.Produce(ShareTopic, new Message<string, string>($"key-{i}", $"job {ShareRecords + 1 + i}"));
                await producer.FlushAsync(ct);
            }
            int total = ShareRecords + 1 + ShareBatch;
            // Done once the share-partition start offset reaches the log end: everything before it
            // is accepted or rejected for good, so nothing there can be delivered again.
            SharePartitionOffsets? progress = null;
            bool settled = await Until(async () =>
            {
                progress = (await admin.ListShareGroupOffsetsAsync(ShareGroup, ct)).SingleOrDefault();
                return progress is { StartOffset: { } start } && start == total && progress.LogEndOffset == total;
            }, ct);
            snapshot = Snapshot(deliveries);
            var poison = snapshot.Where(d => d.Offset == poisonOffset).ToList();
            Console.WriteLine($"  offset {poisonOffset} is poison: {string.Join(", ", poison.Select(d => $"{d.Worker} {d.Outcome} it (delivery {d.DeliveryCount})"))}; "
                + $"the share-partition start offset is now {progress?.StartOffset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"} "
                + $"of log end {progress?.LogEndOffset.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}, so nothing before it is delivered again");

            DemoTable.Print(["member", "received", "accepted", "rejected", "second deliveries", "note"],
                workers.Select(w =>
                {
                    var mine = snapshot.Where(d => d.Worker == w.Name).ToList();
                    return new[]
                    {
                        w.Name,
                        Count(mine.Count),
                        Count(mine.Count(d => d.Outcome == "accepted")),
                        Count(mine.Count(d => d.Outcome == "rejected")),
                        Count(mine.Count(d => d.DeliveryCount > 1)),
                        w == victim ? $"stopped dead holding {held.Count}" : "",
                    };
                }).ToList());
            var accepted = Accepted(snapshot);
            check(settled && accepted.Count == total - 1 && snapshot.Count(d => d.Outcome == "accepted") == total - 1,
                $"every one of the {total - 1} good records was accepted exactly once");
            check(settled && poison.Count == 1 && poison[0].Outcome == "rejected", "the rejected poison record was delivered once and never again");
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask()));
        }
    }

    private static List<ShareDelivery> Snapshot(List<ShareDelivery> deliveries)
    {
        lock (deliveries)
            return [.. deliveries];
    }

    private static HashSet<long> Accepted(List<ShareDelivery> deliveries) =>
        Snapshot(deliveries).Where(d => d.Outcome == "accepted").Select(d => d.Offset).ToHashSet();

    private static string Count(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Offsets as runs: "8-11, 14".</summary>
    private static string Ranges(IEnumerable<long> offsets)
    {
        var runs = new List<string>();
        long? first = null, last = null;
        foreach (long o in offsets.Order())
        {
            if (last == o - 1)
            {
                last = o;
                continue;
            }
            if (first is { } f)
                runs.Add(f == last ? $"{f}" : $"{f}-{last}");
            first = last = o;
        }
        if (first is { } ff)
            runs.Add(ff == last ? $"{ff}" : $"{ff}-{last}");
        return string.Join(", ", runs);
    }

    private static async Task ProduceInBatches(string bootstrap, string topic, int count, int batch, Func<int, string> value, CancellationToken ct)
    {
        await using var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = bootstrap });
        for (int i = 0; i < count; i++)
        {
            producer.Produce(topic, new Message<string, string>($"key-{i}", value(i)));
            if ((i + 1) % batch == 0)
                await producer.FlushAsync(ct);
        }
        await producer.FlushAsync(ct);
    }

    /// <summary>Waits (up to 20 s) for <paramref name="condition"/>; false on timeout, and the step reports a failure.</summary>
    private static Task<bool> Until(Func<bool> condition, CancellationToken ct) => Until(() => Task.FromResult(condition()), ct);

    private static async Task<bool> Until(Func<Task<bool>> condition, CancellationToken ct)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 20;
        while (Stopwatch.GetTimestamp() < until)
        {
            if (await condition())
                return true;
            await Task.Delay(20, ct);
        }
        return false;
    }
}
