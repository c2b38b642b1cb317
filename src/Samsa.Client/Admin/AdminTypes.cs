namespace Samsa.Client.Admin;

/// <summary>The admin client's settings, with the Java admin client's meanings.</summary>
public sealed record AdminOptions
{
    /// <summary>bootstrap.servers: host:port pairs, comma-separated, the client first connects to.</summary>
    public string BootstrapServers { get; init; } = "";

    /// <summary>
    /// security.protocol, ssl.* and sasl.*: how the client connects and authenticates
    /// (docs/client-config.md). Plain text by default.
    /// </summary>
    public SecurityOptions Security { get; init; } = SecurityOptions.Plaintext;

    /// <summary>client.id: the name the broker logs and quotas see.</summary>
    public string ClientId { get; init; } = "samsa-admin";

    /// <summary>request.timeout.ms: how long one request waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>default.api.timeout.ms: how long one admin call may take, retries included, unless it is given a token.</summary>
    public TimeSpan DefaultApiTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>retry.backoff.ms: the wait before retrying a retriable error.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Caps the version this client sends of an API, as <see cref="Consumer.ConsumerOptions.MaxApiVersions"/>
    /// does; a cap below the API's lowest version stops the client using it (as against a broker
    /// without it). Empty: the newest version both sides list.
    /// </summary>
    public IReadOnlyDictionary<Samsa.Protocol.ApiKey, short> MaxApiVersions { get; init; } = new Dictionary<Samsa.Protocol.ApiKey, short>();

    /// <summary>The Kafka keys <see cref="FromProperties"/> reads.</summary>
    public static IReadOnlyCollection<string> KnownKeys { get; } =
        ["bootstrap.servers", "client.id", "request.timeout.ms", "default.api.timeout.ms", "retry.backoff.ms", .. SecurityOptions.KnownKeys];

    /// <summary>Reads Kafka-style admin settings (as a --command-config file holds them); an unknown key or a bad value names the key.</summary>
    public static AdminOptions FromProperties(IEnumerable<KeyValuePair<string, string>> properties, AdminOptions? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var options = defaults ?? new AdminOptions();
        foreach (var (key, raw) in properties)
        {
            string value = raw.Trim();
            if (SecurityOptions.TryApply(options.Security, key, value, out var security))
            {
                options = options with { Security = security };
                continue;
            }
            options = key switch
            {
                "bootstrap.servers" => options with { BootstrapServers = value },
                "client.id" => options with { ClientId = value },
                "request.timeout.ms" => options with { RequestTimeout = Ms(key, value) },
                "default.api.timeout.ms" => options with { DefaultApiTimeout = Ms(key, value) },
                "retry.backoff.ms" => options with { RetryBackoff = Ms(key, value) },
                _ => throw new Consumer.KafkaConfigException(key, $"Unknown admin setting '{key}'."),
            };
        }
        return options;
    }

    private static TimeSpan Ms(string key, string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ms)
            ? TimeSpan.FromMilliseconds(ms)
            : throw new Consumer.KafkaConfigException(key, $"{key}: '{value}' is not a number of milliseconds.");
}

/// <summary>A topic to create.</summary>
/// <param name="Name">The topic's name.</param>
/// <param name="Partitions">Its partition count; -1 for the broker's num.partitions.</param>
/// <param name="ReplicationFactor">Its replication factor; -1 for the broker's default.replication.factor.</param>
public sealed record NewTopic(string Name, int Partitions = -1, short ReplicationFactor = -1)
{
    /// <summary>Topic configs (retention.ms, cleanup.policy, ...); the broker's defaults for the rest.</summary>
    public IReadOnlyDictionary<string, string>? Configs { get; init; }
}

/// <summary>A partition as Metadata describes it.</summary>
/// <param name="Partition">The partition's index.</param>
/// <param name="Leader">The leader's broker id; -1 when there is none.</param>
/// <param name="Replicas">The brokers holding a replica.</param>
/// <param name="Isr">The in-sync replicas.</param>
public sealed record PartitionDescription(int Partition, int Leader, IReadOnlyList<int> Replicas, IReadOnlyList<int> Isr);

/// <summary>A topic as Metadata describes it.</summary>
/// <param name="Name">The topic's name.</param>
/// <param name="TopicId">Its id (Kafka 2.8+); empty from older brokers.</param>
/// <param name="IsInternal">True for the broker's own topics (__consumer_offsets, __share_group_state, ...).</param>
/// <param name="Partitions">Its partitions, by index.</param>
public sealed record TopicDescription(string Name, Guid TopicId, bool IsInternal, IReadOnlyList<PartitionDescription> Partitions);

/// <summary>A broker of the cluster.</summary>
/// <param name="Id">node.id.</param>
/// <param name="Host">The host it advertises.</param>
/// <param name="Port">The port it advertises.</param>
/// <param name="Rack">broker.rack, if set.</param>
public sealed record BrokerDescription(int Id, string Host, int Port, string? Rack);

/// <summary>The cluster as DescribeCluster (or Metadata) describes it.</summary>
/// <param name="ClusterId">The cluster's id; null from brokers that do not say.</param>
/// <param name="ControllerId">The controller's broker id; -1 when unknown.</param>
/// <param name="Brokers">The live brokers.</param>
public sealed record ClusterDescription(string? ClusterId, int ControllerId, IReadOnlyList<BrokerDescription> Brokers);

/// <summary>One config of a topic or broker as DescribeConfigs answers it.</summary>
/// <param name="Name">The config's key.</param>
/// <param name="Value">Its value; null when sensitive or unset.</param>
/// <param name="IsDefault">True when nothing overrides the default.</param>
/// <param name="IsReadOnly">True when it cannot be altered.</param>
/// <param name="IsSensitive">True for passwords and the like (the value is not returned).</param>
public sealed record ConfigEntry(string Name, string? Value, bool IsDefault, bool IsReadOnly, bool IsSensitive);

/// <summary>
/// A group's protocol (Kafka's GroupType): <see cref="Classic"/> groups join with JoinGroup/SyncGroup
/// and assign on a member; <see cref="Consumer"/> groups are KIP-848's, with heartbeats, epochs and
/// the assignment computed on the coordinator; <see cref="Share"/> groups are KIP-932's, whose
/// members share partitions and acknowledge records one by one. <see cref="Unknown"/>: the broker
/// did not say (ListGroups before v5, Kafka before 3.7) or named a type this client does not know (streams).
/// </summary>
public enum GroupType
{
    /// <summary>The broker did not say, or named a type this client does not know.</summary>
    Unknown,

    /// <summary>The classic protocol: JoinGroup/SyncGroup, assignment on a member.</summary>
    Classic,

    /// <summary>KIP-848's consumer protocol: heartbeats, epochs, assignment on the coordinator.</summary>
    Consumer,

    /// <summary>KIP-932's share groups (queues).</summary>
    Share,
}

/// <summary>A group as ListGroups lists it.</summary>
/// <param name="GroupId">group.id.</param>
/// <param name="State">Empty, Stable, PreparingRebalance, ... (classic), Assigning, Reconciling (consumer); empty before ListGroups v4.</param>
/// <param name="ProtocolType">"consumer" for consumer clients of either group type, "connect", ...</param>
public sealed record GroupListing(string GroupId, string State, string ProtocolType)
{
    /// <summary>Classic or consumer; <see cref="GroupType.Unknown"/> from brokers before ListGroups v5.</summary>
    public GroupType Type { get; init; } = GroupType.Unknown;
}

/// <summary>A member of a group.</summary>
/// <param name="MemberId">The id the coordinator gave it.</param>
/// <param name="GroupInstanceId">group.instance.id of a static member; null for a dynamic one.</param>
/// <param name="ClientId">Its client.id.</param>
/// <param name="Host">The address it connected from.</param>
/// <param name="Assignment">The partitions it owns now: decoded from its SyncGroup assignment (classic) or its current assignment (consumer).</param>
public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string Host, IReadOnlyList<TopicPartition> Assignment)
{
    /// <summary>Consumer groups: the member's epoch (its assignment's epoch once reconciled). Null for classic members.</summary>
    public int? MemberEpoch { get; init; }

    /// <summary>Consumer groups: the partitions the coordinator's assignor wants it to own; equal to <see cref="Assignment"/> once reconciled. Null for classic members.</summary>
    public IReadOnlyList<TopicPartition>? TargetAssignment { get; init; }

    /// <summary>The topics it subscribes to by name: sent in its heartbeat (consumer) or decoded from its subscription (classic, Stable groups only).</summary>
    public IReadOnlyList<string> SubscribedTopics { get; init; } = [];

    /// <summary>Consumer groups: the regular expression it subscribes with (KIP-848's RE2/J syntax), if any.</summary>
    public string? SubscribedTopicRegex { get; init; }

    /// <summary>client.rack of the member, when it sent one.</summary>
    public string? RackId { get; init; }
}

/// <summary>A group as DescribeGroups (classic), ConsumerGroupDescribe (consumer) or ShareGroupDescribe (share) describes it.</summary>
/// <param name="GroupId">group.id.</param>
/// <param name="State">Kafka's state name: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead (classic); Empty, Assigning, Reconciling, Stable, Dead (consumer); Empty, Stable, Dead (share).</param>
/// <param name="ProtocolType">"consumer" for consumer groups and for classic groups of consumer clients; "share" for share groups.</param>
/// <param name="Protocol">Classic: the protocol the group chose (the assignor, for consumers), set while Stable. Consumer and share: the server-side assignor.</param>
/// <param name="Members">Its members.</param>
public sealed record GroupDescription(string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMemberDescription> Members)
{
    /// <summary>Which protocol the group speaks.</summary>
    public GroupType Type { get; init; } = GroupType.Classic;

    /// <summary>Consumer and share groups: the group epoch, bumped by every change of members or subscriptions. Null for classic groups.</summary>
    public int? GroupEpoch { get; init; }

    /// <summary>Consumer and share groups: the epoch of the target assignment (behind <see cref="GroupEpoch"/> while Assigning). Null for classic groups.</summary>
    public int? AssignmentEpoch { get; init; }

    /// <summary>The assignor: the server-side one (consumer groups) or the chosen protocol of a classic consumer group; empty when none is known.</summary>
    public string Assignor => Protocol;
}

/// <summary>A group's committed offset for a partition next to the partition's log-end offset.</summary>
public sealed record PartitionLag(TopicPartition Partition, long? Committed, long LogEndOffset)
{
    /// <summary>Records not yet consumed; the whole log when nothing is committed.</summary>
    public long Lag => LogEndOffset - (Committed ?? 0);
}

/// <summary>
/// A share group's progress on one partition (DescribeShareGroupOffsets; kafka-share-groups.sh
/// --describe --offsets) next to the partition's log-end offset.
/// </summary>
/// <param name="Partition">The topic and partition.</param>
/// <param name="StartOffset">
/// The share-partition start offset (SPSO): every record below it is acknowledged or archived.
/// Null while the group has no state for the partition (none of its members fetched it yet).
/// </param>
/// <param name="Lag">
/// Records from the start offset to the log end not yet delivered to completion (acknowledged or
/// archived): those waiting for a first delivery and those in flight (acquired by a member, or
/// released for another delivery). KIP-1226, DescribeShareGroupOffsets v1 (Kafka 4.2); null from
/// older brokers and without state.
/// </param>
/// <param name="LogEndOffset">The partition's log-end offset (the offset the next record gets).</param>
public sealed record SharePartitionOffsets(TopicPartition Partition, long? StartOffset, long? Lag, long LogEndOffset)
{
    /// <summary>
    /// Records at or above the start offset already acknowledged or archived, out of order: the
    /// start offset moves past them once the records before them are done. Null without a lag.
    /// </summary>
    public long? CompletedAhead => StartOffset is { } start && Lag is { } lag ? Math.Max(LogEndOffset - start - lag, 0) : null;
}

/// <summary>Where reset-offsets moves a group (kafka-consumer-groups.sh's --to-* options).</summary>
public abstract record OffsetResetSpec
{
    /// <summary>--to-earliest: each partition's log start.</summary>
    public sealed record ToEarliest : OffsetResetSpec;

    /// <summary>--to-latest: each partition's log end.</summary>
    public sealed record ToLatest : OffsetResetSpec;

    /// <summary>--to-offset: one offset for every partition (clamped to the log's range).</summary>
    /// <param name="Offset">The offset.</param>
    public sealed record ToOffset(long Offset) : OffsetResetSpec;

    /// <summary>--to-datetime: the first record at or after a time, per partition.</summary>
    /// <param name="Time">The time.</param>
    public sealed record ToDateTime(DateTimeOffset Time) : OffsetResetSpec;

    /// <summary>--shift-by: the committed offset moved by a delta (negative: back), clamped to the log's range.</summary>
    /// <param name="Delta">How many records to move.</param>
    public sealed record ShiftBy(long Delta) : OffsetResetSpec;
}
