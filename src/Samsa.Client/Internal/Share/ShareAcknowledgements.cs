using Samsa.Client.Share;

namespace Samsa.Client.Internal.Share;

/// <summary>Gap (type 0): an acquired offset with no record, acknowledged so the broker archives it.</summary>
internal static class AckTypes
{
    public const byte Gap = 0;
}

/// <summary>One partition's acknowledgements waiting to be sent, to the share session of the broker that acquired the records.</summary>
internal sealed class PendingAcknowledgements(string topic, int partition, Guid topicId, int node)
{
    private readonly List<(long Offset, byte Type)> _acks = [];

    public string Topic => topic;

    public int Partition => partition;

    public Guid TopicId => topicId;

    public int Node => node;

    public int Count => _acks.Count;

    public void Add(long offset, byte type) => _acks.Add((offset, type));

    public void AddRange(long first, long last, byte type)
    {
        for (long o = first; o <= last; o++)
            _acks.Add((o, type));
    }

    /// <summary>The offsets of the records acknowledged (gaps left out), for results and callbacks.</summary>
    public long[] RecordOffsets() => _acks.Where(a => a.Type != AckTypes.Gap).Select(a => a.Offset).Distinct().Order().ToArray();

    /// <summary>
    /// The acknowledgement batches as the protocol wants them: ascending, non-overlapping runs of
    /// consecutive offsets, each with one type when the whole run shares it and one per offset
    /// otherwise. A later acknowledgement of the same offset wins.
    /// </summary>
    public List<(long First, long Last, byte[] Types)> Batches()
    {
        var byOffset = new SortedDictionary<long, byte>();
        foreach (var (offset, type) in _acks)
            byOffset[offset] = type;
        var batches = new List<(long First, long Last, byte[] Types)>();
        var types = new List<byte>();
        long first = 0, last = -2;
        foreach (var (offset, type) in byOffset)
        {
            if (offset != last + 1 && types.Count > 0)
            {
                batches.Add(Batch(first, last, types));
                types.Clear();
            }
            if (types.Count == 0)
                first = offset;
            types.Add(type);
            last = offset;
        }
        if (types.Count > 0)
            batches.Add(Batch(first, last, types));
        return batches;
    }

    private static (long, long, byte[]) Batch(long first, long last, List<byte> types) =>
        types.TrueForAll(t => t == types[0]) ? (first, last, [types[0]]) : (first, last, [.. types]);
}

/// <summary>The outcome of one partition's acknowledgements, for CommitSync's answer and the commit callback.</summary>
internal sealed record AcknowledgementResult(TopicPartition Partition, IReadOnlyCollection<long> Offsets, Samsa.Client.KafkaException? Error);

/// <summary>The records one poll returned, per partition: each must be acknowledged (explicit mode) before the next poll.</summary>
internal sealed class DeliveredPartition(string topic, int partition, Guid topicId, int node)
{
    // Offset → acknowledgement type, or null while unacknowledged. Cleared and reused poll after poll.
    private readonly Dictionary<long, AcknowledgeType?> _records = [];

    public string Topic => topic;

    public int Partition => partition;

    public Guid TopicId => topicId;

    public int Node => node;

    public int Unacknowledged { get; private set; }

    public int Count => _records.Count;

    public void Delivered(long offset)
    {
        if (_records.TryAdd(offset, null))
            Unacknowledged++;
    }

    public bool Acknowledge(long offset, AcknowledgeType type)
    {
        if (!_records.TryGetValue(offset, out var was))
            return false;
        if (was is null)
            Unacknowledged--;
        _records[offset] = type;
        return true;
    }

    public void AcknowledgeAll(AcknowledgeType type)
    {
        foreach (var offset in _records.Keys.ToList())
            Acknowledge(offset, type);
    }

    /// <summary>Moves every acknowledged record into <paramref name="pending"/> and forgets it.</summary>
    public void TakeAcknowledged(PendingAcknowledgements pending)
    {
        foreach (var (offset, type) in _records)
        {
            if (type is { } t)
                pending.Add(offset, (byte)t);
        }
        foreach (var offset in _records.Where(r => r.Value is not null).Select(r => r.Key).ToList())
            _records.Remove(offset);
    }
}
