using System.Globalization;

namespace Samsa.Broker.Configuration;

/// <summary>
/// The broker settings that can change while it runs (AlterConfigs / IncrementalAlterConfigs on the
/// broker resource), as Kafka allows for its dynamic broker configs. Changes are persisted in the
/// data directory and win over server.properties at the next start, as in Kafka.
/// </summary>
public sealed class DynamicBrokerConfig
{
    private const string FileName = "broker.dynamic.config";
    private readonly BrokerOptions _static;
    private readonly string _path;
    private readonly Dictionary<string, string> _overrides = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public static IReadOnlyList<string> Keys { get; } = ["num.partitions", "auto.create.topics.enable", "message.max.bytes"];

    public DynamicBrokerConfig(BrokerOptions options)
    {
        _static = options;
        _path = Path.Combine(options.DataDirectory, FileName);
        if (File.Exists(_path))
        {
            foreach (var line in File.ReadLines(_path))
            {
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && Keys.Contains(line[..eq]) && Validate(line[..eq], line[(eq + 1)..]) is null)
                    _overrides[line[..eq]] = line[(eq + 1)..];
            }
        }
    }

    public int NumPartitions => Get("num.partitions", out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : _static.NumPartitions;

    public bool AutoCreateTopics => Get("auto.create.topics.enable", out var v) ? v == "true" : _static.AutoCreateTopics;

    public int MessageMaxBytes => Get("message.max.bytes", out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : _static.MessageMaxBytes;

    public bool IsOverridden(string key)
    {
        lock (_lock)
            return _overrides.ContainsKey(key);
    }

    private bool Get(string key, out string value)
    {
        lock (_lock)
            return _overrides.TryGetValue(key, out value!);
    }

    /// <summary>Null when the change is acceptable, else why not.</summary>
    public static string? Validate(string key, string? value)
    {
        if (!Keys.Contains(key))
            return $"{key} cannot be changed while the broker runs; set it in server.properties (or --override) and restart.";
        if (value is null)
            return null;
        try
        {
            BrokerConfig.Apply(new BrokerOptions(), key, value);
            return null;
        }
        catch (BrokerConfigException e)
        {
            return e.Message;
        }
    }

    /// <summary>Applies changes (null = back to the static value) and persists them.</summary>
    public void Set(IEnumerable<(string Key, string? Value)> changes)
    {
        lock (_lock)
        {
            foreach (var (key, value) in changes)
            {
                if (value is null)
                    _overrides.Remove(key);
                else
                    _overrides[key] = value;
            }
            DurableFile.Replace(_path, _overrides.Select(kv => $"{kv.Key}={kv.Value}"));
        }
    }
}
