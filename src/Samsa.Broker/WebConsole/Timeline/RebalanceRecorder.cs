using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.WebConsole.Timeline;

/// <summary>
/// Remembers, per group, the last N rebalances and who held each partition when: the console's
/// rebalance timeline. It is fed the coordinator's published <see cref="GroupChange"/>s in order and
/// told about fetches; it does no I/O and takes time from a <see cref="TimeProvider"/>, so tests
/// drive it with fake time. Not thread-safe: its owner (<see cref="GroupWatcher"/>) serialises calls.
/// </summary>
internal sealed class RebalanceRecorder(TimeProvider time, int maxRebalances = 20, TimeSpan? fetchWait = null)
{
    private readonly Dictionary<string, GroupTimeline> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<PartitionKey, List<Holding>> _awaitingFetch = [];
    private readonly TimeSpan _fetchWait = fetchWait ?? TimeSpan.FromMinutes(1);

    /// <summary>True while some new holder has not fetched yet: the fetch path asks this first, so it costs nothing otherwise.</summary>
    public bool AwaitingFetch => _awaitingFetch.Count > 0;

    public IEnumerable<string> Groups => _groups.Keys;

    /// <summary>Applies one change; returns the rebalances it completed (the group became Stable).</summary>
    public IReadOnlyList<RebalanceBand> Apply(GroupChange change)
    {
        var now = time.GetUtcNow();
        ExpireAwaiting(now);
        if (change.After is not { } after)
        {
            if (_groups.Remove(change.GroupId, out var gone))
            {
                foreach (var h in gone.Open.Values)
                    StopAwaiting(h);
            }
            return [];
        }
        if (!_groups.TryGetValue(after.GroupId, out var timeline))
            _groups[after.GroupId] = timeline = new GroupTimeline();
        var settled = UpdateBands(timeline, change.Before, after, now);
        UpdateHoldings(timeline, after, now);
        Trim(timeline, after);
        return settled;
    }

    /// <summary>
    /// A Fetch for <paramref name="partition"/> arrived from a connection with this client id and
    /// host: if that is a member assigned the partition and not yet seen fetching, its gap ends now.
    /// </summary>
    public bool Fetched(string clientId, string host, PartitionKey partition)
    {
        if (!_awaitingFetch.TryGetValue(partition, out var waiting))
            return false;
        var now = time.GetUtcNow();
        bool matched = false;
        for (int i = waiting.Count - 1; i >= 0; i--)
        {
            var h = waiting[i];
            if (h.ClientId == clientId && h.Host == host)
            {
                h.FirstFetch = now;
                waiting.RemoveAt(i);
                matched = true;
            }
        }
        if (waiting.Count == 0)
            _awaitingFetch.Remove(partition);
        return matched;
    }

    /// <summary>
    /// Holders that never fetched within the wait (a client behind a proxy, another client id on
    /// its fetch connection) stop being waited for: their gap ends at the assignment instead.
    /// </summary>
    public void ExpireAwaiting(DateTimeOffset now)
    {
        foreach (var (partition, waiting) in _awaitingFetch.ToList())
        {
            waiting.RemoveAll(h => now - h.Assigned > _fetchWait);
            if (waiting.Count == 0)
                _awaitingFetch.Remove(partition);
        }
    }

    private static List<RebalanceBand> UpdateBands(GroupTimeline timeline, GroupView? before, GroupView after, DateTimeOffset now)
    {
        var bands = timeline.Bands;
        var open = bands.Count > 0 && bands[^1].Settled is null ? bands[^1] : null;
        bool started = Metrics.RebalanceMeter.Started(before, after);
        if (started)
        {
            // A rebalance that a newer one overtook stays unsettled: its band ends where the next begins.
            open = new Band(after.Epoch, now, after.Protocol ?? "");
            bands.Add(open);
        }
        else if (open is not null && after.Epoch != open.Epoch)
        {
            open.Epoch = after.Epoch;
        }
        var settled = new List<RebalanceBand>();
        if (open is not null && after.State is "Stable" or "Empty")
        {
            open.Settled = now;
            open.Epoch = after.Epoch;
            open.Protocol = after.Protocol ?? open.Protocol;
            if (after.State == "Stable")
                settled.Add(open.ToRecord());
        }
        return settled;
    }

    private void UpdateHoldings(GroupTimeline timeline, GroupView after, DateTimeOffset now)
    {
        var holding = new HashSet<(PartitionKey, string)>();
        foreach (var member in GroupOwnership.Of(after))
        {
            string id = member.Member.MemberId;
            timeline.ColourOf(id);
            foreach (var p in member.Holding)
            {
                holding.Add((p, id));
                if (timeline.Open.ContainsKey((p, id)))
                    continue;
                var h = new Holding(id, member.Member.ClientId, member.Member.ClientHost, now);
                timeline.Open[(p, id)] = h;
                timeline.Row(p).Add(h);
                if (!_awaitingFetch.TryGetValue(p, out var waiting))
                    _awaitingFetch[p] = waiting = [];
                waiting.Add(h);
            }
        }
        foreach (var (key, h) in timeline.Open.ToList())
        {
            if (holding.Contains(key))
                continue;
            h.Ended = now;
            timeline.Open.Remove(key);
            StopAwaiting(h);
        }
    }

    private void StopAwaiting(Holding h)
    {
        foreach (var (partition, waiting) in _awaitingFetch.ToList())
        {
            if (waiting.Remove(h) && waiting.Count == 0)
                _awaitingFetch.Remove(partition);
        }
    }

    /// <summary>Keeps the last N rebalances and only the holdings that reach into them.</summary>
    private void Trim(GroupTimeline timeline, GroupView view)
    {
        foreach (string id in timeline.Colours.Keys.ToList())
        {
            if (!view.Members.Any(m => m.MemberId == id) && !timeline.Rows.Values.Any(r => r.Any(h => h.MemberId == id)))
                timeline.Colours.Remove(id);
        }
        if (timeline.Bands.Count > maxRebalances)
            timeline.Bands.RemoveRange(0, timeline.Bands.Count - maxRebalances);
        if (timeline.Bands.Count == 0)
            return;
        var start = timeline.Bands[0].Started;
        foreach (var (partition, row) in timeline.Rows.ToList())
        {
            row.RemoveAll(h => h.Ended < start);
            if (row.Count == 0)
                timeline.Rows.Remove(partition);
        }
    }

    public TimelineSnapshot? Snapshot(string groupId)
    {
        if (!_groups.TryGetValue(groupId, out var timeline))
            return null;
        var now = time.GetUtcNow();
        var bands = timeline.Bands.Select(b => b.ToRecord()).ToList();
        var rows = timeline.Rows.OrderBy(r => r.Key)
            .Select(r => new PartitionRow(r.Key, r.Value.Select(h => h.ToRecord()).ToList(), Gaps(r.Key, r.Value)))
            .ToList();
        var first = rows.SelectMany(r => r.Tenures).Select(t => t.Assigned).DefaultIfEmpty(now).Min();
        var start = bands.Count > 0 ? bands[0].Started : first;
        return new TimelineSnapshot(groupId, start, now, bands, rows, new Dictionary<string, int>(timeline.Colours, StringComparer.Ordinal));
    }

    /// <summary>
    /// Every time a partition's holders drop to none after it had one is a gap, even when the next
    /// holder is assigned at the same instant: that holder still has to start fetching. (Eager
    /// protocols make one for every partition; cooperative ones only for the partitions that moved.)
    /// </summary>
    private static List<Gap> Gaps(PartitionKey partition, List<Holding> row)
    {
        var gaps = new List<Gap>();
        bool any = false, heldNow = false;
        var coveredUntil = DateTimeOffset.MinValue;
        string lastHolder = "";
        foreach (var h in row.OrderBy(h => h.Assigned))
        {
            if (any && !heldNow && h.Assigned >= coveredUntil)
                gaps.Add(new Gap(partition, coveredUntil, h.Assigned, h.FirstFetch, lastHolder, h.MemberId));
            if (h.Ended is not { } ended)
            {
                heldNow = true;
                lastHolder = h.MemberId;
            }
            else if (!heldNow && ended >= coveredUntil)
            {
                coveredUntil = ended;
                lastHolder = h.MemberId;
            }
            any = true;
        }
        if (any && !heldNow)
            gaps.Add(new Gap(partition, coveredUntil, null, null, lastHolder, null));
        return gaps;
    }

    private sealed class Band(int epoch, DateTimeOffset started, string protocol)
    {
        public int Epoch { get; set; } = epoch;
        public DateTimeOffset Started { get; } = started;
        public DateTimeOffset? Settled { get; set; }
        public string Protocol { get; set; } = protocol;

        public RebalanceBand ToRecord() => new(Epoch, Started, Settled, Protocol);
    }

    private sealed class Holding(string memberId, string clientId, string host, DateTimeOffset assigned)
    {
        public string MemberId { get; } = memberId;
        public string ClientId { get; } = clientId;
        public string Host { get; } = host;
        public DateTimeOffset Assigned { get; } = assigned;
        public DateTimeOffset? FirstFetch { get; set; }
        public DateTimeOffset? Ended { get; set; }

        public Tenure ToRecord() => new(MemberId, ClientId, Assigned, FirstFetch, Ended);
    }

    private sealed class GroupTimeline
    {
        public List<Band> Bands { get; } = [];
        public Dictionary<PartitionKey, List<Holding>> Rows { get; } = [];
        public Dictionary<(PartitionKey, string), Holding> Open { get; } = [];
        public Dictionary<string, int> Colours { get; } = new(StringComparer.Ordinal);
        private int _nextColour;

        public List<Holding> Row(PartitionKey p) => Rows.TryGetValue(p, out var row) ? row : Rows[p] = [];

        /// <summary>Members keep their colour for as long as the timeline shows them, in order of arrival.</summary>
        public int ColourOf(string memberId) => Colours.TryGetValue(memberId, out int c) ? c : Colours[memberId] = _nextColour++;
    }
}
