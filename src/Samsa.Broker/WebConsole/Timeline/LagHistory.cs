namespace Samsa.Broker.WebConsole.Timeline;

/// <summary>
/// Each group's total lag over time, for the group page's chart: the console samples every group
/// every few seconds (lag moves with produces and commits, which publish no group change) and keeps
/// the last <paramref name="capacity"/> samples per group. No I/O; thread-safe by one lock.
/// </summary>
internal sealed class LagHistory(int capacity = 180)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<(DateTimeOffset At, long Lag)>> _groups = new(StringComparer.Ordinal);

    public void Record(string groupId, DateTimeOffset at, long lag)
    {
        lock (_lock)
        {
            if (!_groups.TryGetValue(groupId, out var samples))
                _groups[groupId] = samples = new Queue<(DateTimeOffset, long)>(capacity);
            if (samples.Count == capacity)
                samples.Dequeue();
            samples.Enqueue((at, lag));
        }
    }

    /// <summary>Groups no longer there stop being kept.</summary>
    public void Retain(IReadOnlySet<string> groupIds)
    {
        lock (_lock)
        {
            foreach (string id in _groups.Keys.Where(id => !groupIds.Contains(id)).ToList())
                _groups.Remove(id);
        }
    }

    public IReadOnlyList<(DateTimeOffset At, long Lag)> Of(string groupId)
    {
        lock (_lock)
            return _groups.TryGetValue(groupId, out var samples) ? [.. samples] : [];
    }
}
