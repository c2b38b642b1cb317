using Samsa.Assignors;

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

    /// <summary>group.coordinator.rebalance.protocols: which group protocols members may use.</summary>
    public IReadOnlySet<string> RebalanceProtocols { get; init; } = new HashSet<string>(StringComparer.Ordinal) { "classic", "consumer" };

    /// <summary>group.consumer.migration.policy: disabled, upgrade, downgrade or bidirectional.</summary>
    public string MigrationPolicy { get; init; } = "bidirectional";

    /// <summary>group.consumer.session.timeout.ms.</summary>
    public TimeSpan ConsumerSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>group.consumer.heartbeat.interval.ms, told to every member in its heartbeat responses.</summary>
    public TimeSpan ConsumerHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>group.consumer.max.size.</summary>
    public int ConsumerMaxSize { get; init; } = int.MaxValue;

    /// <summary>share.version &gt;= 1 (the cluster feature Kafka 4.2 gates share groups with): ShareGroupHeartbeat is served.</summary>
    public bool ShareGroupsEnabled { get; init; } = true;

    /// <summary>group.share.session.timeout.ms: a share member that has not heartbeated for this long is fenced.</summary>
    public TimeSpan ShareSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>group.share.heartbeat.interval.ms, told to every share member in its heartbeat responses.</summary>
    public TimeSpan ShareHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>group.share.max.size: members a share group may have (Kafka's default, 200).</summary>
    public int ShareMaxSize { get; init; } = 200;

    /// <summary>group.consumer.assignors: the first is the default.</summary>
    public IReadOnlyList<IConsumerGroupAssignor> ConsumerAssignors { get; init; } =
        [ConsumerGroupAssignors.Create("uniform"), ConsumerGroupAssignors.Create("range")];
}
