using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Cli.Demo;

/// <summary>Steps 1–6: classic groups growing, shrinking and restarting, eager against cooperative, then consumers that assign their own partitions.</summary>
internal static partial class DemoCommand
{
    /// <summary>Steps 1 and 2; returns how many partitions the remaining members revoked for step 2's single move.</summary>
    private static async Task<int> Eager(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        // sticky, not range: range deals partitions out in member order, so when a member leaves
        // every partition after its own shifts (three change owner for one departure). sticky
        // moves only the departed member's, which keeps step 2 about the eager protocol, whose
        // cost is that everyone stops, rather than about the assignor.
        var how = Membership.Classic("sticky");
        Step("1. A group grows from one to five consumers (eager rebalancing, sticky assignor)", how.Describe());
        Console.WriteLine("  sticky rather than the default range: range deals partitions out in member order, so when a member leaves, every partition after its own changes owner");
        var members = new List<DemoMember>();
        try
        {
            var headers = new List<string>();
            var columns = new List<string[]>();
            for (int i = 1; i <= 5; i++)
            {
                var joining = new DemoMember($"consumer-{i}", bootstrap, "eager", Topic, how);
                members.Add(joining);
                int n = i;
                bool ok = await Settle(members, o => joining.Assignments > 0
                    && (n <= Partitions ? o.All(x => x.Count == Partitions / n || x.Count == Partitions / n + 1) : o.Count(x => x.Count == 0) == 1), ct);
                headers.Add(n == 1 ? "1 consumer" : $"{n} consumers");
                columns.Add(DemoTable.Owners(members, Partitions));
                check(ok, n switch
                {
                    1 => "one consumer owns all 4 partitions",
                    5 => "with five consumers every partition has one owner and one consumer is idle",
                    _ => $"{n} consumers share the 4 partitions, each owned once",
                });
            }
            DemoTable.Ownership(headers, columns);
            DemoTable.Idle(members);
            var perJoin = Enumerable.Range(1, columns.Count - 1).Select(c => DemoTable.Moved(columns[c - 1], columns[c]).Count);
            Console.WriteLine($"  partitions that changed owner at each join: {string.Join(", ", perJoin)}");

            Console.WriteLine();
            Step("2. consumer-2 leaves: its partition moves to the idle consumer", how.Describe() + "; the leaver sends LeaveGroup on close");
            var leaving = members[1];
            var idle = members.Where(m => m.Owned.Count == 0).Select(m => m.Name).ToList();
            var before = DemoTable.Owners(members, Partitions);
            var revokedBefore = members.ToDictionary(m => m, m => m.RevokedSnapshot().Count);
            var pausedBefore = members.ToDictionary(m => m, m => m.PausedSnapshot().Count);
            leaving.Dispose();
            members.Remove(leaving);
            bool settled = await Settle(members, o => o.All(x => x.Count == 1), ct);
            var after = DemoTable.Owners(members, Partitions);
            DemoTable.Ownership(["before", "after"], [before, after]);
            var moved = DemoTable.Moved(before, after);
            var revoked = members.SelectMany(m => m.RevokedSnapshot().Skip(revokedBefore[m])).ToList();
            var longest = members.SelectMany(m => m.PausedSnapshot().Skip(pausedBefore[m])).Select(p => p.For).DefaultIfEmpty().Max();
            Console.WriteLine($"  {moved.Count} partition(s) changed owner ({string.Join(", ", moved.Select(p => $"{p}: {before[p]} -> {after[p]}"))}), "
                + $"yet the remaining members revoked {revoked.Count} partition(s) and stopped them all, the longest for {Ms(longest)}");
            check(settled && moved.Count == 1 && before[moved[0]] == leaving.Name && idle.Contains(after[moved[0]]),
                "only consumer-2's partition changed owner, and it went to the idle consumer");
            check(revoked.Count >= 3, "under eager rebalancing every member gave up its partitions, even those that did not move");
            return revoked.Count;
        }
        finally
        {
            foreach (var m in members)
                m.Dispose();
        }
    }

    private static async Task Cooperative(string bootstrap, int eagerRevoked, Action<bool, string> check, CancellationToken ct)
    {
        var how = Membership.Classic("cooperative-sticky");
        Console.WriteLine();
        Step("3. The same change with cooperative-sticky (incremental rebalancing)", how.Describe());
        var members = new List<DemoMember>();
        try
        {
            for (int i = 1; i <= 4; i++)
                members.Add(new DemoMember($"coop-{i}", bootstrap, "coop", Topic, how));
            check(await Settle(members, o => o.All(x => x.Count == 1), ct), "four cooperative consumers own one partition each");
            var four = DemoTable.Owners(members, Partitions);
            var fifth = new DemoMember("coop-5", bootstrap, "coop", Topic, how);
            members.Add(fifth);
            bool joined = await Settle(members, o => fifth.Assignments > 0 && o.Count(x => x.Count == 0) == 1, ct);
            var five = DemoTable.Owners(members, Partitions);
            check(joined && DemoTable.Moved(four, five).Count == 0, "coop-5 joined idle and no partition moved");

            var leaving = members.First(m => m.Owned.Count == 1);
            var revokedBefore = members.ToDictionary(m => m, m => m.RevokedSnapshot().Count);
            leaving.Dispose();
            members.Remove(leaving);
            bool settled = await Settle(members, o => o.All(x => x.Count == 1), ct);
            var after = DemoTable.Owners(members, Partitions);
            DemoTable.Ownership(["4 consumers", "coop-5 joins", $"{leaving.Name} leaves"], [four, five, after]);
            var moved = DemoTable.Moved(five, after);
            var revoked = members.SelectMany(m => m.RevokedSnapshot().Skip(revokedBefore[m])).ToList();
            Console.WriteLine($"  {moved.Count} partition(s) changed owner ({string.Join(", ", moved.Select(p => $"{p}: {five[p]} -> {after[p]}"))}); "
                + $"the other members revoked {(revoked.Count == 0 ? "nothing" : string.Join(",", revoked))} and kept consuming (eager, step 2: {eagerRevoked} revoked)");
            check(settled && moved.Count == 1 && five[moved[0]] == leaving.Name && revoked.Count == 0, "only the departed member's partition moved; nobody else stopped");
        }
        finally
        {
            foreach (var m in members)
                m.Dispose();
        }
    }

    private static async Task Static(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        var how = Membership.Classic("range");
        Console.WriteLine();
        Step("4. A static member (group.instance.id) restarts within session.timeout.ms",
            how.Describe() + $", group.instance.id=host-a/host-b: a static member sends no LeaveGroup on close, and its JoinGroup within session.timeout.ms={Membership.ClassicSession.TotalMilliseconds:F0} gets its old assignment back without a rebalance");
        var a = new DemoMember("static-a", bootstrap, "static", Topic, how, instanceId: "host-a");
        var b = new DemoMember("static-b", bootstrap, "static", Topic, how, instanceId: "host-b");
        try
        {
            check(await Settle([a, b], o => o.All(x => x.Count == 2), ct), "two static members own two partitions each");
            var before = DemoTable.Owners([a, b], Partitions);
            var owned = b.Owned;
            int revokesOfA = a.RevokedSnapshot().Count;
            b.Dispose();
            b = new DemoMember("static-b", bootstrap, "static", Topic, how, instanceId: "host-b");
            bool back = await Settle([a, b], o => o[1].SetEquals(owned), ct);
            DemoTable.Ownership(["before", "static-b restarted"], [before, DemoTable.Owners([a, b], Partitions)]);
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
        Console.WriteLine();
        Step("5. Commit, stop, and a new consumer resumes at the committed offset",
            "Assign (no group membership, so no rebalance), OffsetCommit through CommitSync with group.id=resume and enable.auto.commit=false; "
            + "the next consumer's starting position comes from OffsetFetch, auto.offset.reset=earliest only when nothing is committed");
        var tp = new TopicPartition(Topic, 0);
        long committed;
        string first;
        await using (var consumer = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = bootstrap, GroupId = "resume", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false }))
        {
            consumer.Assign([tp]);
            var records = new List<ConsumeResult<string, string>>();
            while (records.Count < 3)
                records.AddRange(await consumer.PollAsync(TimeSpan.FromSeconds(1), ct));
            committed = records[2].Offset + 1;
            await consumer.CommitSyncAsync([records[2].NextOffset], ct);
            first = $"read {records[0].Offset}..{records[2].Offset}, committed {committed}";
        }
        await using var second = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = bootstrap, GroupId = "resume", AutoOffsetReset = AutoOffsetReset.Earliest });
        second.Assign([tp]);
        var next = new List<ConsumeResult<string, string>>();
        while (next.Count == 0)
            next.AddRange(await second.PollAsync(TimeSpan.FromSeconds(1), ct));
        DemoTable.Print(["partition", "before: first consumer", "after: second consumer"], [[tp.ToString(), first, $"starts at offset {next[0].Offset}"]]);
        check(next[0].Offset == committed, "the new consumer resumed exactly at the committed offset");
    }

    private static async Task Standalone(string bootstrap, Action<bool, string> check, CancellationToken ct)
    {
        Console.WriteLine();
        Step("6. A standalone consumer: assign a partition and seek, no group at all",
            "Assign + Seek with no group.id: no JoinGroup, no heartbeats, no commits; Fetch starts at the offset sought");
        var tp = new TopicPartition(Topic, 2);
        await using var consumer = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = bootstrap });
        consumer.Assign([tp]);
        consumer.Seek(new TopicPartitionOffset(tp, 2));
        var records = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (records.Count == 0 && DateTime.UtcNow < until)
            records.AddRange(await consumer.PollAsync(TimeSpan.FromSeconds(1), ct));
        DemoTable.Print(["partition", "before", "after"],
            [[tp.ToString(), "not assigned", $"assigned by the application, sought to 2, read {records.Count} record(s) from offset {records.FirstOrDefault()?.Offset}"]]);
        check(records.Count > 0 && records[0].Offset == 2, "assign + seek read from the chosen offset without joining a group");
    }
}
