using System.Globalization;

namespace Samsa.Broker.Groups;

/// <summary>
/// Kafka's group configs (resource type GROUP in Describe/AlterConfigs, <c>kafka-configs.sh
/// --entity-type groups</c>): per-group overrides of the broker's consumer- and share-group settings.
/// A group need not exist to have configs, as in Kafka. Overrides are validated against the broker's
/// bounds with Kafka's messages, kept in the data directory (written before the answer), read by the
/// coordinator on every heartbeat and by the share partitions when they are loaded, and dropped when
/// the group is deleted.
/// </summary>
internal sealed class GroupConfigs
{
    public const string ConsumerSessionTimeoutKey = "consumer.session.timeout.ms";
    public const string ConsumerHeartbeatIntervalKey = "consumer.heartbeat.interval.ms";
    public const string ShareSessionTimeoutKey = "share.session.timeout.ms";
    public const string ShareHeartbeatIntervalKey = "share.heartbeat.interval.ms";
    public const string ShareRecordLockDurationKey = "share.record.lock.duration.ms";
    public const string ShareAutoOffsetResetKey = "share.auto.offset.reset";
    public const string ShareIsolationLevelKey = "share.isolation.level";

    private const string FileName = "group-configs";
    private readonly BrokerOptions _broker;
    private readonly string? _path;
    private readonly Dictionary<string, Dictionary<string, string>> _overrides = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Every group config name Kafka 4.2 defines for consumer and share groups.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        ConsumerHeartbeatIntervalKey, ConsumerSessionTimeoutKey, ShareAutoOffsetResetKey, ShareHeartbeatIntervalKey,
        ShareIsolationLevelKey, ShareRecordLockDurationKey, ShareSessionTimeoutKey,
    ];

    public GroupConfigs(BrokerOptions broker, bool persistent)
    {
        _broker = broker;
        if (!persistent)
            return;
        _path = Path.Combine(broker.DataDirectory, FileName);
        if (!File.Exists(_path))
            return;
        foreach (var line in File.ReadLines(_path))
        {
            // group \t key=value, the group and the value percent-encoded (both may hold any character).
            int tab = line.IndexOf('\t', StringComparison.Ordinal), eq = line.IndexOf('=', tab + 1);
            if (tab <= 0 || eq <= tab + 1)
                continue;
            string group = Uri.UnescapeDataString(line[..tab]), key = line[(tab + 1)..eq], value = Uri.UnescapeDataString(line[(eq + 1)..]);
            if (Names.Contains(key))
                Of(group)[key] = value;
        }
    }

    /// <summary>No overrides and no file: what a coordinator built without a broker (unit tests) uses.</summary>
    public static GroupConfigs InMemory(GroupCoordinatorOptions options) => new(new BrokerOptions
    {
        ConsumerGroupSessionTimeout = options.ConsumerSessionTimeout,
        ConsumerGroupHeartbeatInterval = options.ConsumerHeartbeatInterval,
        ShareGroupSessionTimeout = options.ShareSessionTimeout,
        ShareGroupHeartbeatInterval = options.ShareHeartbeatInterval,
    }, persistent: false);

    /// <summary>Told the group id after its configs changed, so live members pick the new values up.</summary>
    public event Action<string>? Changed;

    private Dictionary<string, string> Of(string groupId)
    {
        if (!_overrides.TryGetValue(groupId, out var configs))
            _overrides[groupId] = configs = new Dictionary<string, string>(StringComparer.Ordinal);
        return configs;
    }

    private string? Override(string groupId, string key)
    {
        lock (_lock)
            return _overrides.TryGetValue(groupId, out var configs) && configs.TryGetValue(key, out var v) ? v : null;
    }

    private TimeSpan Millis(string groupId, string key, TimeSpan fallback) =>
        Override(groupId, key) is { } v ? TimeSpan.FromMilliseconds(int.Parse(v, CultureInfo.InvariantCulture)) : fallback;

    public TimeSpan ConsumerSessionTimeout(string groupId) => Millis(groupId, ConsumerSessionTimeoutKey, _broker.ConsumerGroupSessionTimeout);

    public TimeSpan ConsumerHeartbeatInterval(string groupId) => Millis(groupId, ConsumerHeartbeatIntervalKey, _broker.ConsumerGroupHeartbeatInterval);

    public TimeSpan ShareSessionTimeout(string groupId) => Millis(groupId, ShareSessionTimeoutKey, _broker.ShareGroupSessionTimeout);

    public TimeSpan ShareHeartbeatInterval(string groupId) => Millis(groupId, ShareHeartbeatIntervalKey, _broker.ShareGroupHeartbeatInterval);

    public TimeSpan ShareRecordLockDuration(string groupId) => Millis(groupId, ShareRecordLockDurationKey, _broker.ShareRecordLockDuration);

    /// <summary>latest or earliest.</summary>
    public string ShareAutoOffsetReset(string groupId) => Override(groupId, ShareAutoOffsetResetKey) ?? _broker.ShareAutoOffsetReset;

    /// <summary>read_uncommitted (Kafka's default) or read_committed.</summary>
    public string ShareIsolationLevel(string groupId) => Override(groupId, ShareIsolationLevelKey) ?? "read_uncommitted";

    private string Default(string key) => key switch
    {
        ConsumerSessionTimeoutKey => Ms(_broker.ConsumerGroupSessionTimeout),
        ConsumerHeartbeatIntervalKey => Ms(_broker.ConsumerGroupHeartbeatInterval),
        ShareSessionTimeoutKey => Ms(_broker.ShareGroupSessionTimeout),
        ShareHeartbeatIntervalKey => Ms(_broker.ShareGroupHeartbeatInterval),
        ShareRecordLockDurationKey => Ms(_broker.ShareRecordLockDuration),
        ShareAutoOffsetResetKey => _broker.ShareAutoOffsetReset,
        ShareIsolationLevelKey => "read_uncommitted",
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, null),
    };

    private static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>Every config of the group with its value and whether it is an override.</summary>
    public IReadOnlyList<(string Name, string Value, bool IsOverride)> Describe(string groupId) =>
        Names.Select(n => Override(groupId, n) is { } v ? (n, v, true) : (n, Default(n), false)).ToList();

    /// <summary>
    /// Applies changes (a null value removes the override; <paramref name="replaceAll"/>: the given set
    /// replaces every override, AlterConfigs' meaning) after validating the resulting set as Kafka
    /// does. Returns why it was refused, or null.
    /// </summary>
    public string? Set(string groupId, IReadOnlyList<(string Key, string? Value)> changes, bool replaceAll, bool validateOnly)
    {
        lock (_lock)
        {
            var next = replaceAll ? new Dictionary<string, string>(StringComparer.Ordinal)
                : new Dictionary<string, string>(_overrides.GetValueOrDefault(groupId) ?? [], StringComparer.Ordinal);
            foreach (var (key, value) in changes)
            {
                if (!Names.Contains(key))
                    return $"Unknown group config name: {key}";
                if (value is null)
                    next.Remove(key);
                else
                    next[key] = value.Trim();
            }
            if (Validate(next) is { } problem)
                return problem;
            if (validateOnly)
                return null;
            if (next.Count == 0)
                _overrides.Remove(groupId);
            else
                _overrides[groupId] = next;
            Persist();
        }
        Changed?.Invoke(groupId);
        return null;
    }

    /// <summary>A deleted group's configs go with it.</summary>
    public void Remove(string groupId)
    {
        lock (_lock)
        {
            if (_overrides.Remove(groupId))
                Persist();
        }
    }

    private void Persist()
    {
        if (_path is null)
            return;
        DurableFile.Replace(_path, _overrides.SelectMany(g => g.Value.Select(kv =>
            $"{Uri.EscapeDataString(g.Key)}\t{kv.Key}={Uri.EscapeDataString(kv.Value)}")));
    }

    private string? Validate(Dictionary<string, string> overrides)
    {
        var merged = Names.ToDictionary(n => n, n => overrides.TryGetValue(n, out var v) ? v : Default(n), StringComparer.Ordinal);
        int Int(string key) => int.TryParse(merged[key], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : -1;
        foreach (var key in new[] { ConsumerSessionTimeoutKey, ConsumerHeartbeatIntervalKey, ShareSessionTimeoutKey, ShareHeartbeatIntervalKey, ShareRecordLockDurationKey })
        {
            if (Int(key) < 0)
                return $"Invalid value {merged[key]} for configuration {key}: Not a number of type INT at least 1";
        }
        static int Ms(TimeSpan t) => (int)t.TotalMilliseconds;
        // Bounds apply to overrides: the broker's own settings were checked when it started, with
        // bounds of their own (a test broker may run a 1 s record lock).
        string? Range(string key, TimeSpan min, string minName, TimeSpan max, string maxName) =>
            !overrides.ContainsKey(key) ? null
            : Int(key) < Ms(min) ? $"{key} must be greater than or equal to {minName}"
            : Int(key) > Ms(max) ? $"{key} must be less than or equal to {maxName}" : null;
        var problem =
            Range(ConsumerHeartbeatIntervalKey, _broker.ConsumerGroupMinHeartbeatInterval, "group.consumer.min.heartbeat.interval.ms", _broker.ConsumerGroupMaxHeartbeatInterval, "group.consumer.max.heartbeat.interval.ms")
            ?? Range(ConsumerSessionTimeoutKey, _broker.ConsumerGroupMinSessionTimeout, "group.consumer.min.session.timeout.ms", _broker.ConsumerGroupMaxSessionTimeout, "group.consumer.max.session.timeout.ms")
            ?? Range(ShareHeartbeatIntervalKey, _broker.ShareGroupMinHeartbeatInterval, "group.share.min.heartbeat.interval.ms", _broker.ShareGroupMaxHeartbeatInterval, "group.share.max.heartbeat.interval.ms")
            ?? Range(ShareSessionTimeoutKey, _broker.ShareGroupMinSessionTimeout, "group.share.min.session.timeout.ms", _broker.ShareGroupMaxSessionTimeout, "group.share.max.session.timeout.ms")
            ?? Range(ShareRecordLockDurationKey, _broker.ShareGroupMinRecordLockDuration, "group.share.min.record.lock.duration.ms", _broker.ShareGroupMaxRecordLockDuration, "group.share.max.record.lock.duration.ms");
        if (problem is not null)
            return problem;
        if (Int(ConsumerSessionTimeoutKey) <= Int(ConsumerHeartbeatIntervalKey))
            return $"{ConsumerSessionTimeoutKey} must be greater than {ConsumerHeartbeatIntervalKey}";
        if (Int(ShareSessionTimeoutKey) <= Int(ShareHeartbeatIntervalKey))
            return $"{ShareSessionTimeoutKey} must be greater than {ShareHeartbeatIntervalKey}";
        if (merged[ShareAutoOffsetResetKey] is not ("latest" or "earliest"))
            return $"Invalid value {merged[ShareAutoOffsetResetKey]} for configuration {ShareAutoOffsetResetKey}: latest or earliest (by_duration is not supported by Samsa)";
        if (merged[ShareIsolationLevelKey] is not ("read_uncommitted" or "read_committed"))
            return $"Invalid value {merged[ShareIsolationLevelKey]} for configuration {ShareIsolationLevelKey}: String must be one of: read_committed, read_uncommitted";
        return null;
    }
}
