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

    private static readonly string[] Acted = ["num.partitions", "auto.create.topics.enable", "message.max.bytes"];

    /// <summary>
    /// Kafka's per-broker reconfigurable SASL settings of mechanisms Samsa does not offer (GSSAPI,
    /// OAUTHBEARER login refresh): Kafka accepts them at run time, so tools that set them (librdkafka's
    /// admin test does) get the same answer; they are validated, kept and described, and change nothing.
    /// </summary>
    private static readonly Dictionary<string, Func<string, bool>> StoredOnly = new(StringComparer.Ordinal)
    {
        ["sasl.kerberos.service.name"] = _ => true,
        ["sasl.kerberos.kinit.cmd"] = _ => true,
        ["sasl.kerberos.ticket.renew.window.factor"] = v => Double(v, 0, double.MaxValue),
        ["sasl.kerberos.ticket.renew.jitter"] = v => Double(v, 0, double.MaxValue),
        ["sasl.kerberos.min.time.before.relogin"] = v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        ["sasl.kerberos.principal.to.local.rules"] = _ => true,
        ["sasl.login.refresh.window.factor"] = v => Double(v, 0.5, 1.0),
        ["sasl.login.refresh.window.jitter"] = v => Double(v, 0, 0.25),
        ["sasl.login.refresh.min.period.seconds"] = v => short.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 900,
        ["sasl.login.refresh.buffer.seconds"] = v => short.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 3600,
    };

    private static bool Double(string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= min && d <= max;

    /// <summary>Every key AlterConfigs may change on the broker resource.</summary>
    public static IReadOnlyList<string> Keys { get; } = [.. Acted, .. StoredOnly.Keys];

    /// <summary>The stored-only keys that have a value, for DescribeConfigs.</summary>
    public IReadOnlyList<(string Name, string Value)> StoredOnlyValues()
    {
        lock (_lock)
            return _overrides.Where(kv => StoredOnly.ContainsKey(kv.Key)).Select(kv => (kv.Key, kv.Value)).ToList();
    }

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
        if (StoredOnly.TryGetValue(key, out var valid))
            return valid(value) ? null : $"Invalid value {value} for configuration {key}.";
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
