using System.Net;
using Samsa.Broker.Security;

namespace Samsa.Broker;

/// <summary>
/// Broker settings, named after Kafka's server.properties keys (docs/broker-config.md). Immutable;
/// <c>with</c> expressions make variants for tests.
/// </summary>
public sealed record BrokerOptions
{
    /// <summary>listeners: where to accept connections. Port 0 binds an ephemeral port.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 9092);

    /// <summary>advertised.listeners: host and port clients are told to connect to; defaults to the bound address.</summary>
    public string? AdvertisedHost { get; init; }

    public int? AdvertisedPort { get; init; }

    /// <summary>log.dirs: the data directory.</summary>
    public string DataDirectory { get; init; } = "./samsa-data";

    /// <summary>Set by log.dirs, which wins over log.dir whatever the order, as in Kafka.</summary>
    internal bool DataDirectoryFromLogDirs { get; init; }

    /// <summary>node.id.</summary>
    public int NodeId { get; init; }

    public string ClusterId { get; init; } = "samsa-cluster";

    /// <summary>num.partitions: partitions of auto-created topics and of CreateTopics with -1.</summary>
    public int NumPartitions { get; init; } = 1;

    /// <summary>max.connections: beyond it the broker accepts no more until one closes (Kafka's default: no limit).</summary>
    public int MaxConnections { get; init; } = int.MaxValue;

    /// <summary>max.connections.per.ip: a new connection from an address over it is closed at once (Kafka's default: no limit).</summary>
    public int MaxConnectionsPerIp { get; init; } = int.MaxValue;

    /// <summary>
    /// max.partitions (Samsa's own): the most partitions the broker holds, internal topics included.
    /// A CreateTopics or CreatePartitions past it is refused with POLICY_VIOLATION and changes
    /// nothing. Null: sized to the machine, from the process's open-file limit, since every
    /// partition keeps its segment files open (<see cref="Topics.PartitionCeiling"/>).
    /// </summary>
    public int? MaxPartitions { get; init; }

    /// <summary>auto.create.topics.enable: Metadata and Produce for an unknown topic create it, as in Kafka.</summary>
    public bool AutoCreateTopics { get; init; } = true;

    /// <summary>socket.request.max.bytes: larger frames are refused before they are buffered.</summary>
    public int SocketRequestMaxBytes { get; init; } = 104_857_600;

    /// <summary>connections.max.idle.ms.</summary>
    public TimeSpan ConnectionsMaxIdle { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>message.max.bytes: the largest record batch a produce may carry.</summary>
    public int MessageMaxBytes { get; init; } = 1_048_588;

    /// <summary>log.segment.bytes.</summary>
    public long SegmentBytes { get; init; } = 1L << 30;

    /// <summary>
    /// Broker-wide defaults of topic configs, by topic config name (retention.ms from
    /// log.retention.hours, ...): a topic without its own value takes these before Kafka's defaults.
    /// </summary>
    public IReadOnlyDictionary<string, string> TopicDefaults { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Which of Kafka's keys for one setting set it (log.retention.ms beats .hours whatever the order).</summary>
    internal IReadOnlyDictionary<string, int> TopicDefaultRanks { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>log.retention.check.interval.ms: how often retention.ms / retention.bytes are applied.</summary>
    public TimeSpan RetentionCheckInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// log.cleaner.backoff.ms: how often the log cleaner looks for compacted partitions whose dirty
    /// part has reached min.cleanable.dirty.ratio (Kafka's cleaner threads sleep this long when
    /// nothing is cleanable).
    /// </summary>
    public TimeSpan LogCleanerBackoff { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// producer.id.expiration.ms: an idempotent producer silent this long is forgotten by each
    /// partition (its next batch may start at any sequence). Kafka's default, one day.
    /// </summary>
    public TimeSpan ProducerIdExpiration { get; init; } = TimeSpan.FromDays(1);

    /// <summary>producer.id.expiration.check.interval.ms: how often expired producers are removed.</summary>
    public TimeSpan ProducerIdExpirationCheckInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// log.flush.scheduler.interval.ms: how often idle logs are checked against their flush.ms.
    /// Kafka's default is never; ours is one second, so flush.ms bounds unflushed data on idle logs too.
    /// </summary>
    public TimeSpan FlushCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>transaction.state.log.num.partitions: partitions of __transaction_state (fixed once created).</summary>
    public int TransactionStateLogPartitions { get; init; } = 50;

    /// <summary>transaction.max.timeout.ms: the largest transaction.timeout.ms a producer may ask for (Kafka's default, 15 minutes).</summary>
    public TimeSpan TransactionMaxTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>transactional.id.expiration.ms: a transactional id with no transaction for this long is removed (Kafka's default, 7 days).</summary>
    public TimeSpan TransactionalIdExpiration { get; init; } = TimeSpan.FromDays(7);

    /// <summary>transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are aborted.</summary>
    public TimeSpan TransactionAbortCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>transaction.remove.expired.transaction.cleanup.interval.ms: how often expired transactional ids are removed.</summary>
    public TimeSpan TransactionalIdExpirationCheckInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>offsets.topic.num.partitions.</summary>
    public int OffsetsTopicPartitions { get; init; } = 50;

    /// <summary>offsets.retention.minutes: committed offsets of an empty group are dropped after this.</summary>
    public TimeSpan OffsetsRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>group.initial.rebalance.delay.ms.</summary>
    public TimeSpan GroupInitialRebalanceDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>group.min.session.timeout.ms / group.max.session.timeout.ms.</summary>
    public TimeSpan GroupMinSessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    public TimeSpan GroupMaxSessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>group.coordinator.rebalance.protocols: "classic", "consumer" (KIP-848); "share" is accepted, but share groups follow <see cref="ShareVersion"/>.</summary>
    public IReadOnlyList<string> GroupRebalanceProtocols { get; init; } = ["classic", "consumer"];

    /// <summary>group.consumer.session.timeout.ms, within group.consumer.min/max.session.timeout.ms.</summary>
    public TimeSpan ConsumerGroupSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    public TimeSpan ConsumerGroupMinSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    public TimeSpan ConsumerGroupMaxSessionTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>group.consumer.heartbeat.interval.ms, within group.consumer.min/max.heartbeat.interval.ms.</summary>
    public TimeSpan ConsumerGroupHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ConsumerGroupMinHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ConsumerGroupMaxHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>group.consumer.migration.policy: disabled, upgrade, downgrade or bidirectional.</summary>
    public string ConsumerGroupMigrationPolicy { get; init; } = "bidirectional";

    /// <summary>group.consumer.max.size: members a consumer group may have.</summary>
    public int ConsumerGroupMaxSize { get; init; } = int.MaxValue;

    /// <summary>group.consumer.assignors: server-side assignors by name ("uniform", "range"); the first is the default.</summary>
    public IReadOnlyList<string> ConsumerGroupAssignors { get; init; } = ["uniform", "range"];

    /// <summary>
    /// share.version: Kafka 4.2 gates share groups (KIP-932) with this cluster feature; a single
    /// node takes it from its config. 1 (the default) serves the share-group APIs, 0 neither serves
    /// nor advertises them.
    /// </summary>
    public short ShareVersion { get; init; } = 1;

    /// <summary>group.share.session.timeout.ms, within group.share.min/max.session.timeout.ms.</summary>
    public TimeSpan ShareGroupSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    public TimeSpan ShareGroupMinSessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    public TimeSpan ShareGroupMaxSessionTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>group.share.heartbeat.interval.ms, within group.share.min/max.heartbeat.interval.ms.</summary>
    public TimeSpan ShareGroupHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ShareGroupMinHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ShareGroupMaxHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>group.share.max.size: members a share group may have.</summary>
    public int ShareGroupMaxSize { get; init; } = 200;

    /// <summary>group.share.record.lock.duration.ms: how long a member holds records it fetched without acknowledging them.</summary>
    public TimeSpan ShareRecordLockDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>group.share.min.record.lock.duration.ms: the lowest share.record.lock.duration.ms a group config may set.</summary>
    public TimeSpan ShareGroupMinRecordLockDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>group.share.max.record.lock.duration.ms: the highest share.record.lock.duration.ms a group config may set.</summary>
    public TimeSpan ShareGroupMaxRecordLockDuration { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>group.share.delivery.count.limit: deliveries of a record before it is archived.</summary>
    public int ShareDeliveryCountLimit { get; init; } = 5;

    /// <summary>group.share.partition.max.record.locks: records in flight per share-partition.</summary>
    public int SharePartitionMaxRecordLocks { get; init; } = 2000;

    /// <summary>group.share.max.share.sessions: share sessions the broker keeps (SHARE_SESSION_LIMIT_REACHED beyond).</summary>
    public int ShareMaxSessions { get; init; } = 2000;

    /// <summary>
    /// share.auto.offset.reset: where a share-partition without state starts, "latest" (Kafka's
    /// default) or "earliest". A per-group config in Kafka; here the broker-wide value for every group.
    /// </summary>
    public string ShareAutoOffsetReset { get; init; } = "latest";

    /// <summary>share.coordinator.state.topic.num.partitions: partitions of __share_group_state (fixed once created).</summary>
    public int ShareStateTopicPartitions { get; init; } = 50;

    /// <summary>How long shutdown waits for in-flight requests before closing connections.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// sasl.plain.users: when set, clients must authenticate with SASL/PLAIN as one of these users
    /// (the listener is SASL_PLAINTEXT); when null, no authentication (PLAINTEXT).
    /// </summary>
    public IReadOnlyDictionary<string, string>? SaslPlainUsers { get; init; }

    /// <summary>
    /// listeners, when several (or a protocol other than PLAINTEXT) are wanted: each with its own
    /// security protocol. Null: one listener at <see cref="Listen"/>, PLAINTEXT (SASL_PLAINTEXT when
    /// <see cref="SaslPlainUsers"/> is set), advertised as <see cref="AdvertisedHost"/>:<see cref="AdvertisedPort"/>.
    /// </summary>
    public IReadOnlyList<ListenerOptions>? Listeners { get; init; }

    /// <summary>advertised.listeners in its named form: listener name → host:port.</summary>
    public IReadOnlyDictionary<string, string>? AdvertisedListeners { get; init; }

    /// <summary>controller.listener.names: listeners by these names belong to a KRaft controller, which a single node does not run; they are not opened.</summary>
    public IReadOnlyList<string>? ControllerListenerNames { get; init; }

    /// <summary>listener.security.protocol.map: listener name → protocol, for names that are not protocol names.</summary>
    public IReadOnlyDictionary<string, SecurityProtocol>? ListenerSecurityProtocolMap { get; init; }

    /// <summary>
    /// The ssl.*, sasl.* and listener.name.* settings as server.properties spells them
    /// (docs/security.md); read when the listeners start, per listener with the
    /// listener.name.&lt;name&gt;. prefix winning.
    /// </summary>
    public IReadOnlyDictionary<string, string> SecuritySettings { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>connections.max.reauth.ms (KIP-368): a SASL session lasts this long, then the client must re-authenticate; zero, the default, for ever.</summary>
    public TimeSpan ConnectionsMaxReauth { get; init; } = TimeSpan.Zero;

    /// <summary>connection.failed.authentication.delay.ms: a failed authentication is answered and closed after this.</summary>
    public TimeSpan FailedAuthenticationDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>sasl.server.max.receive.size: the largest frame a SASL listener reads before authentication.</summary>
    public int SaslServerMaxReceiveSize { get; init; } = 524_288;

    /// <summary>ssl.handshake.timeout.ms (Samsa's own): a TLS handshake not done by then closes the connection.</summary>
    public TimeSpan SslHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// sasl.scram.users (Samsa's own): SCRAM user:password pairs for development and tests, salted
    /// at start-up for both SCRAM mechanisms and never written to the data directory. Users set
    /// through AlterUserScramCredentials (durable) win over these.
    /// </summary>
    public IReadOnlyDictionary<string, string>? SaslScramUsers { get; init; }

    /// <summary>
    /// authorizer.class.name: whether requests are checked against ACLs (Samsa's ACL authorizer,
    /// which Kafka's StandardAuthorizer and AclAuthorizer names also select). Off by default: every request is allowed.
    /// </summary>
    public bool AclAuthorizer { get; init; }

    /// <summary>super.users: principals (User:alice) the authorizer lets do anything.</summary>
    public IReadOnlyList<string> SuperUsers { get; init; } = [];

    /// <summary>allow.everyone.if.no.acl.found: with the authorizer on, whether a resource no ACL covers is open to all.</summary>
    public bool AllowEveryoneIfNoAclFound { get; init; }

    /// <summary>
    /// ui.listeners (<c>samsa broker --ui</c>): where the web console and /metrics listen
    /// (docs/console.md); null, the default, serves none. Port 0 binds an ephemeral port, read back
    /// from <see cref="SamsaBroker.UiAddress"/>. With <see cref="SaslPlainUsers"/> set, every page
    /// asks for HTTP Basic credentials of those users.
    /// </summary>
    public IPEndPoint? UiListen { get; init; }

    /// <summary>How many rebalances per group the console's timeline keeps in memory.</summary>
    public int UiTimelineRebalances { get; init; } = 20;
}
