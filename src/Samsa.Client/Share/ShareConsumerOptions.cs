using System.Globalization;
using Samsa.Client.Consumer;

namespace Samsa.Client.Share;

/// <summary>share.acknowledgement.mode: who acknowledges delivered records.</summary>
public enum ShareAcknowledgementMode
{
    /// <summary>The next poll, commit or close accepts everything the previous poll returned (the default).</summary>
    Implicit,

    /// <summary>The application acknowledges every record with <c>Acknowledge</c> before the next poll.</summary>
    Explicit,
}

/// <summary>share.acquire.mode (Kafka 4.2, ShareFetch v2): how the broker counts max.poll.records.</summary>
public enum ShareAcquireMode
{
    /// <summary>Whole record batches are acquired, so a poll may return more than max.poll.records (the default).</summary>
    BatchOptimized,

    /// <summary>At most max.poll.records records are acquired per fetch. Needs ShareFetch v2 (Kafka 4.2); older brokers act as batch_optimized.</summary>
    RecordLimit,
}

/// <summary>
/// Share consumer settings with the Java KafkaShareConsumer's names and defaults. Immutable: use
/// <c>with</c>, or <see cref="FromProperties"/> for Kafka-style strings. The consumer settings a
/// share group does not use (auto.offset.reset, enable.auto.commit, group.instance.id,
/// isolation.level, partition.assignment.strategy, session.timeout.ms, heartbeat.interval.ms,
/// group.protocol, group.remote.assignor) are refused by name, as the Java client refuses them:
/// the broker's share group settings (group.share.*) decide them.
/// </summary>
public sealed record ShareConsumerOptions
{
    /// <summary>bootstrap.servers: host:port list, comma-separated.</summary>
    public string BootstrapServers { get; init; } = "";

    /// <summary>
    /// security.protocol, ssl.* and sasl.*: how the client connects and authenticates
    /// (docs/client-config.md). Plain text by default.
    /// </summary>
    public SecurityOptions Security { get; init; } = SecurityOptions.Plaintext;

    /// <summary>group.id: the share group (required).</summary>
    public string? GroupId { get; init; }

    /// <summary>client.id: the name the broker logs and quotas see.</summary>
    public string ClientId { get; init; } = "samsa-share-consumer";

    /// <summary>share.acknowledgement.mode (default implicit).</summary>
    public ShareAcknowledgementMode AcknowledgementMode { get; init; } = ShareAcknowledgementMode.Implicit;

    /// <summary>share.acquire.mode (default batch_optimized).</summary>
    public ShareAcquireMode AcquireMode { get; init; } = ShareAcquireMode.BatchOptimized;

    /// <summary>fetch.min.bytes: the broker answers a fetch once it has this many bytes (or fetch.max.wait.ms passed).</summary>
    public int FetchMinBytes { get; init; } = 1;

    /// <summary>fetch.max.wait.ms: how long the broker may hold a fetch waiting for fetch.min.bytes.</summary>
    public TimeSpan FetchMaxWait { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>fetch.max.bytes: the most a fetch response carries (a larger first batch still comes through).</summary>
    public int FetchMaxBytes { get; init; } = 52_428_800;

    /// <summary>max.partition.fetch.bytes (the share fetch request has no per-partition limit; kept for parity and checked).</summary>
    public int MaxPartitionFetchBytes { get; init; } = 1_048_576;

    /// <summary>max.poll.records: the MaxRecords and BatchSize of each ShareFetch, and the most one poll returns.</summary>
    public int MaxPollRecords { get; init; } = 500;

    /// <summary>max.poll.interval.ms: without a poll for this long the member leaves the group and rejoins on the next poll.</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>request.timeout.ms: how long one request waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>default.api.timeout.ms: how long a blocking call (commit, positions, offsets lookups) may take when it is given no timeout.</summary>
    public TimeSpan DefaultApiTimeout { get; init; } = TimeSpan.FromMinutes(1);

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

    /// <summary>client.rack: sent in the first heartbeat.</summary>
    public string? ClientRack { get; init; }

    /// <summary>Caps the version this client sends of an API (as <see cref="ConsumerOptions.MaxApiVersions"/>).</summary>
    public IReadOnlyDictionary<Samsa.Protocol.ApiKey, short> MaxApiVersions { get; init; } = new Dictionary<Samsa.Protocol.ApiKey, short>();

    private delegate ShareConsumerOptions Setter(ShareConsumerOptions o, string key, string value);

    private static readonly Dictionary<string, Setter> Keys = new(StringComparer.Ordinal)
    {
        ["bootstrap.servers"] = (o, _, v) => o with { BootstrapServers = v },
        ["group.id"] = (o, _, v) => o with { GroupId = v },
        ["client.id"] = (o, _, v) => o with { ClientId = v },
        ["share.acknowledgement.mode"] = (o, k, v) => o with
        {
            AcknowledgementMode = v.ToLowerInvariant() switch
            {
                "implicit" => ShareAcknowledgementMode.Implicit,
                "explicit" => ShareAcknowledgementMode.Explicit,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not implicit or explicit."),
            },
        },
        ["share.acquire.mode"] = (o, k, v) => o with
        {
            AcquireMode = v.ToLowerInvariant() switch
            {
                "batch_optimized" => ShareAcquireMode.BatchOptimized,
                "record_limit" => ShareAcquireMode.RecordLimit,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not batch_optimized or record_limit."),
            },
        },
        ["fetch.min.bytes"] = (o, k, v) => o with { FetchMinBytes = Int(k, v) },
        ["fetch.max.wait.ms"] = (o, k, v) => o with { FetchMaxWait = Ms(k, v) },
        ["fetch.max.bytes"] = (o, k, v) => o with { FetchMaxBytes = Int(k, v) },
        ["max.partition.fetch.bytes"] = (o, k, v) => o with { MaxPartitionFetchBytes = Int(k, v) },
        ["max.poll.records"] = (o, k, v) => o with { MaxPollRecords = Int(k, v) },
        ["max.poll.interval.ms"] = (o, k, v) => o with { MaxPollInterval = Ms(k, v) },
        ["request.timeout.ms"] = (o, k, v) => o with { RequestTimeout = Ms(k, v) },
        ["default.api.timeout.ms"] = (o, k, v) => o with { DefaultApiTimeout = Ms(k, v) },
        ["retry.backoff.ms"] = (o, k, v) => o with { RetryBackoff = Ms(k, v) },
        ["reconnect.backoff.ms"] = (o, k, v) => o with { ReconnectBackoff = Ms(k, v) },
        ["reconnect.backoff.max.ms"] = (o, k, v) => o with { ReconnectBackoffMax = Ms(k, v) },
        ["metadata.max.age.ms"] = (o, k, v) => o with { MetadataMaxAge = Ms(k, v) },
        ["check.crcs"] = (o, k, v) => o with { CheckCrcs = Bool(k, v) },
        ["allow.auto.create.topics"] = (o, k, v) => o with { AllowAutoCreateTopics = Bool(k, v) },
        ["client.rack"] = (o, _, v) => o with { ClientRack = v },
    };

    /// <summary>Consumer settings the Java share consumer refuses (ShareConsumerConfig): the share group decides them.</summary>
    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "auto.offset.reset", "enable.auto.commit", "group.instance.id", "isolation.level", "partition.assignment.strategy",
        "interceptor.classes", "session.timeout.ms", "heartbeat.interval.ms", "group.protocol", "group.remote.assignor",
    };

    /// <summary>Every Kafka property name this type reads in FromProperties (the security keys among them).</summary>
    public static IReadOnlyCollection<string> KnownKeys { get; } = [.. Keys.Keys, .. SecurityOptions.KnownKeys];

    /// <summary>Reads Kafka-style settings; an unknown or unsupported key or a bad value names the key.</summary>
    public static ShareConsumerOptions FromProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var options = new ShareConsumerOptions();
        foreach (var (key, value) in properties)
        {
            if (SecurityOptions.TryApply(options.Security, key, value.Trim(), out var security))
            {
                options = options with { Security = security };
                continue;
            }
            if (Unsupported.Contains(key))
                throw new KafkaConfigException(key, $"{key} is not supported by a share consumer: the share group decides it (the broker's group.share.* settings, e.g. share.auto.offset.reset on the group).");
            if (!Keys.TryGetValue(key, out var set))
                throw new KafkaConfigException(key, $"Unknown share consumer setting '{key}'.");
            options = set(options, key, value.Trim());
        }
        return options;
    }

    /// <summary>Checks the settings together; names the offending key.</summary>
    public ShareConsumerOptions Validate()
    {
        ToConsumerOptions().Validate(subscribing: true);
        if (MaxPollInterval <= TimeSpan.Zero)
            throw new KafkaConfigException("max.poll.interval.ms", "max.poll.interval.ms must be positive.");
        return this;
    }

    /// <summary>The regular consumer's options with the same shared settings: the connection and group-loop plumbing takes those.</summary>
    internal ConsumerOptions ToConsumerOptions() => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = GroupId,
        ClientId = ClientId,
        FetchMinBytes = FetchMinBytes,
        FetchMaxWait = FetchMaxWait,
        FetchMaxBytes = FetchMaxBytes,
        MaxPartitionFetchBytes = MaxPartitionFetchBytes,
        MaxPollRecords = MaxPollRecords,
        GroupProtocol = GroupProtocol.Consumer,
        MaxPollInterval = MaxPollInterval,
        RequestTimeout = RequestTimeout,
        DefaultApiTimeout = DefaultApiTimeout,
        EnableAutoCommit = false,
        RetryBackoff = RetryBackoff,
        ReconnectBackoff = ReconnectBackoff,
        ReconnectBackoffMax = ReconnectBackoffMax,
        MetadataMaxAge = MetadataMaxAge,
        CheckCrcs = CheckCrcs,
        AllowAutoCreateTopics = AllowAutoCreateTopics,
        ClientRack = ClientRack,
        MaxApiVersions = MaxApiVersions,
    };

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
}
