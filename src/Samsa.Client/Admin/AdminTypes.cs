namespace Samsa.Client.Admin;

public sealed record AdminOptions
{
    public string BootstrapServers { get; init; } = "";

    /// <summary>
    /// security.protocol, ssl.* and sasl.*: how the client connects and authenticates
    /// (docs/client-config.md). Plain text by default.
    /// </summary>
    public SecurityOptions Security { get; init; } = SecurityOptions.Plaintext;

    public string ClientId { get; init; } = "samsa-admin";

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan DefaultApiTimeout { get; init; } = TimeSpan.FromMinutes(1);

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

public sealed record NewTopic(string Name, int Partitions = -1, short ReplicationFactor = -1)
{
    public IReadOnlyDictionary<string, string>? Configs { get; init; }
}

public sealed record PartitionDescription(int Partition, int Leader, IReadOnlyList<int> Replicas, IReadOnlyList<int> Isr);

public sealed record TopicDescription(string Name, Guid TopicId, bool IsInternal, IReadOnlyList<PartitionDescription> Partitions);

public sealed record BrokerDescription(int Id, string Host, int Port, string? Rack);

public sealed record ClusterDescription(string? ClusterId, int ControllerId, IReadOnlyList<BrokerDescription> Brokers);

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
    Unknown,
    Classic,
    Consumer,
    Share,
}

/// <summary>A group as ListGroups lists it.</summary>
/// <param name="State">Empty, Stable, PreparingRebalance, ... (classic), Assigning, Reconciling (consumer); empty before ListGroups v4.</param>
/// <param name="ProtocolType">"consumer" for consumer clients of either group type, "connect", ...</param>
public sealed record GroupListing(string GroupId, string State, string ProtocolType)
{
    /// <summary>Classic or consumer; <see cref="GroupType.Unknown"/> from brokers before ListGroups v5.</summary>
    public GroupType Type { get; init; } = GroupType.Unknown;
}

/// <summary>A member of a group.</summary>
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

    public string? RackId { get; init; }
}

/// <summary>A group as DescribeGroups (classic), ConsumerGroupDescribe (consumer) or ShareGroupDescribe (share) describes it.</summary>
/// <param name="State">Kafka's state name: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead (classic); Empty, Assigning, Reconciling, Stable, Dead (consumer); Empty, Stable, Dead (share).</param>
/// <param name="ProtocolType">"consumer" for consumer groups and for classic groups of consumer clients; "share" for share groups.</param>
/// <param name="Protocol">Classic: the protocol the group chose (the assignor, for consumers), set while Stable. Consumer and share: the server-side assignor.</param>
public sealed record GroupDescription(string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMemberDescription> Members)
{
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
    public sealed record ToEarliest : OffsetResetSpec;

    public sealed record ToLatest : OffsetResetSpec;

    public sealed record ToOffset(long Offset) : OffsetResetSpec;

    public sealed record ToDateTime(DateTimeOffset Time) : OffsetResetSpec;

    public sealed record ShiftBy(long Delta) : OffsetResetSpec;
}
