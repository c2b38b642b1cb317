using System.Globalization;

namespace Samsa.Broker.Topics;

/// <summary>
/// The topic-level settings Samsa knows, with Kafka's names and defaults. Values are validated when
/// set (CreateTopics, AlterConfigs, IncrementalAlterConfigs); unknown names are INVALID_CONFIG.
/// Stored and reported, not enforced: min.insync.replicas and unclean.leader.election.enable (one
/// node has no replicas); compression.type (batches are stored as the producer compressed them).
/// </summary>
internal static class TopicConfigs
{
    // DescribeConfigs v3+ config types.
    public const sbyte TypeBoolean = 1, TypeString = 2, TypeInt = 3, TypeLong = 5, TypeDouble = 6, TypeList = 7;

    public sealed record Definition(string Name, string Default, sbyte Type, Func<string, string?> Validate);

    private static Func<string, string?> Long(long min) => v =>
        long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= min ? null : $"must be an integer >= {min}";

    private static Func<string, string?> Int(int min) => v =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= min ? null : $"must be an integer from {min} to {int.MaxValue}";

    private static Func<string, string?> OneOf(params string[] values) => v =>
        values.Contains(v, StringComparer.Ordinal) ? null : $"must be one of {string.Join(", ", values)}";

    public static readonly IReadOnlyDictionary<string, Definition> Known = new Definition[]
    {
        new("cleanup.policy", "delete", TypeList, v => v.Split(',').All(p => p.Trim() is "delete" or "compact") ? null : "must be delete, compact or both"),
        new("retention.ms", "604800000", TypeLong, Long(-1)),
        new("retention.bytes", "-1", TypeLong, Long(-1)),
        new("segment.bytes", "1073741824", TypeInt, Int(14)),
        new("segment.ms", "604800000", TypeLong, Long(1)),
        new("index.interval.bytes", "4096", TypeInt, Int(0)),
        new("max.message.bytes", "1048588", TypeInt, Long(0)),
        new("message.timestamp.type", "CreateTime", TypeString, OneOf("CreateTime", "LogAppendTime")),
        new("min.insync.replicas", "1", TypeInt, Long(1)),
        new("compression.type", "producer", TypeString, OneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")),
        new("delete.retention.ms", "86400000", TypeLong, Long(0)),
        new("min.compaction.lag.ms", "0", TypeLong, Long(0)),
        new("min.cleanable.dirty.ratio", "0.5", TypeDouble, v =>
            double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d is >= 0 and <= 1 ? null : "must be a number from 0 to 1"),
        new("flush.messages", "9223372036854775807", TypeLong, Long(1)),
        new("flush.ms", "9223372036854775807", TypeLong, Long(0)),
        new("unclean.leader.election.enable", "false", TypeBoolean, OneOf("true", "false")),
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
