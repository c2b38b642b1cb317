using System.Text.RegularExpressions;

namespace Samsa.Interop.Tests.Cli;

/// <summary>
/// <c>samsa demo</c> run once as a process, alone: its busy-group step measures pauses, and other
/// tests' brokers on the same two cores would stretch them. Each test reads one part of the output.
/// </summary>
public sealed class DemoRun : IAsyncLifetime
{
    public int Exit { get; private set; }

    public string Out { get; private set; } = "";

    public string Err { get; private set; } = "";

    public async Task InitializeAsync() => (Exit, Out, Err) = await CliTests.Samsa("", "demo");

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The lines of step <paramref name="n"/>, from its heading to the next step's (or the closing line).</summary>
    public List<string> Step(int n)
    {
        var lines = Out.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int start = lines.FindIndex(l => l.StartsWith($"{n}. ", StringComparison.Ordinal));
        Assert.True(start >= 0, $"no step {n} in:\n{Out}");
        int end = lines.FindIndex(start + 1, l => Regex.IsMatch(l, @"^(\d+\. |Every step|\d+ step\(s\) did not)"));
        return lines[start..(end < 0 ? lines.Count : end)];
    }
}

[CollectionDefinition(nameof(DemoTests), DisableParallelization = true)]
public sealed class DemoCollection : ICollectionFixture<DemoRun>;

[Collection(nameof(DemoTests))]
public sealed class DemoTests(DemoRun demo)
{
    [Fact]
    public void The_demo_walks_through_every_step_and_exits_zero()
    {
        Assert.True(demo.Exit == 0, demo.Out + demo.Err);
        Assert.Contains("Every step behaved as described", demo.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", demo.Out, StringComparison.Ordinal);
        Assert.Contains("is idle: more consumers than partitions", demo.Out, StringComparison.Ordinal);
        // It says which timings it lowered, so nobody takes its speed for the defaults'.
        Assert.Contains("group.consumer.heartbeat.interval.ms=500 (default 5000", demo.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, "partition.assignment.strategy=sticky")]
    [InlineData(2, "partition.assignment.strategy=sticky")]
    [InlineData(3, "partition.assignment.strategy=cooperative-sticky")]
    [InlineData(4, "group.instance.id")]
    [InlineData(5, "OffsetCommit")]
    [InlineData(6, "Assign + Seek")]
    [InlineData(7, "group.protocol=consumer")]
    public void Every_step_names_its_api_and_settings_and_shows_the_assignment_before_and_after(int step, string named)
    {
        var lines = demo.Step(step);
        Assert.Contains(lines, l => l.StartsWith("  how: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(named, StringComparison.Ordinal));
        // A table whose header has the partition and at least two states of it side by side.
        var header = lines.FirstOrDefault(l => l.StartsWith("    partition  ", StringComparison.Ordinal));
        Assert.True(header is not null && Regex.Split(header.Trim(), @"\s{2,}").Length >= 3, string.Join('\n', lines));
    }

    [Fact]
    public void When_consumer_2_leaves_only_its_partition_changes_owner_and_the_idle_consumer_gets_it()
    {
        string idle = Regex.Match(string.Join('\n', demo.Step(1)), @"(consumer-\d) is idle").Groups[1].Value;
        var rows = Rows(demo.Step(2), @"^    (\d)  +(\S+)  +(\S+)( \*)?$");
        Assert.Equal(4, rows.Count);
        var moved = Assert.Single(rows, r => r.Groups[4].Success);
        Assert.Equal(("consumer-2", idle), (moved.Groups[2].Value, moved.Groups[3].Value));
        Assert.All(rows.Where(r => r != moved), r => Assert.Equal(r.Groups[2].Value, r.Groups[3].Value));
    }

    [Theory]
    [InlineData(0, "classic (cooperative-sticky)", "classic")]
    [InlineData(1, "consumer protocol (uniform)", "kip848")]
    public void A_member_joining_a_busy_group_pauses_only_the_partitions_that_move(int column, string label, string prefix)
    {
        var lines = demo.Step(7);
        string text = string.Join('\n', lines);
        const string Owner = @"(\S+ \(stays\)|\S+ -> \S+)";
        var rows = Rows(lines, $@"^    (\d+)  +{Owner}  +(\d+) ms  +{Owner}  +(\d+) ms$");
        Assert.True(rows.Count == 8, text);
        var owners = rows.Select(r => r.Groups[2 + 2 * column].Value).ToList();
        var gaps = rows.Select(r => int.Parse(r.Groups[3 + 2 * column].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var moved = Enumerable.Range(0, 8).Where(p => owners[p].Contains("->", StringComparison.Ordinal)).ToList();

        // The joiner took a share, and it is what moved: each moved partition went to it.
        Assert.NotEmpty(moved);
        Assert.All(moved, p => Assert.EndsWith($"-> {prefix}-3", owners[p], StringComparison.Ordinal));
        int at = lines.FindIndex(l => l == $"  {label}:");
        Assert.True(at >= 0, text);
        string list = string.Join(", ", moved);
        Assert.StartsWith($"    moved: {moved.Count} of 8 partitions ({list}), ", lines[at + 1], StringComparison.Ordinal);
        Assert.EndsWith($"revoked during the join: {list}", lines[at + 1], StringComparison.Ordinal);

        // The table's numbers bear out the summary: no partition that stayed has a gap over the
        // pause threshold, and every partition named as paused moved.
        int threshold = int.Parse(Regex.Match(lines[at + 3], @"longest gap over (\d+) ms").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(Enumerable.Range(0, 8).Except(moved), p => Assert.True(gaps[p] <= threshold, $"partition {p} stayed but paused {gaps[p]} ms:\n{text}"));
        // (The table rounds to whole milliseconds, so a gap equal to the threshold may go either way.)
        string named = Regex.Match(lines[at + 3], @"\): (none|\d+(?:, \d+)*)(?=,|;|$)").Groups[1].Value;
        HashSet<int> paused = named == "none" ? [] : named.Split(", ").Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Subset(moved.ToHashSet(), paused);
        Assert.All(Enumerable.Range(0, 8), p => Assert.True(paused.Contains(p) ? gaps[p] >= threshold : gaps[p] <= threshold, $"partition {p}: {gaps[p]} ms against {threshold} ms:\n{text}"));
        Assert.Contains($"  ok   {label}: only partitions that moved paused; the ones that stayed kept flowing", lines);
        Assert.Contains($"  ok   {label}: the new member took its share and only the partitions that moved were revoked", lines);
    }

    [Fact]
    public void Five_share_consumers_on_one_partition_all_work_a_stopped_ones_records_go_to_the_others_and_poison_is_rejected_once()
    {
        var lines = demo.Step(8);
        string text = string.Join('\n', lines);
        Assert.Contains(lines, l => l.StartsWith("  how: ", StringComparison.Ordinal) && l.Contains("group.share.record.lock.duration.ms=2000", StringComparison.Ordinal));

        // Every member received records; the good ones were accepted once each, the poison rejected once.
        var members = Rows(lines, @"^    (worker-\d)  +(\d+)  +(\d+)  +(\d+)  +(\d+)(?:  +stopped dead holding (\d+))?$");
        Assert.True(members.Count == 5, text);
        int N(Match m, int g) => int.Parse(m.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(members, m => Assert.True(N(m, 2) > 0, $"{m.Groups[1].Value} received nothing:\n{text}"));
        Assert.Equal(64, members.Sum(m => N(m, 3)));
        Assert.Equal(1, members.Sum(m => N(m, 4)));
        var victim = Assert.Single(members, m => m.Groups[6].Success);
        int held = N(victim, 6);
        Assert.True(held > 0, text);
        Assert.Equal(0, N(victim, 3));
        Assert.Equal(held, members.Sum(m => N(m, 5))); // the held records, and only they, were delivered twice

        // Each held record went to another member as its second delivery, and was accepted there.
        var redelivered = Rows(lines, @"^    (\d+)  +(worker-\d) \(held\)  +(worker-\d) \(delivery (\d+), (\w+)\)$");
        Assert.True(redelivered.Count == held, text);
        Assert.All(redelivered, r =>
        {
            Assert.Equal(victim.Groups[1].Value, r.Groups[2].Value);
            Assert.NotEqual(victim.Groups[1].Value, r.Groups[3].Value);
            Assert.Equal(("2", "accepted"), (r.Groups[4].Value, r.Groups[5].Value));
        });

        // The poison record: one delivery, rejected, and the start offset passed it.
        var poison = Regex.Match(text, @"offset 60 is poison: (worker-\d) (\w+) it \(delivery (\d+)\); the share-partition start offset is now (\d+) of log end (\d+)");
        Assert.True(poison.Success, text);
        Assert.Equal(("rejected", "1"), (poison.Groups[2].Value, poison.Groups[3].Value));
        Assert.Equal(("65", "65"), (poison.Groups[4].Value, poison.Groups[5].Value));
        Assert.Contains("  ok   every one of the five members received records", lines);
        Assert.Contains("  ok   the rejected poison record was delivered once and never again", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("  FAIL", StringComparison.Ordinal));
    }

    private static List<Match> Rows(IEnumerable<string> lines, string pattern) =>
        lines.Select(l => Regex.Match(l, pattern)).Where(m => m.Success).ToList();
}
