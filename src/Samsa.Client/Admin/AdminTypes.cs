namespace Samsa.Client.Admin;

public sealed record AdminOptions
{
    public string BootstrapServers { get; init; } = "";

    public string ClientId { get; init; } = "samsa-admin";

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan DefaultApiTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
}

public sealed record NewTopic(string Name, int Partitions = -1, short ReplicationFactor = -1)
{
    public IReadOnlyDictionary<string, string>? Configs { get; init; }
}

public sealed record PartitionDescription(int Partition, int Leader, IReadOnlyList<int> Replicas, IReadOnlyList<int> Isr);

public sealed record TopicDescription(string Name, Guid TopicId, bool IsInternal, IReadOnlyList<PartitionDescription> Partitions);

public sealed record BrokerDescription(int Id, string Host, int Port, string? Rack);

public sealed record ClusterDescription(string? ClusterId, int ControllerId, IReadOnlyList<BrokerDescription> Brokers);

public sealed record ConfigEntry(string Name, string? Value, bool IsDefault, bool IsReadOnly, bool IsSensitive);

public sealed record GroupListing(string GroupId, string State, string ProtocolType);

public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string Host, IReadOnlyList<TopicPartition> Assignment);

public sealed record GroupDescription(string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMemberDescription> Members);

/// <summary>A group's committed offset for a partition next to the partition's log-end offset.</summary>
public sealed record PartitionLag(TopicPartition Partition, long? Committed, long LogEndOffset)
{
    /// <summary>Records not yet consumed; the whole log when nothing is committed.</summary>
    public long Lag => LogEndOffset - (Committed ?? 0);
}

/// <summary>Where reset-offsets moves a group (kafka-consumer-groups.sh's --to-* options).</summary>
public abstract record OffsetResetSpec
{
    public sealed record ToEarliest : OffsetResetSpec;

    public sealed record ToLatest : OffsetResetSpec;

    public sealed record ToOffset(long Offset) : OffsetResetSpec;

    public sealed record ToDateTime(DateTimeOffset Time) : OffsetResetSpec;

    public sealed record ShiftBy(long Delta) : OffsetResetSpec;
}
