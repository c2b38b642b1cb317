namespace Samsa.Broker.Groups;

/// <summary>The broker settings the coordinator obeys, with Kafka's defaults.</summary>
internal sealed record GroupCoordinatorOptions
{
    public int OffsetsTopicPartitions { get; init; } = 50;

    public TimeSpan InitialRebalanceDelay { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    public TimeSpan MaxSessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public int MaxGroupSize { get; init; } = int.MaxValue;

    public TimeSpan OffsetsRetention { get; init; } = TimeSpan.FromDays(7);

    public int OffsetMetadataMaxBytes { get; init; } = 4096;

    /// <summary>How long a new member's parked join may wait (Kafka's NewMemberJoinTimeoutMs).</summary>
    public TimeSpan NewMemberJoinTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
