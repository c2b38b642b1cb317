namespace Samsa.Broker.WebConsole.Timeline;

/// <summary>
/// Produce and consume rates per topic for the topic pages, from samples the console takes every
/// few seconds: records produced are the growth of the partitions' log ends, records consumed the
/// growth of the offsets groups committed on the topic (what a group has finished with, as lag
/// counts it). A rate is taken over the samples kept (about a minute), so a burst shows as a
/// burst and then fades. No I/O; thread-safe by one lock.
/// </summary>
internal sealed class TopicRates(int capacity = 12)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<(DateTimeOffset At, long Produced, long Consumed)>> _topics = new(StringComparer.Ordinal);

    /// <param name="produced">The sum of the topic's log end offsets.</param>
    /// <param name="consumed">The sum, over groups, of the offsets committed on the topic's partitions.</param>
    public void Record(string topic, DateTimeOffset at, long produced, long consumed)
    {
        lock (_lock)
        {
            if (!_topics.TryGetValue(topic, out var samples))
                _topics[topic] = samples = new Queue<(DateTimeOffset, long, long)>(capacity);
            if (samples.Count == capacity)
                samples.Dequeue();
            samples.Enqueue((at, produced, consumed));
        }
    }

    public void Retain(IReadOnlySet<string> topics)
    {
        lock (_lock)
        {
            foreach (string name in _topics.Keys.Where(n => !topics.Contains(n)).ToList())
                _topics.Remove(name);
        }
    }

    /// <summary>Records per second produced and consumed over the samples kept; null until two samples exist.</summary>
    public (double Produced, double Consumed)? Of(string topic)
    {
        lock (_lock)
        {
            if (!_topics.TryGetValue(topic, out var samples) || samples.Count < 2)
                return null;
            var first = samples.Peek();
            var last = samples.Last();
            double seconds = (last.At - first.At).TotalSeconds;
            if (seconds <= 0)
                return null;
            // Offsets only fall when a topic is recreated or a group deleted or reset: no negative rates.
            return (Math.Max(0, last.Produced - first.Produced) / seconds, Math.Max(0, last.Consumed - first.Consumed) / seconds);
        }
    }
}
