using System.Diagnostics;
using Samsa.Client.Admin;
using Samsa.Client.Errors;

namespace Samsa.Cli.Demo;

/// <summary>One group of step 7: its members, when each partition's records reached them, and who owned what before and after the join.</summary>
internal sealed class BusyGroup(Membership how, string group, string prefix, string topic, int partitions) : IDisposable
{
    private readonly List<DemoMember> _members = [];
    private Dictionary<DemoMember, int> _revokedBefore = [];

    public Membership How { get; } = how;

    public PartitionTimeline Timeline { get; } = new();

    public IReadOnlyList<DemoMember> Members => _members;

    public string[] Before { get; private set; } = [];

    public string[] After { get; private set; } = [];

    public void Add(string bootstrap) => _members.Add(new DemoMember($"{prefix}-{_members.Count + 1}", bootstrap, group, topic, How, timeline: Timeline));

    public void SnapshotBefore()
    {
        Before = DemoTable.Owners(_members, partitions);
        _revokedBefore = _members.ToDictionary(m => m, m => m.RevokedSnapshot().Count);
    }

    /// <summary>The partitions members gave up since <see cref="SnapshotBefore"/>.</summary>
    public List<int> RevokedSinceJoin() => _members.SelectMany(m => m.RevokedSnapshot().Skip(_revokedBefore.GetValueOrDefault(m))).ToList();

    public void SnapshotAfter() => After = DemoTable.Owners(_members, partitions);

    public List<int> Moved => DemoTable.Moved(Before, After);

    /// <summary>
    /// Waits (up to 20 s) until the broker sees the group settled with every member, and every
    /// member's application owns what the broker gave it. Counting partitions on the members alone
    /// is not enough: a consumer-protocol member may own a share that is not yet its whole target.
    /// </summary>
    public async Task<bool> SettleAsync(KafkaAdminClient admin, CancellationToken ct)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 20;
        while (Stopwatch.GetTimestamp() < until)
        {
            if (await SettledAsync(admin, ct))
                return true;
            await Task.Delay(50, ct);
        }
        return false;
    }

    private async Task<bool> SettledAsync(KafkaAdminClient admin, CancellationToken ct)
    {
        GroupDescription described;
        try
        {
            described = await admin.DescribeGroupAsync(group, ct);
        }
        catch (GroupNotFoundException)
        {
            return false; // the first member has not reached the coordinator yet
        }
        if (described.State != "Stable" || described.Members.Count != _members.Count)
            return false;
        var given = new HashSet<int>();
        foreach (var m in described.Members)
        {
            // A consumer group's member is done when it holds its target; a classic group's
            // Stable assignment is final once it covers every partition (checked below): the
            // first round of a cooperative rebalance leaves the moving partitions out.
            if (m.TargetAssignment is { } target && !target.Select(t => t.Partition).ToHashSet().SetEquals(m.Assignment.Select(a => a.Partition)))
                return false;
            var member = _members.FirstOrDefault(d => d.Name == m.ClientId);
            if (member is null || !member.Owned.SetEquals(m.Assignment.Select(a => a.Partition)))
                return false;
            foreach (var a in m.Assignment)
            {
                if (!given.Add(a.Partition))
                    return false;
            }
        }
        return given.Count == partitions;
    }

    /// <summary>Closes every member at once: one by one, each departure would rebalance the rest for nothing.</summary>
    public void Dispose() => Parallel.ForEach(_members, m => m.Dispose());
}

/// <summary>
/// When each partition's records reached the application, across all members of one group: the
/// pause a partition saw is the longest gap between two of its records being consumed, whichever
/// member consumed them.
/// </summary>
internal sealed class PartitionTimeline
{
    private readonly object _gate = new();
    private readonly Dictionary<int, long> _highest = [];
    private readonly Dictionary<int, List<long>> _consumedAt = [];

    /// <summary>Notes that a member consumed <paramref name="offset"/> of <paramref name="partition"/> just now.</summary>
    public void Consumed(int partition, long offset)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            // A new owner may read again what the old one read after its last commit: that is
            // not progress, and counting it would hide part of the pause.
            if (_highest.TryGetValue(partition, out long highest) && offset <= highest)
                return;
            _highest[partition] = offset;
            if (!_consumedAt.TryGetValue(partition, out var times))
                _consumedAt[partition] = times = [];
            times.Add(now);
        }
    }

    /// <summary>True when every one of <paramref name="partitions"/> had a new record consumed after <paramref name="since"/> (a Stopwatch timestamp).</summary>
    public bool AllConsumedAfter(int partitions, long since)
    {
        lock (_gate)
        {
            for (int p = 0; p < partitions; p++)
            {
                if (!_consumedAt.TryGetValue(p, out var times) || times[^1] <= since)
                    return false;
            }
            return true;
        }
    }

    /// <summary>
    /// The longest gap between consecutive records of <paramref name="partition"/> that overlaps
    /// [<paramref name="from"/>, <paramref name="to"/>] (Stopwatch timestamps), so a pause that
    /// began just before <paramref name="from"/> still counts whole.
    /// </summary>
    public TimeSpan LongestGap(int partition, long from, long to)
    {
        lock (_gate)
        {
            if (!_consumedAt.TryGetValue(partition, out var times))
                return TimeSpan.Zero;
            long longest = 0;
            for (int i = 1; i < times.Count; i++)
            {
                if (times[i] >= from && times[i - 1] <= to)
                    longest = Math.Max(longest, times[i] - times[i - 1]);
            }
            return Stopwatch.GetElapsedTime(0, longest);
        }
    }
}
