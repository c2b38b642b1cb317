namespace Samsa.Client;

public readonly record struct TopicPartition(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}-{Partition}";

    internal (string Topic, int Partition) ToTuple() => (Topic, Partition);

    internal static TopicPartition From((string Topic, int Partition) tp) => new(tp.Topic, tp.Partition);
}

/// <summary>An offset for a partition: the next record to read, as Kafka commits it.</summary>
public readonly record struct TopicPartitionOffset(string Topic, int Partition, long Offset, int? LeaderEpoch = null, string? Metadata = null)
{
    public TopicPartitionOffset(TopicPartition partition, long offset)
        : this(partition.Topic, partition.Partition, offset) { }

    public TopicPartition TopicPartition => new(Topic, Partition);

    public override string ToString() => $"{Topic}-{Partition}@{Offset}";
}
