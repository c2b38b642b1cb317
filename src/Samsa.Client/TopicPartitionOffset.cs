namespace Samsa.Client;

/// <summary>An offset for a partition: the next record to read, as Kafka commits it.</summary>
public readonly record struct TopicPartitionOffset(string Topic, int Partition, long Offset, int? LeaderEpoch = null, string? Metadata = null)
{
    /// <summary>An offset for <paramref name="partition"/>, without a leader epoch or metadata.</summary>
    /// <param name="partition">The topic and partition.</param>
    /// <param name="offset">The offset.</param>
    public TopicPartitionOffset(TopicPartition partition, long offset)
        : this(partition.Topic, partition.Partition, offset) { }

    /// <summary>The topic and partition.</summary>
    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <inheritdoc />
    public override string ToString() => $"{Topic}-{Partition}@{Offset}";
}

/// <summary>
/// The client's internal (topic, partition) tuples to and from <see cref="TopicPartition"/>, which
/// is defined in Samsa.Assignors and so cannot have client-internal members of its own.
/// </summary>
internal static class TopicPartitionTuples
{
    extension(TopicPartition tp)
    {
        internal (string Topic, int Partition) ToTuple() => (tp.Topic, tp.Partition);
    }

    extension(TopicPartition)
    {
        internal static TopicPartition From((string Topic, int Partition) tp) => new(tp.Topic, tp.Partition);
    }
}
