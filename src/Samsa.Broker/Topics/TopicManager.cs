using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Storage;

namespace Samsa.Broker.Topics;

/// <summary>A topic and its partition logs. Partitions only grow (CreatePartitions).</summary>
internal sealed class Topic(string name, Guid id, PartitionLog[] partitions, bool isInternal, IReadOnlyDictionary<string, string>? brokerDefaults = null)
{
    private readonly IReadOnlyDictionary<string, string> _brokerDefaults = brokerDefaults ?? new Dictionary<string, string>();

    public string Name { get; } = name;

    public Guid Id { get; } = id;

    public bool IsInternal { get; } = isInternal;

    public PartitionLog[] Partitions { get; set; } = partitions;

    private static readonly IReadOnlyDictionary<string, string> NoConfigs = new Dictionary<string, string>(StringComparer.Ordinal);
    private volatile IReadOnlyDictionary<string, string> _configs = NoConfigs;

    /// <summary>
    /// Per-topic overrides of <see cref="TopicConfigs"/> (dynamic topic configs). An immutable
    /// snapshot, swapped whole by <see cref="WithConfigs"/>: the produce path reads it without the
    /// lock that writers take.
    /// </summary>
    public IReadOnlyDictionary<string, string> Configs => _configs;

    /// <summary>Publishes a new snapshot: <paramref name="change"/> edits a copy of the current one. Callers serialise writers.</summary>
    public void WithConfigs(Action<Dictionary<string, string>> change)
    {
        var next = new Dictionary<string, string>(_configs, StringComparer.Ordinal);
        change(next);
        _configs = next;
    }

    public string Config(string name) => Configs.TryGetValue(name, out var v) ? v : DefaultFor(name);

    /// <summary>The value without a topic override: the broker's (log.retention.hours, ...) or Kafka's default.</summary>
    public string DefaultFor(string name) => _brokerDefaults.TryGetValue(name, out var v) ? v : TopicConfigs.Known[name].Default;

    /// <summary>Where <see cref="Config"/> comes from: DescribeConfigs' DYNAMIC_TOPIC_CONFIG (1), STATIC_BROKER_CONFIG (4) or DEFAULT_CONFIG (5).</summary>
    public sbyte SourceOf(string name) => Configs.ContainsKey(name) ? (sbyte)1 : _brokerDefaults.ContainsKey(name) ? (sbyte)4 : (sbyte)5;

    /// <summary>cleanup.policy includes compact (its only values are delete and compact).</summary>
    public bool IsCompacted => Config("cleanup.policy").Contains("compact", StringComparison.Ordinal);
}

/// <summary>
/// Owns the data directory: one folder per partition (<c>topic-partition</c>, as Kafka lays it out),
/// with a <c>partition.metadata</c> file holding the topic id. Topic creation and deletion are
/// serialised by a lock; lookups are lock-free.
/// </summary>
internal sealed partial class TopicManager : IAsyncDisposable
{
    public const string ConsumerOffsetsTopic = "__consumer_offsets";
    private const int MaxNameLength = 249;

    private readonly ConcurrentDictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Topic> _byId = new();
    private readonly Lock _createLock = new();
    private readonly BrokerOptions _options;
    private readonly ILogger _logger;

    private TopicManager(BrokerOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        Dynamic = new Configuration.DynamicBrokerConfig(options);
        MaxPartitions = PartitionCeiling.For(options);
    }

    /// <summary>max.partitions in effect.</summary>
    public int MaxPartitions { get; }

    /// <summary>Broker settings that AlterConfigs may change at run time.</summary>
    public Configuration.DynamicBrokerConfig Dynamic { get; }

    public IEnumerable<Topic> All => _topics.Values;

    /// <summary>Raised after topics were created, deleted or grew (the group coordinator re-assigns), outside any lock.</summary>
    public event Action<IReadOnlyCollection<string>>? Changed;

    private void RaiseChanged(string topic) => Changed?.Invoke([topic]);

    /// <summary>Wakes fetches waiting for data: produces and transaction markers signal it.</summary>
    public Handlers.AppendNotifier Appends { get; } = new();

    public LogConfig DefaultLogConfig => new() { SegmentBytes = _options.SegmentBytes, ProducerIdExpirationMs = ProducerIdExpirationMs };

    private long ProducerIdExpirationMs => (long)_options.ProducerIdExpiration.TotalMilliseconds;

    /// <summary>The log settings of a topic: its own configs over the broker's defaults.</summary>
    public LogConfig LogConfigFor(Topic topic) => new()
    {
        SegmentBytes = topic.Configs.ContainsKey("segment.bytes") ? LongConfig(topic, "segment.bytes") : _options.SegmentBytes,
        SegmentMs = LongConfig(topic, "segment.ms"),
        FlushMessages = LongConfig(topic, "flush.messages"),
        FlushMs = LongConfig(topic, "flush.ms"),
        IndexIntervalBytes = (int)LongConfig(topic, "index.interval.bytes"),
        ProducerIdExpirationMs = ProducerIdExpirationMs,
    };

    private static long LongConfig(Topic topic, string name) => long.Parse(topic.Config(name), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gives every partition log of the topic its current settings (after load, create or a config change).</summary>
    private void ApplyLogConfig(Topic topic)
    {
        var config = LogConfigFor(topic);
        foreach (var log in topic.Partitions)
            log.Config = config;
    }

    public static Task<TopicManager> OpenAsync(BrokerOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"{options.DataDirectory}: cannot create the data directory: {e.Message}", e);
        }
        var manager = new TopicManager(options, logger);
        var byTopic = new Dictionary<string, SortedDictionary<int, string>>(StringComparer.Ordinal);
        foreach (var dir in Directory.GetDirectories(options.DataDirectory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Path.GetFileName(dir).EndsWith(DeletedSuffix, StringComparison.Ordinal))
            {
                manager.RemoveDirectory(dir); // a topic deletion that did not finish
                continue;
            }
            var match = PartitionDirectory().Match(Path.GetFileName(dir));
            if (!match.Success && !Path.GetFileName(dir).StartsWith('.'))
            {
                logger.LogWarning("{Dir}: not a partition directory (expected topic-partition); ignored", dir);
                continue;
            }
            if (!match.Success)
                continue;
            string topic = match.Groups[1].Value;
            if (!byTopic.TryGetValue(topic, out var parts))
                byTopic[topic] = parts = [];
            parts[int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)] = dir;
        }
        foreach (var (name, parts) in byTopic)
        {
            if (manager.LoadTopic(name, parts) is { } topic)
            {
                manager._topics[name] = topic;
                manager._byId[topic.Id] = topic;
            }
        }
        logger.LogInformation("Loaded {Count} topic(s) from {Dir}", manager._topics.Count, options.DataDirectory);
        return Task.FromResult(manager);
    }

    public bool TryGet(string name, out Topic topic) => _topics.TryGetValue(name, out topic!);

    public Topic? FindById(Guid id) => _byId.GetValueOrDefault(id);

    /// <summary>Kafka's rule: 1–249 characters of [a-zA-Z0-9._-], not "." or "..".</summary>
    public static string? ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name))
            return "Topic name is empty.";
        if (name is "." or "..")
            return "Topic name cannot be '.' or '..'.";
        if (name.Length > MaxNameLength)
            return $"Topic name is longer than {MaxNameLength} characters.";
        if (!LegalName().IsMatch(name))
            return $"Topic name '{name}' has characters other than ASCII letters, digits, '.', '_' and '-'.";
        return null;
    }

    /// <summary>Creates a topic; returns the error code Kafka would (TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS).</summary>
    public (ErrorCode Error, string? Message, Topic? Topic) Create(string name, int partitions, bool validateOnly = false, IReadOnlyDictionary<string, string?>? configs = null)
    {
        foreach (var (key, value) in configs ?? new Dictionary<string, string?>())
        {
            if (TopicConfigs.Validate(key, value) is { } configProblem)
                return (ErrorCode.InvalidConfig, configProblem, null);
        }
        if (ValidateName(name) is { } problem)
            return (ErrorCode.InvalidTopicException, problem, null);
        if (partitions == -1)
            partitions = Dynamic.NumPartitions;
        if (partitions <= 0)
            return (ErrorCode.InvalidPartitions, $"Number of partitions must be larger than 0 (got {partitions}).", null);
        lock (_createLock)
        {
            if (_topics.ContainsKey(name))
                return (ErrorCode.TopicAlreadyExists, $"Topic '{name}' already exists.", null);
            if (OverCeiling(partitions) is { } tooMany)
                return (ErrorCode.PolicyViolation, tooMany, null);
            if (validateOnly)
                return (ErrorCode.None, null, null);
            var id = Guid.NewGuid();
            var overrides = (configs ?? new Dictionary<string, string?>()).Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal);
            if (CreatePartitions(name, id, 0, partitions, overrides, out var logs) is { } failure)
                return (ErrorCode.KafkaStorageError, failure, null);
            var topic = new Topic(name, id, logs, name.StartsWith("__", StringComparison.Ordinal), _options.TopicDefaults);
            topic.WithConfigs(next =>
            {
                foreach (var (key, value) in overrides)
                    next[key] = value;
            });
            ApplyLogConfig(topic);
            _topics[name] = topic;
            _byId[id] = topic;
            _logger.LogInformation("Created topic {Topic} with {Partitions} partition(s)", name, partitions);
        }
        RaiseChanged(name);
        return (ErrorCode.None, null, _topics.GetValueOrDefault(name));
    }

    /// <summary>The partitions every topic holds, internal ones included.</summary>
    public int PartitionCount => _topics.Values.Sum(t => t.Partitions.Length);

    /// <summary>max.partitions: why <paramref name="adding"/> more would be too many, or null. Caller holds the create lock.</summary>
    private string? OverCeiling(int adding)
    {
        int held = PartitionCount;
        return (long)held + adding <= MaxPartitions ? null
            : $"{adding} more partition(s) would make {(long)held + adding}; this broker holds at most {MaxPartitions} (max.partitions, sized to the open-file limit unless set).";
    }

    /// <summary>Grows a topic to <paramref name="totalCount"/> partitions (CreatePartitions).</summary>
    public (ErrorCode Error, string? Message) AddPartitions(string name, int totalCount, bool validateOnly)
    {
        lock (_createLock)
        {
            if (!_topics.TryGetValue(name, out var topic))
                return (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
            int current = topic.Partitions.Length;
            if (totalCount <= current)
                return (ErrorCode.InvalidPartitions, $"Topic currently has {current} partitions, which is higher than or equal to the requested {totalCount}.");
            if (OverCeiling(totalCount - current) is { } tooMany)
                return (ErrorCode.PolicyViolation, tooMany);
            if (validateOnly)
                return (ErrorCode.None, null);
            if (CreatePartitions(name, topic.Id, current, totalCount - current, null, out var added) is { } failure)
                return (ErrorCode.KafkaStorageError, failure);
            topic.Partitions = [.. topic.Partitions, .. added];
            ApplyLogConfig(topic);
        }
        RaiseChanged(name);
        return (ErrorCode.None, null);
    }

    public ErrorCode Delete(string name)
    {
        lock (_createLock)
        {
            if (!_topics.TryRemove(name, out var topic))
                return ErrorCode.UnknownTopicOrPartition;
            _byId.TryRemove(topic.Id, out _);
            foreach (var log in topic.Partitions)
            {
                log.Dispose();
                DeletePartitionDirectory(log.Directory);
            }
            _logger.LogInformation("Deleted topic {Topic}", name);
        }
        RaiseChanged(name);
        return ErrorCode.None;
    }

    /// <summary>The topic, creating it when auto.create.topics.enable allows (Metadata, Produce).</summary>
    public Topic? GetOrAutoCreate(string name, bool allowAutoCreate)
    {
        if (_topics.TryGetValue(name, out var topic))
            return topic;
        if (!allowAutoCreate || !Dynamic.AutoCreateTopics || ValidateName(name) is not null)
            return null;
        var (_, _, created) = Create(name, Dynamic.NumPartitions);
        return created ?? (_topics.TryGetValue(name, out topic) ? topic : null);
    }

    /// <summary>
    /// Applies config changes (null value = back to default), persisted with the topic first: a
    /// write that fails changes nothing and says why (null when done).
    /// </summary>
    public string? SetConfigs(Topic topic, IEnumerable<(string Name, string? Value)> changes, bool replaceAll)
    {
        lock (_createLock)
        {
            var next = replaceAll ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(topic.Configs, StringComparer.Ordinal);
            foreach (var (name, value) in changes)
            {
                if (value is null)
                    next.Remove(name);
                else
                    next[name] = value;
            }
            if (TryWriteConfigs(topic.Partitions[0].Directory, next) is { } failure)
                return failure;
            topic.WithConfigs(current =>
            {
                current.Clear();
                foreach (var (k, v) in next)
                    current[k] = v;
            });
            ApplyLogConfig(topic);
            return null;
        }
    }

    /// <summary>
    /// Applies retention.ms and retention.bytes to every topic whose cleanup.policy includes delete
    /// (compacted topics such as __consumer_offsets are left to compaction).
    /// </summary>
    public int EnforceRetention(long nowMs)
    {
        int deleted = 0;
        foreach (var topic in _topics.Values)
        {
            if (!topic.Config("cleanup.policy").Split(',').Any(p => p.Trim() == "delete") || topic.Name == ConsumerOffsetsTopic)
                continue;
            long retentionMs = long.Parse(topic.Config("retention.ms"), System.Globalization.CultureInfo.InvariantCulture);
            long retentionBytes = long.Parse(topic.Config("retention.bytes"), System.Globalization.CultureInfo.InvariantCulture);
            foreach (var log in topic.Partitions)
            {
                try
                {
                    deleted += log.EnforceRetention(nowMs, retentionMs, retentionBytes);
                }
                catch (IOException e)
                {
                    _logger.LogWarning("{Dir}: retention failed: {Message}", log.Directory, e.Message);
                }
            }
        }
        return deleted;
    }

    /// <summary>
    /// Compacts every topic whose cleanup.policy includes compact, and always __consumer_offsets (as
    /// Kafka creates it): per key only the newest record survives outside the active segment, and
    /// tombstones go after delete.retention.ms; min.compaction.lag.ms and min.cleanable.dirty.ratio
    /// say which segments and when. Returns the records removed.
    /// </summary>
    public long Compact(long nowMs)
    {
        long removed = 0;
        foreach (var topic in _topics.Values)
        {
            bool compacted = topic.Name == ConsumerOffsetsTopic || topic.Config("cleanup.policy").Split(',').Any(p => p.Trim() == "compact");
            if (!compacted)
                continue;
            long deleteRetentionMs = LongConfig(topic, "delete.retention.ms");
            long minLagMs = LongConfig(topic, "min.compaction.lag.ms");
            double minDirtyRatio = double.Parse(topic.Config("min.cleanable.dirty.ratio"), System.Globalization.CultureInfo.InvariantCulture);
            foreach (var log in topic.Partitions)
            {
                try
                {
                    removed += log.Compact(nowMs, deleteRetentionMs, minLagMs, minDirtyRatio).RecordsRemoved;
                }
                catch (IOException e)
                {
                    _logger.LogWarning("{Dir}: compaction failed, log unchanged: {Message}", log.Directory, e.Message);
                }
            }
        }
        return removed;
    }


    public ValueTask DisposeAsync()
    {
        foreach (var topic in _topics.Values)
        {
            foreach (var log in topic.Partitions)
                log.Close();
        }
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"^(.+)-(\d+)$")]
    private static partial Regex PartitionDirectory();

    [GeneratedRegex(@"^[a-zA-Z0-9._-]+$")]
    private static partial Regex LegalName();
}
