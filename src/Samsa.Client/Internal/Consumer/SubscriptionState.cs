using System.Text.RegularExpressions;

namespace Samsa.Client.Internal.Consumer;

/// <summary>How the consumer chose its partitions; the kinds do not mix (Kafka's rule).</summary>
internal enum SubscriptionKind
{
    None,
    Topics,
    Pattern,
    Assigned,
}

/// <summary>Per assigned partition: where the next fetch starts and what the app may consume.</summary>
internal sealed class PartitionState
{
    /// <summary>Offset of the next record to return from poll; null until reset or fetched from the committed offset.</summary>
    public long? Position { get; set; }

    public int? PositionLeaderEpoch { get; set; }

    /// <summary>Set by Seek*: the position must be resolved by ListOffsets (earliest/latest/timestamp).</summary>
    public OffsetResetRequest? PendingReset { get; set; }

    public bool Paused { get; set; }

    /// <summary>Under cooperative rebalancing, set between "revoke this" and the actual revoke: stop fetching.</summary>
    public bool PendingRevocation { get; set; }

    public long? HighWatermark { get; set; }

    public long? LastStableOffset { get; set; }

    public long? LogStartOffset { get; set; }

    public bool IsFetchable => !Paused && !PendingRevocation && Position is not null && PendingReset is null;
}

/// <summary>A position to resolve with ListOffsets: -2 earliest, -1 latest, or a timestamp.</summary>
internal readonly record struct OffsetResetRequest(long Timestamp)
{
    public static OffsetResetRequest Earliest => new(-2);

    public static OffsetResetRequest Latest => new(-1);
}

/// <summary>
/// What the consumer is subscribed to and, per assigned partition, where it stands. Owned by the
/// consumer's application-facing side (Poll, Seek, Commit run under the consumer's single-caller
/// rule); the group loop hands assignment changes over through the consumer, never directly.
/// </summary>
internal sealed class SubscriptionState
{
    private readonly Dictionary<(string Topic, int Partition), PartitionState> _assigned = [];
    private readonly SortedSet<string> _topics = new(StringComparer.Ordinal);

    public SubscriptionKind Kind { get; private set; }

    public Regex? Pattern { get; private set; }

    public IReadOnlyCollection<string> Topics => _topics;

    public IReadOnlyCollection<(string Topic, int Partition)> Assigned => _assigned.Keys;

    public int AssignedCount => _assigned.Count;

    public void Subscribe(IEnumerable<string> topics)
    {
        EnsureKind(SubscriptionKind.Topics);
        var list = topics.ToList();
        if (list.Count == 0)
        {
            Unsubscribe();
            return;
        }
        foreach (var t in list)
        {
            if (string.IsNullOrWhiteSpace(t))
                throw new ArgumentException("Topic names must not be empty.", nameof(topics));
        }
        Kind = SubscriptionKind.Topics;
        _topics.Clear();
        _topics.UnionWith(list);
    }

    public void Subscribe(Regex pattern)
    {
        EnsureKind(SubscriptionKind.Pattern);
        Kind = SubscriptionKind.Pattern;
        Pattern = pattern;
        _topics.Clear();
    }

    /// <summary>For a pattern subscription: the topics that match, from the latest metadata.
    /// Returns true when the set changed (the member must rejoin).</summary>
    public bool UpdateMatchedTopics(IEnumerable<string> clusterTopics)
    {
        if (Kind != SubscriptionKind.Pattern || Pattern is null)
            return false;
        var matched = clusterTopics.Where(t => Matches(Pattern, t)).ToHashSet(StringComparer.Ordinal);
        if (matched.SetEquals(_topics))
            return false;
        _topics.Clear();
        _topics.UnionWith(matched);
        return true;
    }

    /// <summary>Whether a pattern subscription takes a topic: internal topics ("__" prefix) never.</summary>
    public static bool Matches(Regex pattern, string topic) => !topic.StartsWith("__", StringComparison.Ordinal) && pattern.IsMatch(topic);

    /// <summary>Standalone assignment: no group, no rebalances.</summary>
    public void Assign(IEnumerable<(string Topic, int Partition)> partitions)
    {
        EnsureKind(SubscriptionKind.Assigned);
        Kind = SubscriptionKind.Assigned;
        SetAssignment(partitions);
        _topics.Clear();
        _topics.UnionWith(_assigned.Keys.Select(k => k.Topic));
    }

    public void Unsubscribe()
    {
        Kind = SubscriptionKind.None;
        Pattern = null;
        _topics.Clear();
        _assigned.Clear();
    }

    /// <summary>Replaces the assignment, keeping state (positions) of partitions that stay.</summary>
    public void SetAssignment(IEnumerable<(string Topic, int Partition)> partitions)
    {
        var next = partitions.ToHashSet();
        foreach (var gone in _assigned.Keys.Where(k => !next.Contains(k)).ToList())
            _assigned.Remove(gone);
        foreach (var tp in next)
            _assigned.TryAdd(tp, new PartitionState());
    }

    public void AddToAssignment(IEnumerable<(string Topic, int Partition)> partitions)
    {
        foreach (var tp in partitions)
            _assigned.TryAdd(tp, new PartitionState());
    }

    public void RemoveFromAssignment(IEnumerable<(string Topic, int Partition)> partitions)
    {
        foreach (var tp in partitions)
            _assigned.Remove(tp);
    }

    public bool IsAssigned(string topic, int partition) => _assigned.ContainsKey((topic, partition));

    public PartitionState Get(string topic, int partition) =>
        _assigned.TryGetValue((topic, partition), out var state)
            ? state
            : throw new InvalidOperationException($"{topic}-{partition} is not assigned to this consumer.");

    public bool TryGet(string topic, int partition, out PartitionState state) =>
        _assigned.TryGetValue((topic, partition), out state!);

    public void Seek(string topic, int partition, long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var state = Get(topic, partition);
        state.Position = offset;
        state.PositionLeaderEpoch = null;
        state.PendingReset = null;
    }

    public void RequestReset(string topic, int partition, OffsetResetRequest reset)
    {
        var state = Get(topic, partition);
        state.PendingReset = reset;
        state.Position = null;
    }

    public IEnumerable<(string Topic, int Partition, PartitionState State)> Partitions() =>
        _assigned.Select(kv => (kv.Key.Topic, kv.Key.Partition, kv.Value));

    /// <summary>Positions of every partition that has one: what auto-commit and CommitSync() commit.</summary>
    public List<(string Topic, int Partition, long Offset, int? LeaderEpoch)> ConsumedPositions() =>
        _assigned.Where(kv => kv.Value.Position is not null)
            .Select(kv => (kv.Key.Topic, kv.Key.Partition, kv.Value.Position!.Value, kv.Value.PositionLeaderEpoch))
            .ToList();

    private void EnsureKind(SubscriptionKind wanted)
    {
        if (Kind != SubscriptionKind.None && Kind != wanted)
            throw new InvalidOperationException(
                $"Subscription to topics, subscription to a pattern and manual assignment are mutually exclusive; this consumer is already using {Kind}. Call Unsubscribe() first.");
    }
}
