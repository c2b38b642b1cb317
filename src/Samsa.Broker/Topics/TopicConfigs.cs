using System.Globalization;

namespace Samsa.Broker.Topics;

/// <summary>
/// Kafka's topic-level settings (its LogConfig), with Kafka's names, defaults, types and ranges.
/// Every one is accepted and validated when set (CreateTopics, AlterConfigs,
/// IncrementalAlterConfigs); a name Kafka does not know is INVALID_CONFIG, as a value out of range
/// is. <see cref="Definition.ActedOn"/> says which change what the broker does; the others are
/// stored and reported only (docs/broker-config.md says why for each).
/// </summary>
internal static class TopicConfigs
{
    // DescribeConfigs v3+ config types.
    public const sbyte TypeBoolean = 1, TypeString = 2, TypeInt = 3, TypeLong = 5, TypeDouble = 6, TypeList = 7;

    public sealed record Definition(string Name, string Default, sbyte Type, Func<string, string?> Validate, bool ActedOn = true);

    private static Func<string, string?> Long(long min, long max = long.MaxValue) => v =>
        long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n >= min && n <= max ? null
            : max == long.MaxValue ? $"must be an integer >= {min}" : $"must be an integer from {min} to {max}";

    private static Func<string, string?> Int(int min, int max = int.MaxValue) => v =>
        int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max ? null : $"must be an integer from {min} to {max}";

    /// <summary>A compression level: min..max, or Kafka's "codec default" marker.</summary>
    private static Func<string, string?> Level(int min, int max, int? orDefault = null) => v =>
        int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && (n >= min && n <= max || n == orDefault) ? null
            : $"must be an integer from {min} to {max}" + (orDefault is { } d ? $" or {d}" : "");

    private static readonly Func<string, string?> Bool = v =>
        v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase) ? null : "must be true or false";

    private static Func<string, string?> OneOf(params string[] values) => v =>
        values.Contains(v, StringComparer.Ordinal) ? null : $"must be one of {string.Join(", ", values)}";

    /// <summary>Kafka's ThrottledReplicaListValidator: "*" or partition:broker pairs.</summary>
    private static readonly Func<string, string?> ThrottledReplicas = v =>
        v.Trim() is "" or "*" || v.Split(',').All(p => p.Trim().Split(':') is [var a, var b] && int.TryParse(a, out _) && int.TryParse(b, out _)) ? null
            : "must be * or a list of partition:broker pairs";

    /// <summary>Kafka's MetadataVersionValidator, loosely: a version such as 3.0, 2.8-IV1 or 0.10.0.0.</summary>
    private static readonly Func<string, string?> KafkaVersion = v =>
        System.Text.RegularExpressions.Regex.IsMatch(v, @"^\d+(\.\d+){1,3}(-IV\d+)?$") ? null : "must be a Kafka version such as 3.0 or 0.10.0.0";

    public static readonly IReadOnlyDictionary<string, Definition> Known = new Definition[]
    {
        new("cleanup.policy", "delete", TypeList, v => v.Split(',').All(p => p.Trim() is "delete" or "compact") ? null : "must be delete, compact or both"),
        new("retention.ms", "604800000", TypeLong, Long(-1)),
        new("retention.bytes", "-1", TypeLong, Long(long.MinValue)),
        new("segment.bytes", "1073741824", TypeInt, Int(14)),
        new("segment.ms", "604800000", TypeLong, Long(1)),
        new("index.interval.bytes", "4096", TypeInt, Int(0)),
        new("max.message.bytes", "1048588", TypeInt, Int(0)),
        new("message.timestamp.type", "CreateTime", TypeString, OneOf("CreateTime", "LogAppendTime")),
        new("delete.retention.ms", "86400000", TypeLong, Long(0)),
        new("min.compaction.lag.ms", "0", TypeLong, Long(0)),
        new("max.compaction.lag.ms", "9223372036854775807", TypeLong, Long(1)),
        new("min.cleanable.dirty.ratio", "0.5", TypeDouble, v =>
            double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d is >= 0 and <= 1 ? null : "must be a number from 0 to 1"),
        new("flush.messages", "9223372036854775807", TypeLong, Long(1)),
        new("flush.ms", "9223372036854775807", TypeLong, Long(0)),

        // Accepted and reported, not acted on (docs/broker-config.md).
        new("min.insync.replicas", "1", TypeInt, Int(1), ActedOn: false),
        new("unclean.leader.election.enable", "false", TypeBoolean, Bool, ActedOn: false),
        new("compression.type", "producer", TypeString, OneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"), ActedOn: false),
        new("compression.gzip.level", "-1", TypeInt, Level(1, 9, -1), ActedOn: false),
        new("compression.lz4.level", "9", TypeInt, Level(1, 17), ActedOn: false),
        new("compression.zstd.level", "3", TypeInt, Level(-131072, 22), ActedOn: false),
        new("segment.jitter.ms", "0", TypeLong, Long(0), ActedOn: false),
        new("segment.index.bytes", "10485760", TypeInt, Int(4), ActedOn: false),
        new("file.delete.delay.ms", "60000", TypeLong, Long(0), ActedOn: false),
        new("preallocate", "false", TypeBoolean, Bool, ActedOn: false),
        new("message.timestamp.before.max.ms", "9223372036854775807", TypeLong, Long(0), ActedOn: false),
        new("message.timestamp.after.max.ms", "9223372036854775807", TypeLong, Long(0), ActedOn: false),
        new("leader.replication.throttled.replicas", "", TypeList, ThrottledReplicas, ActedOn: false),
        new("follower.replication.throttled.replicas", "", TypeList, ThrottledReplicas, ActedOn: false),
        new("remote.storage.enable", "false", TypeBoolean, Bool, ActedOn: false),
        new("local.retention.ms", "-2", TypeLong, Long(-2), ActedOn: false),
        new("local.retention.bytes", "-2", TypeLong, Long(-2), ActedOn: false),
        new("remote.log.copy.disable", "false", TypeBoolean, Bool, ActedOn: false),
        new("remote.log.delete.on.disable", "false", TypeBoolean, Bool, ActedOn: false),
        // Kafka 3.x keys that 4.0 removed: accepted so 3.x-era tools and scripts still work.
        new("message.format.version", "3.0-IV1", TypeString, KafkaVersion, ActedOn: false),
        new("message.timestamp.difference.max.ms", "9223372036854775807", TypeLong, Long(0), ActedOn: false),
        new("message.downconversion.enable", "true", TypeBoolean, Bool, ActedOn: false),
    }.ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>Null when the setting is valid, else the error message Kafka-style.</summary>
    public static string? Validate(string name, string? value)
    {
        if (!Known.TryGetValue(name, out var def))
            return $"Unknown topic config name: {name}";
        if (value is null)
            return null;
        return def.Validate(value) is { } problem ? $"Invalid value {value} for configuration {name}: {problem}" : null;
    }
}
