using System.Globalization;

namespace Samsa.Client.Consumer;

/// <summary>auto.offset.reset: where a consumer starts on a partition without a (valid) committed offset.</summary>
public enum AutoOffsetReset
{
    /// <summary>Start at the log end: only records produced from now on.</summary>
    Latest,
    /// <summary>Start at the log start: every record still retained.</summary>
    Earliest,
    /// <summary>Fail with an error naming the partition.</summary>
    None,
}

/// <summary>group.protocol: which group membership protocol a subscribing consumer speaks.</summary>
public enum GroupProtocol
{
    /// <summary>JoinGroup/SyncGroup/Heartbeat; the group leader's client assigns (the default, as in the Java 4.x client).</summary>
    Classic,

    /// <summary>KIP-848: ConsumerGroupHeartbeat; the broker assigns and members reconcile (Kafka 4).</summary>
    Consumer,
}

/// <summary>isolation.level: which transactional records a consumer reads.</summary>
public enum IsolationLevel
{
    /// <summary>Every record, transactional or not (read_uncommitted, the default).</summary>
    ReadUncommitted,
    /// <summary>Records of committed transactions only, up to the last stable offset (read_committed).</summary>
    ReadCommitted,
}

/// <summary>A setting that is missing, unknown or out of range; <see cref="Key"/> names it.</summary>
public sealed class KafkaConfigException(string key, string message) : ArgumentException(message)
{
    /// <summary>The setting's key, as Kafka names it.</summary>
    public string Key { get; } = key;
}

/// <summary>
/// Consumer settings with the Java consumer's names and defaults. Immutable: use <c>with</c>, or
/// <see cref="FromProperties"/> for Kafka-style string settings. <see cref="Validate"/> runs when a
/// consumer is built and names the offending key.
/// </summary>
public sealed record ConsumerOptions
{
    /// <summary>bootstrap.servers: host:port list, comma-separated.</summary>
    public string BootstrapServers { get; init; } = "";

    /// <summary>
    /// security.protocol, ssl.* and sasl.*: how the client connects and authenticates
    /// (docs/client-config.md). Plain text by default.
    /// </summary>
    public SecurityOptions Security { get; init; } = SecurityOptions.Plaintext;

    /// <summary>group.id: required to subscribe (not for Assign).</summary>
    public string? GroupId { get; init; }

    /// <summary>group.instance.id: makes the member static (KIP-345).</summary>
    public string? GroupInstanceId { get; init; }

    /// <summary>client.id: the name the broker logs and quotas see.</summary>
    public string ClientId { get; init; } = "samsa-consumer";

    /// <summary>fetch.min.bytes: the broker answers a fetch once it has this many bytes (or fetch.max.wait.ms passed).</summary>
    public int FetchMinBytes { get; init; } = 1;

    /// <summary>fetch.max.wait.ms: how long the broker may hold a fetch waiting for fetch.min.bytes.</summary>
    public TimeSpan FetchMaxWait { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>fetch.max.bytes: the most a fetch response carries (a larger first batch still comes through).</summary>
    public int FetchMaxBytes { get; init; } = 52_428_800;

    /// <summary>max.partition.fetch.bytes: the most one partition contributes to a fetch response.</summary>
    public int MaxPartitionFetchBytes { get; init; } = 1_048_576;

    /// <summary>max.poll.records: the most records one poll returns.</summary>
    public int MaxPollRecords { get; init; } = 500;

    /// <summary>group.protocol (default classic).</summary>
    public GroupProtocol GroupProtocol { get; init; } = GroupProtocol.Classic;

    /// <summary>group.remote.assignor: the server-side assignor to ask for (consumer protocol only); null lets the broker choose.</summary>
    public string? GroupRemoteAssignor { get; init; }

    /// <summary>session.timeout.ms (classic protocol; with the consumer protocol the broker's group.consumer.session.timeout.ms applies).</summary>
    public TimeSpan SessionTimeout
    {
        get => _sessionTimeout ?? TimeSpan.FromSeconds(45);
        init => _sessionTimeout = value;
    }

    /// <summary>heartbeat.interval.ms (classic protocol; with the consumer protocol the broker sends the interval).</summary>
    public TimeSpan HeartbeatInterval
    {
        get => _heartbeatInterval ?? TimeSpan.FromSeconds(3);
        init => _heartbeatInterval = value;
    }

    // Set only when the user set them: the consumer protocol refuses these settings, as the Java
    // client does, and a default must not count as a setting.
    private TimeSpan? _sessionTimeout;
    private TimeSpan? _heartbeatInterval;
    private IReadOnlyList<string>? _partitionAssignmentStrategy;

    /// <summary>max.poll.interval.ms: a member that does not poll for this long leaves its group.</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>request.timeout.ms: how long one request waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>default.api.timeout.ms: how long a blocking call (commit, positions, offsets lookups) may take when it is given no timeout.</summary>
    public TimeSpan DefaultApiTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>auto.offset.reset: where a partition without a committed offset (or with one out of range) starts.</summary>
    public AutoOffsetReset AutoOffsetReset { get; init; } = AutoOffsetReset.Latest;

    /// <summary>enable.auto.commit: commit the positions of what poll returned every auto.commit.interval.ms, and on close and rebalance.</summary>
    public bool EnableAutoCommit { get; init; } = true;

    /// <summary>auto.commit.interval.ms: how often auto-commit commits.</summary>
    public TimeSpan AutoCommitInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>partition.assignment.strategy, in preference order (Java 4.x: range, cooperative-sticky).</summary>
    public IReadOnlyList<string> PartitionAssignmentStrategy
    {
        get => _partitionAssignmentStrategy ?? DefaultAssignors;
        init => _partitionAssignmentStrategy = value;
    }

    private static readonly IReadOnlyList<string> DefaultAssignors = ["range", "cooperative-sticky"];

    /// <summary>isolation.level: whether records of open or aborted transactions are returned.</summary>
    public IsolationLevel IsolationLevel { get; init; } = IsolationLevel.ReadUncommitted;

    /// <summary>retry.backoff.ms: the wait before retrying a retriable error.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>reconnect.backoff.ms: the first wait before reconnecting to a broker.</summary>
    public TimeSpan ReconnectBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>reconnect.backoff.max.ms: the longest wait between reconnects, reached by doubling.</summary>
    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>metadata.max.age.ms: metadata is refreshed at least this often.</summary>
    public TimeSpan MetadataMaxAge { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>check.crcs: verify each record batch's CRC32C.</summary>
    public bool CheckCrcs { get; init; } = true;

    /// <summary>allow.auto.create.topics: whether a metadata request may create a missing topic (when the broker allows it).</summary>
    public bool AllowAutoCreateTopics { get; init; } = true;

    /// <summary>client.rack: the rack the client is in, for rack-aware assignment and fetching from the closest replica.</summary>
    public string? ClientRack { get; init; }

    /// <summary>
    /// Caps the version this client sends of an API (franz-go's MaxVersions), for brokers that
    /// advertise versions they cannot parse. Empty: the newest version both sides list.
    /// </summary>
    public IReadOnlyDictionary<Samsa.Protocol.ApiKey, short> MaxApiVersions { get; init; } = new Dictionary<Samsa.Protocol.ApiKey, short>();

    private delegate ConsumerOptions Setter(ConsumerOptions o, string key, string value);

    private static readonly Dictionary<string, Setter> Keys = new(StringComparer.Ordinal)
    {
        ["bootstrap.servers"] = (o, _, v) => o with { BootstrapServers = v },
        ["group.id"] = (o, _, v) => o with { GroupId = v },
        ["group.instance.id"] = (o, _, v) => o with { GroupInstanceId = v },
        ["client.id"] = (o, _, v) => o with { ClientId = v },
        ["fetch.min.bytes"] = (o, k, v) => o with { FetchMinBytes = Int(k, v) },
        ["fetch.max.wait.ms"] = (o, k, v) => o with { FetchMaxWait = Ms(k, v) },
        ["fetch.max.bytes"] = (o, k, v) => o with { FetchMaxBytes = Int(k, v) },
        ["max.partition.fetch.bytes"] = (o, k, v) => o with { MaxPartitionFetchBytes = Int(k, v) },
        ["max.poll.records"] = (o, k, v) => o with { MaxPollRecords = Int(k, v) },
        ["group.protocol"] = (o, k, v) => o with
        {
            GroupProtocol = v.ToLowerInvariant() switch
            {
                "classic" => GroupProtocol.Classic,
                "consumer" => GroupProtocol.Consumer,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not classic or consumer."),
            },
        },
        ["group.remote.assignor"] = (o, _, v) => o with { GroupRemoteAssignor = v.Length == 0 ? null : v },
        ["session.timeout.ms"] = (o, k, v) => o with { SessionTimeout = Ms(k, v) },
        ["heartbeat.interval.ms"] = (o, k, v) => o with { HeartbeatInterval = Ms(k, v) },
        ["max.poll.interval.ms"] = (o, k, v) => o with { MaxPollInterval = Ms(k, v) },
        ["request.timeout.ms"] = (o, k, v) => o with { RequestTimeout = Ms(k, v) },
        ["default.api.timeout.ms"] = (o, k, v) => o with { DefaultApiTimeout = Ms(k, v) },
        ["auto.offset.reset"] = (o, k, v) => o with
        {
            AutoOffsetReset = v switch
            {
                "latest" => AutoOffsetReset.Latest,
                "earliest" => AutoOffsetReset.Earliest,
                "none" => AutoOffsetReset.None,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not latest, earliest or none."),
            },
        },
        ["enable.auto.commit"] = (o, k, v) => o with { EnableAutoCommit = Bool(k, v) },
        ["auto.commit.interval.ms"] = (o, k, v) => o with { AutoCommitInterval = Ms(k, v) },
        ["partition.assignment.strategy"] = (o, _, v) => o with
        {
            PartitionAssignmentStrategy = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ShortAssignorName).ToList(),
        },
        ["isolation.level"] = (o, k, v) => o with
        {
            IsolationLevel = v switch
            {
                "read_uncommitted" => IsolationLevel.ReadUncommitted,
                "read_committed" => IsolationLevel.ReadCommitted,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not read_uncommitted or read_committed."),
            },
        },
        ["retry.backoff.ms"] = (o, k, v) => o with { RetryBackoff = Ms(k, v) },
        ["reconnect.backoff.ms"] = (o, k, v) => o with { ReconnectBackoff = Ms(k, v) },
        ["reconnect.backoff.max.ms"] = (o, k, v) => o with { ReconnectBackoffMax = Ms(k, v) },
        ["metadata.max.age.ms"] = (o, k, v) => o with { MetadataMaxAge = Ms(k, v) },
        ["check.crcs"] = (o, k, v) => o with { CheckCrcs = Bool(k, v) },
        ["allow.auto.create.topics"] = (o, k, v) => o with { AllowAutoCreateTopics = Bool(k, v) },
        ["client.rack"] = (o, _, v) => o with { ClientRack = v },
    };

    /// <summary>Every Kafka property name this type reads in FromProperties (the security keys among them).</summary>
    public static IReadOnlyCollection<string> KnownKeys { get; } = [.. Keys.Keys, .. SecurityOptions.KnownKeys];

    /// <summary>Reads Kafka-style settings; an unknown key or a bad value names the key.</summary>
    public static ConsumerOptions FromProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var options = new ConsumerOptions();
        foreach (var (key, value) in properties)
        {
            if (SecurityOptions.TryApply(options.Security, key, value.Trim(), out var security))
            {
                options = options with { Security = security };
                continue;
            }
            if (!Keys.TryGetValue(key, out var set))
                throw new KafkaConfigException(key, $"Unknown consumer setting '{key}'.");
            options = set(options, key, value.Trim());
        }
        return options;
    }

    /// <summary>Checks the settings together; <paramref name="subscribing"/> is true for a group member.</summary>
    public ConsumerOptions Validate(bool subscribing)
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
            throw new KafkaConfigException("bootstrap.servers", "bootstrap.servers is required (host:port[,host:port...]).");
        foreach (var server in BootstrapServers.Split(',', StringSplitOptions.TrimEntries))
        {
            int colon = server.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(server[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is 0 or > 65535)
                throw new KafkaConfigException("bootstrap.servers", $"bootstrap.servers: '{server}' is not host:port.");
        }
        if (subscribing && string.IsNullOrWhiteSpace(GroupId))
            throw new KafkaConfigException("group.id", "group.id is required to subscribe (use Assign for a consumer without a group).");
        if (GroupInstanceId is not null && string.IsNullOrWhiteSpace(GroupId))
            throw new KafkaConfigException("group.instance.id", "group.instance.id requires group.id.");
        Positive("fetch.min.bytes", FetchMinBytes, allowZero: true);
        Positive("fetch.max.bytes", FetchMaxBytes);
        Positive("max.partition.fetch.bytes", MaxPartitionFetchBytes);
        Positive("max.poll.records", MaxPollRecords);
        if (GroupProtocol == GroupProtocol.Consumer)
        {
            // The Java client's rule: the broker owns these with the consumer protocol.
            foreach (var (key, set) in new[] { ("partition.assignment.strategy", _partitionAssignmentStrategy is not null), ("session.timeout.ms", _sessionTimeout is not null), ("heartbeat.interval.ms", _heartbeatInterval is not null) })
            {
                if (set)
                    throw new KafkaConfigException(key, $"{key} is not supported when group.protocol is consumer: the broker decides it (group.consumer.* settings){(key == "partition.assignment.strategy" ? "; use group.remote.assignor to ask for a server-side assignor" : "")}.");
            }
        }
        else if (GroupRemoteAssignor is not null)
        {
            throw new KafkaConfigException("group.remote.assignor", "group.remote.assignor is only used when group.protocol is consumer.");
        }
        if (HeartbeatInterval >= SessionTimeout)
            throw new KafkaConfigException("heartbeat.interval.ms", $"heartbeat.interval.ms ({HeartbeatInterval.TotalMilliseconds}) must be lower than session.timeout.ms ({SessionTimeout.TotalMilliseconds}).");
        if (HeartbeatInterval <= TimeSpan.Zero)
            throw new KafkaConfigException("heartbeat.interval.ms", "heartbeat.interval.ms must be positive.");
        if (PartitionAssignmentStrategy.Count == 0)
            throw new KafkaConfigException("partition.assignment.strategy", "partition.assignment.strategy needs at least one assignor.");
        foreach (var name in PartitionAssignmentStrategy)
        {
            if (name is not ("range" or "roundrobin" or "sticky" or "cooperative-sticky"))
                throw new KafkaConfigException("partition.assignment.strategy", $"partition.assignment.strategy: unknown assignor '{name}' (range, roundrobin, sticky, cooperative-sticky).");
        }
        return this;
    }

    private static void Positive(string key, int value, bool allowZero = false)
    {
        if (value < 0 || (!allowZero && value == 0))
            throw new KafkaConfigException(key, $"{key} must be {(allowZero ? "zero or more" : "positive")}, got {value}.");
    }

    private static int Int(string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
            ? n
            : throw new KafkaConfigException(key, $"{key}: '{value}' is not an integer.");

    private static TimeSpan Ms(string key, string value)
    {
        int ms = Int(key, value);
        return ms >= 0 ? TimeSpan.FromMilliseconds(ms) : throw new KafkaConfigException(key, $"{key} must not be negative, got {ms}.");
    }

    private static bool Bool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw new KafkaConfigException(key, $"{key}: '{value}' is not true or false."),
    };

    /// <summary>Java users write class names (org.apache.kafka.clients.consumer.RangeAssignor); accept them.</summary>
    private static string ShortAssignorName(string name) => name switch
    {
        "org.apache.kafka.clients.consumer.RangeAssignor" => "range",
        "org.apache.kafka.clients.consumer.RoundRobinAssignor" => "roundrobin",
        "org.apache.kafka.clients.consumer.StickyAssignor" => "sticky",
        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor" => "cooperative-sticky",
        _ => name,
    };
}
