using System.Globalization;
using System.Net;

namespace Samsa.Broker.Configuration;

/// <summary>A setting that is unknown or has a bad value; the message names the key (and file:line).</summary>
public sealed class BrokerConfigException(string key, string message) : Exception(message)
{
    public string Key { get; } = key;
}

/// <summary>
/// Reads Kafka-style <c>server.properties</c> settings into <see cref="BrokerOptions"/>, by Kafka's
/// key names. Every key acted on is documented in docs/broker-config.md; a bad value of one is an
/// error naming it. Keys not acted on are warnings and ignored, as Kafka does
/// (<see cref="Unused"/>), when the caller takes warnings; otherwise errors.
/// </summary>
public static partial class BrokerConfig
{
    private delegate BrokerOptions Setter(BrokerOptions options, string value);

    private static readonly Dictionary<string, (string Doc, Setter Set)> Keys = new(StringComparer.Ordinal)
    {
        ["log.dirs"] = ("data directory", (o, v) => o with { DataDirectory = OneDirectory("log.dirs", v), DataDirectoryFromLogDirs = true }),
        ["log.dir"] = ("data directory (when log.dirs is not set)", (o, v) => o.DataDirectoryFromLogDirs ? o : o with { DataDirectory = OneDirectory("log.dir", v) }),
        ["node.id"] = ("this broker's id", (o, v) => o with { NodeId = Int("node.id", v, 0) }),
        ["broker.id"] = ("alias of node.id", (o, v) => o with { NodeId = Int("broker.id", v, 0) }),
        ["num.partitions"] = ("partitions of auto-created topics", (o, v) => o with { NumPartitions = Int("num.partitions", v, 1) }),
        ["max.connections"] = ("connections beyond this wait until one closes", (o, v) => o with { MaxConnections = Int("max.connections", v, 1) }),
        ["max.connections.per.ip"] = ("a new connection from an address over this is closed at once", (o, v) => o with { MaxConnectionsPerIp = Int("max.connections.per.ip", v, 1) }),
        ["max.partitions"] = ("Samsa's own: the most partitions the broker holds (default: sized to the open-file limit)", (o, v) => o with { MaxPartitions = Int("max.partitions", v, 1) }),
        ["auto.create.topics.enable"] = ("create unknown topics on Metadata", (o, v) => o with { AutoCreateTopics = Bool("auto.create.topics.enable", v) }),
        ["socket.request.max.bytes"] = ("largest request frame accepted", (o, v) => o with { SocketRequestMaxBytes = Int("socket.request.max.bytes", v, 16) }),
        ["connections.max.idle.ms"] = ("idle connections are closed after this", (o, v) => o with { ConnectionsMaxIdle = Ms("connections.max.idle.ms", v) }),
        ["message.max.bytes"] = ("largest record batch accepted", (o, v) => o with { MessageMaxBytes = Int("message.max.bytes", v, 0) }),
        ["log.segment.bytes"] = ("segment file size before rolling", (o, v) => o with { SegmentBytes = Int("log.segment.bytes", v, 14) }),
        ["log.retention.check.interval.ms"] = ("how often topics' retention.ms / retention.bytes are applied", (o, v) => o with { RetentionCheckInterval = TimeSpan.FromMilliseconds(Int("log.retention.check.interval.ms", v, 1)) }),
        ["log.cleaner.backoff.ms"] = ("how often the log cleaner compacts partitions past their min.cleanable.dirty.ratio", (o, v) => o with { LogCleanerBackoff = TimeSpan.FromMilliseconds(Int("log.cleaner.backoff.ms", v, 0) is > 0 and var n ? n : throw new BrokerConfigException("log.cleaner.backoff.ms", "log.cleaner.backoff.ms: must be positive.")) }),
        ["producer.id.expiration.ms"] = ("an idempotent producer silent this long is forgotten", (o, v) => o with { ProducerIdExpiration = TimeSpan.FromMilliseconds(Int("producer.id.expiration.ms", v, 1)) }),
        ["producer.id.expiration.check.interval.ms"] = ("how often expired producer ids are removed", (o, v) => o with { ProducerIdExpirationCheckInterval = TimeSpan.FromMilliseconds(Int("producer.id.expiration.check.interval.ms", v, 1)) }),
        ["log.flush.scheduler.interval.ms"] = ("how often idle logs are checked against their topic's flush.ms", (o, v) => o with { FlushCheckInterval = TimeSpan.FromMilliseconds(Int("log.flush.scheduler.interval.ms", v, 1)) }),
        ["transaction.state.log.num.partitions"] = ("partitions of __transaction_state (fixed once created)", (o, v) => o with { TransactionStateLogPartitions = Int("transaction.state.log.num.partitions", v, 1) }),
        ["transaction.max.timeout.ms"] = ("the largest transaction timeout a producer may ask for", (o, v) => o with { TransactionMaxTimeout = TimeSpan.FromMilliseconds(Int("transaction.max.timeout.ms", v, 1)) }),
        ["transactional.id.expiration.ms"] = ("a transactional id idle this long is removed", (o, v) => o with { TransactionalIdExpiration = TimeSpan.FromMilliseconds(Int("transactional.id.expiration.ms", v, 1)) }),
        ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = ("how often timed-out transactions are aborted", (o, v) => o with { TransactionAbortCheckInterval = TimeSpan.FromMilliseconds(Int("transaction.abort.timed.out.transaction.cleanup.interval.ms", v, 1)) }),
        ["transaction.remove.expired.transaction.cleanup.interval.ms"] = ("how often expired transactional ids are removed", (o, v) => o with { TransactionalIdExpirationCheckInterval = TimeSpan.FromMilliseconds(Int("transaction.remove.expired.transaction.cleanup.interval.ms", v, 1)) }),
        ["offsets.topic.num.partitions"] = ("partitions of __consumer_offsets (fixed once created)", (o, v) => o with { OffsetsTopicPartitions = Int("offsets.topic.num.partitions", v, 1) }),
        ["offsets.retention.minutes"] = ("how long an empty group's offsets are kept", (o, v) => o with { OffsetsRetention = TimeSpan.FromMinutes(Int("offsets.retention.minutes", v, 1)) }),
        ["group.initial.rebalance.delay.ms"] = ("wait for more members before the first rebalance", (o, v) => o with { GroupInitialRebalanceDelay = Ms("group.initial.rebalance.delay.ms", v) }),
        ["group.min.session.timeout.ms"] = ("smallest session.timeout.ms a consumer may ask for", (o, v) => o with { GroupMinSessionTimeout = Ms("group.min.session.timeout.ms", v) }),
        ["group.max.session.timeout.ms"] = ("largest session.timeout.ms a consumer may ask for", (o, v) => o with { GroupMaxSessionTimeout = Ms("group.max.session.timeout.ms", v) }),
        ["group.coordinator.rebalance.protocols"] = ("group protocols members may use: classic, consumer (KIP-848); share is accepted, share groups follow share.version", (o, v) => o with { GroupRebalanceProtocols = Protocols(v) }),
        ["group.consumer.session.timeout.ms"] = ("a consumer-group member is fenced this long after its last heartbeat", (o, v) => o with { ConsumerGroupSessionTimeout = Ms("group.consumer.session.timeout.ms", v) }),
        ["group.consumer.min.session.timeout.ms"] = ("lower bound of group.consumer.session.timeout.ms", (o, v) => o with { ConsumerGroupMinSessionTimeout = Ms("group.consumer.min.session.timeout.ms", v) }),
        ["group.consumer.max.session.timeout.ms"] = ("upper bound of group.consumer.session.timeout.ms", (o, v) => o with { ConsumerGroupMaxSessionTimeout = Ms("group.consumer.max.session.timeout.ms", v) }),
        ["group.consumer.heartbeat.interval.ms"] = ("how often consumer-group members are told to heartbeat", (o, v) => o with { ConsumerGroupHeartbeatInterval = Ms("group.consumer.heartbeat.interval.ms", v) }),
        ["group.consumer.min.heartbeat.interval.ms"] = ("lower bound of group.consumer.heartbeat.interval.ms", (o, v) => o with { ConsumerGroupMinHeartbeatInterval = Ms("group.consumer.min.heartbeat.interval.ms", v) }),
        ["group.consumer.max.heartbeat.interval.ms"] = ("upper bound of group.consumer.heartbeat.interval.ms", (o, v) => o with { ConsumerGroupMaxHeartbeatInterval = Ms("group.consumer.max.heartbeat.interval.ms", v) }),
        ["group.consumer.migration.policy"] = ("online migration between the classic and consumer protocols: disabled, upgrade, downgrade, bidirectional", (o, v) => o with { ConsumerGroupMigrationPolicy = v.ToLowerInvariant() is "disabled" or "upgrade" or "downgrade" or "bidirectional" ? v.ToLowerInvariant() : throw new BrokerConfigException("group.consumer.migration.policy", $"group.consumer.migration.policy: '{v}' is not one of disabled, upgrade, downgrade, bidirectional.") }),
        ["group.consumer.max.size"] = ("members a consumer group may have", (o, v) => o with { ConsumerGroupMaxSize = Int("group.consumer.max.size", v, 1) }),
        ["group.consumer.assignors"] = ("server-side assignors, the first the default: uniform, range (or Kafka's class names)", (o, v) => o with { ConsumerGroupAssignors = Assignors(v) }),
        ["share.version"] = ("share groups (KIP-932): 1 serves them (the default), 0 turns them off", (o, v) => o with { ShareVersion = (short)Range("share.version", v, 0, 1) }),
        ["group.share.session.timeout.ms"] = ("a share-group member is fenced this long after its last heartbeat", (o, v) => o with { ShareGroupSessionTimeout = Ms("group.share.session.timeout.ms", v) }),
        ["group.share.min.session.timeout.ms"] = ("lower bound of group.share.session.timeout.ms", (o, v) => o with { ShareGroupMinSessionTimeout = Ms("group.share.min.session.timeout.ms", v) }),
        ["group.share.max.session.timeout.ms"] = ("upper bound of group.share.session.timeout.ms", (o, v) => o with { ShareGroupMaxSessionTimeout = Ms("group.share.max.session.timeout.ms", v) }),
        ["group.share.heartbeat.interval.ms"] = ("how often share-group members are told to heartbeat", (o, v) => o with { ShareGroupHeartbeatInterval = Ms("group.share.heartbeat.interval.ms", v) }),
        ["group.share.min.heartbeat.interval.ms"] = ("lower bound of group.share.heartbeat.interval.ms", (o, v) => o with { ShareGroupMinHeartbeatInterval = Ms("group.share.min.heartbeat.interval.ms", v) }),
        ["group.share.max.heartbeat.interval.ms"] = ("upper bound of group.share.heartbeat.interval.ms", (o, v) => o with { ShareGroupMaxHeartbeatInterval = Ms("group.share.max.heartbeat.interval.ms", v) }),
        ["group.share.max.size"] = ("members a share group may have", (o, v) => o with { ShareGroupMaxSize = Range("group.share.max.size", v, 1, 1000) }),
        ["group.share.record.lock.duration.ms"] = ("how long a share member holds fetched records before they go back to the others", (o, v) => o with { ShareRecordLockDuration = TimeSpan.FromMilliseconds(Range("group.share.record.lock.duration.ms", v, 1000, 3_600_000)) }),
        ["group.share.min.record.lock.duration.ms"] = ("the lowest share.record.lock.duration.ms a group config may set", (o, v) => o with { ShareGroupMinRecordLockDuration = TimeSpan.FromMilliseconds(Range("group.share.min.record.lock.duration.ms", v, 1000, 3_600_000)) }),
        ["group.share.max.record.lock.duration.ms"] = ("the highest share.record.lock.duration.ms a group config may set", (o, v) => o with { ShareGroupMaxRecordLockDuration = TimeSpan.FromMilliseconds(Range("group.share.max.record.lock.duration.ms", v, 1000, 3_600_000)) }),
        ["group.share.delivery.count.limit"] = ("deliveries of a record before a share group archives it", (o, v) => o with { ShareDeliveryCountLimit = Range("group.share.delivery.count.limit", v, 2, 10) }),
        ["group.share.partition.max.record.locks"] = ("records in flight per share-partition", (o, v) => o with { SharePartitionMaxRecordLocks = Range("group.share.partition.max.record.locks", v, 100, 10_000) }),
        ["group.share.max.share.sessions"] = ("share sessions the broker keeps (SHARE_SESSION_LIMIT_REACHED beyond)", (o, v) => o with { ShareMaxSessions = Int("group.share.max.share.sessions", v, 1) }),
        ["share.auto.offset.reset"] = ("where a share-partition without state starts: latest or earliest (broker-wide here; per group in Kafka)", (o, v) => o with { ShareAutoOffsetReset = v.ToLowerInvariant() is "latest" or "earliest" ? v.ToLowerInvariant() : throw new BrokerConfigException("share.auto.offset.reset", $"share.auto.offset.reset: '{v}' is not latest or earliest (by_duration is not supported).") }),
        ["share.coordinator.state.topic.num.partitions"] = ("partitions of __share_group_state (fixed once created)", (o, v) => o with { ShareStateTopicPartitions = Int("share.coordinator.state.topic.num.partitions", v, 1) }),
        ["sasl.plain.users"] = ("user:password pairs, comma-separated; when set, clients must use SASL_PLAINTEXT with PLAIN", (o, v) => o with { SaslPlainUsers = ParseUsers("sasl.plain.users", v) }),
        ["sasl.scram.users"] = ("Samsa's own: SCRAM user:password pairs, salted at start-up for both SCRAM mechanisms, never written to disk (users set through the admin API win)", (o, v) => o with { SaslScramUsers = ParseUsers("sasl.scram.users", v) }),
        ["ui.listeners"] = ("host:port of the web console and /metrics (off when unset); a bare port binds loopback", (o, v) => o with { UiListen = ParseUiEndpoint(v) }),
        ["ui.timeline.rebalances"] = ("rebalances per group the console's timeline keeps in memory", (o, v) => o with { UiTimelineRebalances = Int("ui.timeline.rebalances", v, 1) }),
        ["default.replication.factor"] = ("must be 1: Samsa is a single node", (o, v) => One("default.replication.factor", v, o)),
        ["offsets.topic.replication.factor"] = ("must be 1: Samsa is a single node", (o, v) => One("offsets.topic.replication.factor", v, o)),
    };

    /// <summary>The known keys and what they do, for --help and the docs test.</summary>
    public static IEnumerable<(string Key, string Doc)> Documented =>
        Keys.Select(k => (k.Key, k.Value.Doc)).Concat(TopicDefaults.Select(d => (d.Key, d.Doc))).Concat(SecurityConfig.Documented);

    /// <summary>Every key Samsa acts on (for "did you mean").</summary>
    private static IEnumerable<string> ActedOn => Keys.Keys.Concat(TopicDefaults.Select(d => d.Key)).Concat(SecurityConfig.Documented.Select(d => d.Key));

    /// <summary>
    /// Applies one setting. A key Samsa does not act on goes to <paramref name="warn"/> and is
    /// ignored, as Kafka does with server.properties; without <paramref name="warn"/> it is an error.
    /// </summary>
    public static BrokerOptions Apply(BrokerOptions options, string key, string value, string? where = null, Action<string>? warn = null)
    {
        // listeners, advertised.listeners, ssl.*, sasl.*, listener.name.*: SecurityConfig.cs.
        try
        {
            if (SecurityConfig.TryApply(options, key, value.Trim(), out var secured))
                return secured;
        }
        catch (BrokerConfigException e) when (where is not null)
        {
            throw new BrokerConfigException(key, Where(where) + e.Message);
        }
        if (!Keys.TryGetValue(key, out var entry) && !TryGetTopicDefault(key, out entry))
        {
            if (warn is null)
                throw new BrokerConfigException(key, Unused(key, where));
            warn(Unused(key, where));
            return options;
        }
        try
        {
            return entry.Set(options, value.Trim());
        }
        catch (BrokerConfigException e) when (where is not null)
        {
            throw new BrokerConfigException(key, Where(where) + e.Message);
        }
    }

    /// <summary>Reads a server.properties file: key=value lines, # and ! comments.</summary>
    public static BrokerOptions LoadFile(BrokerOptions options, string path, Action<string>? warn = null)
    {
        if (!File.Exists(path))
            throw new BrokerConfigException("--config", $"config file '{path}' does not exist.");
        int line = 0;
        foreach (var raw in File.ReadLines(path))
        {
            line++;
            string text = raw.Trim();
            if (text.Length == 0 || text[0] is '#' or '!')
                continue;
            int eq = text.IndexOfAny(['=', ':']);
            if (eq <= 0)
                throw new BrokerConfigException(text, $"{path}:{line}: expected key=value, got '{text}'.");
            options = Apply(options, text[..eq].Trim(), text[(eq + 1)..], $"{path}:{line}", warn);
        }
        return options;
    }

    private static string OneDirectory(string key, string value) =>
        value.Contains(',', StringComparison.Ordinal)
            ? throw new BrokerConfigException(key, $"{key}: Samsa keeps its data in one directory; got '{value}'.")
            : value.Length == 0 ? throw new BrokerConfigException(key, $"{key}: empty.") : value;

    private static string Where(string? where) => where is null ? "" : where + ": ";

    private static Dictionary<string, string> ParseUsers(string key, string value)
    {
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == pair.Length - 1)
                throw new BrokerConfigException(key, $"{key}: expected user:password pairs separated by commas.");
            users[pair[..colon]] = pair[(colon + 1)..];
        }
        return users;
    }

    private static List<string> Protocols(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).ToList();
        foreach (var n in names)
        {
            // "share" is accepted as Kafka does, but share groups follow share.version.
            if (n is not ("classic" or "consumer" or "share"))
                throw new BrokerConfigException("group.coordinator.rebalance.protocols", $"group.coordinator.rebalance.protocols: '{n}' is not one of classic, consumer, share.");
        }
        if (!names.Contains("classic"))
            throw new BrokerConfigException("group.coordinator.rebalance.protocols", "group.coordinator.rebalance.protocols: classic must be enabled (as in Kafka).");
        return names;
    }

    private static List<string> Assignors(string value)
    {
        var names = new List<string>();
        foreach (var raw in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kafka's server.properties name assignors by class.
            string name = raw switch
            {
                "org.apache.kafka.coordinator.group.assignor.UniformAssignor" => "uniform",
                "org.apache.kafka.coordinator.group.assignor.RangeAssignor" => "range",
                _ => raw,
            };
            if (!Samsa.Assignors.ConsumerGroupAssignors.Names.Contains(name))
                throw new BrokerConfigException("group.consumer.assignors", $"group.consumer.assignors: unknown assignor '{raw}' (expected {string.Join(", ", Samsa.Assignors.ConsumerGroupAssignors.Names)}).");
            names.Add(name);
        }
        if (names.Count == 0)
            throw new BrokerConfigException("group.consumer.assignors", "group.consumer.assignors: at least one assignor is needed.");
        return names;
    }

    /// <summary>Kafka's checks between the consumer-group settings, naming the key that is out of bounds.</summary>
    public static void ValidateGroupSettings(BrokerOptions o)
    {
        static void Check(bool ok, string key, string message)
        {
            if (!ok)
                throw new BrokerConfigException(key, $"{key}: {message}");
        }
        Check(o.ConsumerGroupSessionTimeout >= o.ConsumerGroupMinSessionTimeout, "group.consumer.session.timeout.ms",
            $"{o.ConsumerGroupSessionTimeout.TotalMilliseconds} is below group.consumer.min.session.timeout.ms ({o.ConsumerGroupMinSessionTimeout.TotalMilliseconds}).");
        Check(o.ConsumerGroupSessionTimeout <= o.ConsumerGroupMaxSessionTimeout, "group.consumer.session.timeout.ms",
            $"{o.ConsumerGroupSessionTimeout.TotalMilliseconds} is above group.consumer.max.session.timeout.ms ({o.ConsumerGroupMaxSessionTimeout.TotalMilliseconds}).");
        Check(o.ConsumerGroupHeartbeatInterval >= o.ConsumerGroupMinHeartbeatInterval, "group.consumer.heartbeat.interval.ms",
            $"{o.ConsumerGroupHeartbeatInterval.TotalMilliseconds} is below group.consumer.min.heartbeat.interval.ms ({o.ConsumerGroupMinHeartbeatInterval.TotalMilliseconds}).");
        Check(o.ConsumerGroupHeartbeatInterval <= o.ConsumerGroupMaxHeartbeatInterval, "group.consumer.heartbeat.interval.ms",
            $"{o.ConsumerGroupHeartbeatInterval.TotalMilliseconds} is above group.consumer.max.heartbeat.interval.ms ({o.ConsumerGroupMaxHeartbeatInterval.TotalMilliseconds}).");
        Check(o.ConsumerGroupHeartbeatInterval < o.ConsumerGroupSessionTimeout, "group.consumer.heartbeat.interval.ms",
            "must be below group.consumer.session.timeout.ms.");
        Check(o.ConsumerGroupHeartbeatInterval > TimeSpan.Zero, "group.consumer.heartbeat.interval.ms", "must be positive.");
        Check(o.ShareGroupSessionTimeout >= o.ShareGroupMinSessionTimeout, "group.share.session.timeout.ms",
            $"{o.ShareGroupSessionTimeout.TotalMilliseconds} is below group.share.min.session.timeout.ms ({o.ShareGroupMinSessionTimeout.TotalMilliseconds}).");
        Check(o.ShareGroupSessionTimeout <= o.ShareGroupMaxSessionTimeout, "group.share.session.timeout.ms",
            $"{o.ShareGroupSessionTimeout.TotalMilliseconds} is above group.share.max.session.timeout.ms ({o.ShareGroupMaxSessionTimeout.TotalMilliseconds}).");
        Check(o.ShareGroupHeartbeatInterval >= o.ShareGroupMinHeartbeatInterval, "group.share.heartbeat.interval.ms",
            $"{o.ShareGroupHeartbeatInterval.TotalMilliseconds} is below group.share.min.heartbeat.interval.ms ({o.ShareGroupMinHeartbeatInterval.TotalMilliseconds}).");
        Check(o.ShareGroupHeartbeatInterval <= o.ShareGroupMaxHeartbeatInterval, "group.share.heartbeat.interval.ms",
            $"{o.ShareGroupHeartbeatInterval.TotalMilliseconds} is above group.share.max.heartbeat.interval.ms ({o.ShareGroupMaxHeartbeatInterval.TotalMilliseconds}).");
        Check(o.ShareGroupHeartbeatInterval < o.ShareGroupSessionTimeout, "group.share.heartbeat.interval.ms",
            "must be below group.share.session.timeout.ms.");
        Check(o.ShareGroupHeartbeatInterval > TimeSpan.Zero, "group.share.heartbeat.interval.ms", "must be positive.");
    }

    internal static int Int(string key, string value, int min)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            throw new BrokerConfigException(key, $"{key}: '{value}' is not an integer.");
        if (n < min)
            throw new BrokerConfigException(key, $"{key}: {n} is below the minimum {min}.");
        return n;
    }

    private static int Range(string key, string value, int min, int max)
    {
        int n = Int(key, value, min);
        if (n > max)
            throw new BrokerConfigException(key, $"{key}: {n} is above the maximum {max}.");
        return n;
    }

    internal static TimeSpan Ms(string key, string value) => TimeSpan.FromMilliseconds(Int(key, value, 0));

    private static bool Bool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw new BrokerConfigException(key, $"{key}: '{value}' is not true or false."),
    };

    private static BrokerOptions One(string key, string value, BrokerOptions options) =>
        Int(key, value, 1) == 1 ? options : throw new BrokerConfigException(key, $"{key}: Samsa is a single-node broker; only 1 is possible.");

    /// <summary>
    /// The console's address: "8080" and ":8080" mean loopback (a console is not exposed by
    /// accident); an explicit host, 0.0.0.0 included, binds where it says.
    /// </summary>
    public static IPEndPoint ParseUiEndpoint(string value)
    {
        string v = value.Trim();
        if (int.TryParse(v.TrimStart(':'), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535)
            return new IPEndPoint(IPAddress.Loopback, port);
        if (v.StartsWith(':') || v.Contains("://:", StringComparison.Ordinal))
            throw new BrokerConfigException("ui.listeners", $"ui.listeners: expected host:port or a port, got '{value}'.");
        return ParseEndpoint("ui.listeners", v);
    }

    public static IPEndPoint ParseEndpoint(string key, string value)
    {
        var (host, port) = ParseHostPort(key, value);
        if (host.Length == 0 || host == "0.0.0.0")
            return new IPEndPoint(IPAddress.Any, port);
        if (host == "localhost")
            return new IPEndPoint(IPAddress.Loopback, port);
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
            return new IPEndPoint(ip, port);
        try
        {
            return new IPEndPoint(Dns.GetHostAddresses(host)[0], port);
        }
        catch (System.Net.Sockets.SocketException)
        {
            throw new BrokerConfigException(key, $"{key}: cannot resolve host '{host}'.");
        }
    }

    private static (string Host, int Port) ParseHostPort(string key, string value)
    {
        string v = value;
        int scheme = v.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
            v = v[(scheme + 3)..];
        if (v.Contains(',', StringComparison.Ordinal))
            throw new BrokerConfigException(key, $"{key}: Samsa has one listener; got '{value}'.");
        int colon = v.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(v[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            throw new BrokerConfigException(key, $"{key}: expected host:port, got '{value}'.");
        return (v[..colon], port);
    }
}
