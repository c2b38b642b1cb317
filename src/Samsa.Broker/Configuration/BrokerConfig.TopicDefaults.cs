using System.Globalization;
using Samsa.Broker.Topics;

namespace Samsa.Broker.Configuration;

/// <summary>
/// Kafka's broker-wide defaults of topic configs (log.retention.hours for retention.ms, ...): a topic
/// without its own value takes these, and DescribeConfigs reports them as STATIC_BROKER_CONFIG. Where
/// Kafka has several keys for one setting, the finer one wins whatever the order (log.retention.ms
/// over .minutes over .hours), as in Kafka.
/// </summary>
public static partial class BrokerConfig
{
    private sealed record TopicDefault(string Key, string TopicKey, long Multiplier, int Rank, string Doc);

    private static readonly TopicDefault[] TopicDefaults =
    [
        new("log.retention.ms", "retention.ms", 1, 3, "default retention.ms of topics (-1: forever); wins over .minutes and .hours"),
        new("log.retention.minutes", "retention.ms", 60_000, 2, "default retention.ms of topics, in minutes"),
        new("log.retention.hours", "retention.ms", 3_600_000, 1, "default retention.ms of topics, in hours (Kafka's default 168)"),
        new("log.retention.bytes", "retention.bytes", 1, 1, "default retention.bytes of topics"),
        new("log.roll.ms", "segment.ms", 1, 2, "default segment.ms of topics; wins over log.roll.hours"),
        new("log.roll.hours", "segment.ms", 3_600_000, 1, "default segment.ms of topics, in hours"),
        new("log.cleanup.policy", "cleanup.policy", 0, 1, "default cleanup.policy of topics"),
        new("log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio", 0, 1, "default min.cleanable.dirty.ratio of topics"),
        new("log.cleaner.delete.retention.ms", "delete.retention.ms", 1, 1, "default delete.retention.ms of topics"),
        new("log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms", 1, 1, "default min.compaction.lag.ms of topics"),
        new("log.index.interval.bytes", "index.interval.bytes", 1, 1, "default index.interval.bytes of topics"),
        new("log.flush.interval.messages", "flush.messages", 1, 1, "default flush.messages of topics"),
        new("log.flush.interval.ms", "flush.ms", 1, 1, "default flush.ms of topics"),
        new("log.message.timestamp.type", "message.timestamp.type", 0, 1, "default message.timestamp.type of topics"),
    ];

    private static bool TryGetTopicDefault(string key, out (string Doc, Setter Set) entry)
    {
        var def = Array.Find(TopicDefaults, d => d.Key == key);
        entry = def is null ? default : (def.Doc, (o, v) => SetTopicDefault(o, def, v));
        return def is not null;
    }

    private static BrokerOptions SetTopicDefault(BrokerOptions options, TopicDefault def, string value)
    {
        string topicValue = value;
        if (def.Multiplier > 1)
        {
            if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
                throw new BrokerConfigException(def.Key, $"{def.Key}: '{value}' is not an integer.");
            // Negative means "no limit" in Kafka, whatever the unit.
            topicValue = (n < 0 ? -1 : checked(n * def.Multiplier)).ToString(CultureInfo.InvariantCulture);
        }
        if (TopicConfigs.Validate(def.TopicKey, topicValue) is { } problem)
            throw new BrokerConfigException(def.Key, $"{def.Key}: '{value}' is not valid for {def.TopicKey} ({problem}).");
        if (options.TopicDefaultRanks.TryGetValue(def.TopicKey, out int rank) && rank > def.Rank)
            return options; // a finer key already set it
        return options with
        {
            TopicDefaults = new Dictionary<string, string>(options.TopicDefaults, StringComparer.Ordinal) { [def.TopicKey] = topicValue },
            TopicDefaultRanks = new Dictionary<string, int>(options.TopicDefaultRanks, StringComparer.Ordinal) { [def.TopicKey] = def.Rank },
        };
    }
}
