using System.Globalization;
using Samsa.Client.Consumer;
using Samsa.Protocol.Records;

namespace Samsa.Client.Producer;

/// <summary>
/// Producer settings with the Java producer's names and defaults (Kafka 4.x: acks=all,
/// idempotence on, linger.ms=5). Immutable: use <c>with</c>, or <see cref="FromProperties"/>.
/// </summary>
public sealed record ProducerOptions
{
    /// <summary>bootstrap.servers: host:port pairs, comma-separated, the client first connects to.</summary>
    public string BootstrapServers { get; init; } = "";

    /// <summary>
    /// security.protocol, ssl.* and sasl.*: how the client connects and authenticates
    /// (docs/client-config.md). Plain text by default.
    /// </summary>
    public SecurityOptions Security { get; init; } = SecurityOptions.Plaintext;

    /// <summary>client.id: the name the broker logs and quotas see.</summary>
    public string ClientId { get; init; } = "samsa-producer";

    /// <summary>acks: -1 (all, default), 1 (leader) or 0 (no answer).</summary>
    public short Acks { get; init; } = -1;

    /// <summary>linger.ms: how long a batch waits for more records before it is sent.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>batch.size: the most bytes of records one partition's batch holds.</summary>
    public int BatchSize { get; init; } = 16_384;

    /// <summary>buffer.memory: the most bytes of records waiting to be sent; produce calls block (max.block.ms) beyond it.</summary>
    public long BufferMemory { get; init; } = 33_554_432;

    /// <summary>compression.type: none, gzip, snappy, lz4 or zstd.</summary>
    public CompressionType CompressionType { get; init; } = CompressionType.None;

    /// <summary>max.in.flight.requests.per.connection: unanswered produce requests per broker (at most 5 with idempotence).</summary>
    public int MaxInFlightRequestsPerConnection { get; init; } = 5;

    /// <summary>enable.idempotence: retries neither duplicate nor reorder records (needs acks=all).</summary>
    public bool EnableIdempotence { get; init; } = true;

    /// <summary>delivery.timeout.ms: the longest a record may take from the produce call to its acknowledgement, retries included.</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>request.timeout.ms: how long one request waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>max.block.ms: how long a produce call may wait for metadata or for room in buffer.memory.</summary>
    public TimeSpan MaxBlock { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>retries: how often a failed batch is retried within delivery.timeout.ms.</summary>
    public int Retries { get; init; } = int.MaxValue;

    /// <summary>retry.backoff.ms: the wait before retrying a retriable error.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>reconnect.backoff.ms: the first wait before reconnecting to a broker.</summary>
    public TimeSpan ReconnectBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>reconnect.backoff.max.ms: the longest wait between reconnects, reached by doubling.</summary>
    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>max.request.size: the largest record (and produce request) the producer sends.</summary>
    public int MaxRequestSize { get; init; } = 1_048_576;

    /// <summary>partitioner.class: where keyed records go (Java's murmur2 by default; librdkafka's crc32 to match its clients).</summary>
    public Partitioner Partitioner { get; init; } = Partitioner.Murmur2;

    /// <summary>allow.auto.create.topics: whether a metadata request may create a missing topic (when the broker allows it).</summary>
    public bool AllowAutoCreateTopics { get; init; } = true;

    /// <summary>
    /// transactional.id: makes the producer transactional (InitTransactionsAsync, BeginTransaction,
    /// ...; docs/client-config.md). The id survives restarts: a new producer with the same id fences
    /// the old one and completes or aborts its open transaction. Implies idempotence. Null (the
    /// default): not transactional.
    /// </summary>
    public string? TransactionalId { get; init; }

    /// <summary>
    /// transaction.timeout.ms: how long the coordinator lets a transaction stay open before it aborts
    /// it (the broker caps it at transaction.max.timeout.ms).
    /// </summary>
    public TimeSpan TransactionTimeout { get; init; } = TimeSpan.FromMinutes(1);

    private delegate ProducerOptions Setter(ProducerOptions o, string key, string value);

    private static readonly Dictionary<string, Setter> Keys = new(StringComparer.Ordinal)
    {
        ["bootstrap.servers"] = (o, _, v) => o with { BootstrapServers = v },
        ["client.id"] = (o, _, v) => o with { ClientId = v },
        ["acks"] = (o, k, v) => o with
        {
            Acks = v switch
            {
                "all" or "-1" => -1,
                "1" => 1,
                "0" => 0,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not all, -1, 1 or 0."),
            },
        },
        ["linger.ms"] = (o, k, v) => o with { Linger = TimeSpan.FromMilliseconds(Int(k, v, 0)) },
        ["batch.size"] = (o, k, v) => o with { BatchSize = Int(k, v, 0) },
        ["buffer.memory"] = (o, k, v) => o with { BufferMemory = Int(k, v, 1) },
        ["compression.type"] = (o, k, v) => o with
        {
            CompressionType = v switch
            {
                "none" => CompressionType.None,
                "gzip" => CompressionType.Gzip,
                "snappy" => CompressionType.Snappy,
                "lz4" => CompressionType.Lz4,
                "zstd" => CompressionType.Zstd,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not none, gzip, snappy, lz4 or zstd."),
            },
        },
        ["max.in.flight.requests.per.connection"] = (o, k, v) => o with { MaxInFlightRequestsPerConnection = Int(k, v, 1) },
        ["enable.idempotence"] = (o, k, v) => o with { EnableIdempotence = Bool(k, v) },
        ["delivery.timeout.ms"] = (o, k, v) => o with { DeliveryTimeout = TimeSpan.FromMilliseconds(Int(k, v, 1)) },
        ["request.timeout.ms"] = (o, k, v) => o with { RequestTimeout = TimeSpan.FromMilliseconds(Int(k, v, 1)) },
        ["max.block.ms"] = (o, k, v) => o with { MaxBlock = TimeSpan.FromMilliseconds(Int(k, v, 0)) },
        ["retries"] = (o, k, v) => o with { Retries = Int(k, v, 0) },
        ["retry.backoff.ms"] = (o, k, v) => o with { RetryBackoff = TimeSpan.FromMilliseconds(Int(k, v, 0)) },
        ["reconnect.backoff.ms"] = (o, k, v) => o with { ReconnectBackoff = TimeSpan.FromMilliseconds(Int(k, v, 0)) },
        ["reconnect.backoff.max.ms"] = (o, k, v) => o with { ReconnectBackoffMax = TimeSpan.FromMilliseconds(Int(k, v, 0)) },
        ["max.request.size"] = (o, k, v) => o with { MaxRequestSize = Int(k, v, 1) },
        ["partitioner"] = (o, k, v) => o with
        {
            Partitioner = v switch
            {
                "murmur2" or "murmur2_random" or "default" => Partitioner.Murmur2,
                "crc32" or "consistent" or "consistent_random" => Partitioner.Crc32,
                _ => throw new KafkaConfigException(k, $"{k}: '{v}' is not murmur2_random (Java's) or consistent_random (librdkafka's)."),
            },
        },
        ["allow.auto.create.topics"] = (o, k, v) => o with { AllowAutoCreateTopics = Bool(k, v) },
        ["transactional.id"] = (o, _, v) => o with { TransactionalId = v },
        ["transaction.timeout.ms"] = (o, k, v) => o with { TransactionTimeout = TimeSpan.FromMilliseconds(Int(k, v, 1)) },
    };

    /// <summary>Every Kafka property name this type reads in FromProperties (the security keys among them).</summary>
    public static IReadOnlyCollection<string> KnownKeys { get; } = [.. Keys.Keys, .. SecurityOptions.KnownKeys];

    /// <summary>Reads Kafka-style settings; an unknown key or a bad value names the key.</summary>
    /// <param name="properties">The settings by Kafka's property names.</param>
    /// <returns>The options, with defaults for what was not given.</returns>
    public static ProducerOptions FromProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var options = new ProducerOptions();
        bool idempotenceGiven = false;
        foreach (var (key, value) in properties)
        {
            if (SecurityOptions.TryApply(options.Security, key, value.Trim(), out var security))
            {
                options = options with { Security = security };
                continue;
            }
            if (!Keys.TryGetValue(key, out var set))
                throw new KafkaConfigException(key, $"Unknown producer setting '{key}'.");
            options = set(options, key, value.Trim());
            idempotenceGiven |= key == "enable.idempotence";
        }
        // As Java's producer: idempotence is on by default only where the other settings allow it;
        // acks=1 alone turns it off. Asked for explicitly, or implied by a transactional.id, a
        // conflict is refused by Validate.
        if (!idempotenceGiven && options.TransactionalId is null && (options.Acks != -1 || options.MaxInFlightRequestsPerConnection > 5 || options.Retries == 0))
            options = options with { EnableIdempotence = false };
        return options;
    }

    /// <summary>Checks the settings together (idempotence needs acks=all, ...), throwing <see cref="Consumer.KafkaConfigException"/> naming the key.</summary>
    /// <returns>These options.</returns>
    public ProducerOptions Validate()
    {
        new ConsumerOptions { BootstrapServers = BootstrapServers }.Validate(subscribing: false); // same bootstrap.servers rules
        if (Acks is not (-1 or 0 or 1))
            throw new KafkaConfigException("acks", $"acks must be all (-1), 1 or 0, got {Acks}.");
        if (TransactionalId is not null)
        {
            if (string.IsNullOrWhiteSpace(TransactionalId))
                throw new KafkaConfigException("transactional.id", "transactional.id must not be empty; leave it unset for a producer without transactions.");
            if (!EnableIdempotence)
                throw new KafkaConfigException("enable.idempotence", "Cannot set a transactional.id without also enabling idempotence: set enable.idempotence=true or remove transactional.id.");
            if (Retries == 0)
                throw new KafkaConfigException("retries", "A transactional producer is idempotent and needs retries above 0.");
            if (TransactionTimeout <= TimeSpan.Zero || TransactionTimeout.TotalMilliseconds > int.MaxValue)
                throw new KafkaConfigException("transaction.timeout.ms", $"transaction.timeout.ms must be between 1 and {int.MaxValue}, got {TransactionTimeout.TotalMilliseconds}.");
        }
        if (EnableIdempotence && Acks != -1)
            throw new KafkaConfigException("acks", TransactionalId is null
                ? "enable.idempotence=true requires acks=all; set acks=all or enable.idempotence=false."
                : "transactional.id requires acks=all (a transactional producer is idempotent); set acks=all.");
        if (EnableIdempotence && MaxInFlightRequestsPerConnection > 5)
            throw new KafkaConfigException("max.in.flight.requests.per.connection", "enable.idempotence=true allows at most 5 in-flight requests per connection.");
        if (DeliveryTimeout < Linger + RequestTimeout)
            throw new KafkaConfigException("delivery.timeout.ms", $"delivery.timeout.ms ({DeliveryTimeout.TotalMilliseconds}) must be at least linger.ms + request.timeout.ms ({(Linger + RequestTimeout).TotalMilliseconds}).");
        if (BatchSize > MaxRequestSize)
            throw new KafkaConfigException("batch.size", $"batch.size ({BatchSize}) must not exceed max.request.size ({MaxRequestSize}).");
        return this;
    }

    private static int Int(string key, string value, int min)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            throw new KafkaConfigException(key, $"{key}: '{value}' is not an integer.");
        return n >= min ? n : throw new KafkaConfigException(key, $"{key} must be at least {min}, got {n}.");
    }

    private static bool Bool(string key, string value) => value.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw new KafkaConfigException(key, $"{key}: '{value}' is not true or false."),
    };
}
