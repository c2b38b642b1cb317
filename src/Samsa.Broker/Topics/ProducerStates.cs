using Samsa.Protocol;

namespace Samsa.Broker.Topics;

/// <summary>
/// Idempotent-producer bookkeeping for one partition: per producer id, its epoch and the last few
/// batches' sequence ranges, so a retried batch is recognised (and answered with its original
/// offset) instead of being written twice, and a gap is refused. Kafka keeps five batches because a
/// producer has at most five requests in flight. Callers hold the partition's lock.
/// Not kept across restarts yet: after one, a producer's first batch is accepted whatever its sequence.
/// </summary>
internal sealed class ProducerStates
{
    private const int RememberedBatches = 5;

    private readonly Dictionary<long, Entry> _producers = [];

    private sealed class Entry
    {
        public short Epoch { get; set; }

        public Queue<(int First, int Last, long Offset)> Batches { get; } = new();
    }

    /// <summary>
    /// Checks a batch. Returns (None, -1) to append, (None, offset) for a duplicate already written
    /// at that offset, or the error Kafka gives.
    /// </summary>
    public (ErrorCode Error, long DuplicateOffset) Check(long producerId, short epoch, int firstSequence, int lastSequence)
    {
        if (!_producers.TryGetValue(producerId, out var entry))
            return (ErrorCode.None, -1);
        if (epoch < entry.Epoch)
            return (ErrorCode.InvalidProducerEpoch, -1);
        if (epoch > entry.Epoch)
            return firstSequence == 0 ? (ErrorCode.None, -1) : (ErrorCode.OutOfOrderSequenceNumber, -1);
        foreach (var (first, last, offset) in entry.Batches)
        {
            if (first == firstSequence && last == lastSequence)
                return (ErrorCode.None, offset);
        }
        int expected = entry.Batches.Count == 0 ? 0 : entry.Batches.Last().Last + 1;
        return firstSequence == expected ? (ErrorCode.None, -1) : (ErrorCode.OutOfOrderSequenceNumber, -1);
    }

    public void Appended(long producerId, short epoch, int firstSequence, int lastSequence, long baseOffset)
    {
        if (!_producers.TryGetValue(producerId, out var entry) || epoch > entry.Epoch)
            _producers[producerId] = entry = new Entry { Epoch = epoch };
        entry.Batches.Enqueue((firstSequence, lastSequence, baseOffset));
        while (entry.Batches.Count > RememberedBatches)
            entry.Batches.Dequeue();
    }
}
