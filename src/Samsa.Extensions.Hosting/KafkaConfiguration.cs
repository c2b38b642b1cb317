using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;

namespace Samsa.Extensions.Hosting;

/// <summary>
/// Reads the client options records from an <see cref="IConfiguration"/> section. Keys may be Kafka's
/// property names (<c>"bootstrap.servers"</c>, <c>"partition.assignment.strategy"</c>) or the records'
/// own (<c>"BootstrapServers"</c>, <c>"PartitionAssignmentStrategy"</c>), mixed freely.
/// </summary>
/// <remarks>
/// Use this instead of <c>configuration.Get&lt;ConsumerOptions&gt;()</c>: the stock binder appends a
/// configured list to the default one (<c>PartitionAssignmentStrategy:0=cooperative-sticky</c> gives
/// <c>[range, cooperative-sticky, cooperative-sticky]</c>, so the group stays eager), and it does not know
/// Kafka's names. Here a list setting is replaced by exactly what is configured, in either spelling,
/// as a JSON array or a comma-separated string. An unknown key or a bad value throws a
/// <see cref="KafkaConfigException"/> whose <see cref="KafkaConfigException.Key"/> is the key's full
/// configuration path (<c>Kafka:Consumer:session.timeout.ms</c>).
/// </remarks>
public static class KafkaConfiguration
{
    /// <summary>Consumer settings from <paramref name="section"/> over <see cref="ConsumerOptions"/>' defaults.</summary>
    [RequiresUnreferencedCode("Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.")]
    [RequiresDynamicCode("Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.")]
    public static ConsumerOptions GetConsumerOptions(IConfiguration section) =>
        Bind(section, ConsumerOptions.FromProperties, "consumer");

    /// <summary>Producer settings from <paramref name="section"/> over <see cref="ProducerOptions"/>' defaults.</summary>
    [RequiresUnreferencedCode("Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.")]
    [RequiresDynamicCode("Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.")]
    public static ProducerOptions GetProducerOptions(IConfiguration section) =>
        Bind(section, ProducerOptions.FromProperties, "producer");

    /// <summary>Admin client settings from <paramref name="section"/> over <see cref="AdminOptions"/>' defaults.</summary>
    [RequiresUnreferencedCode("Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.")]
    [RequiresDynamicCode("Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.")]
    public static AdminOptions GetAdminOptions(IConfiguration section) =>
        Bind(section, AdminFromProperties, "admin");

    [RequiresUnreferencedCode("Reflection over the options record.")]
    [RequiresDynamicCode("Reflection over the options record.")]
    private static T Bind<T>(IConfiguration section, Func<IEnumerable<KeyValuePair<string, string>>, T> fromProperties, string what)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(section);
        string prefix = section is IConfigurationSection s ? s.Path + ":" : "";
        var kafkaKeys = new List<KeyValuePair<string, string>>();
        var recordKeys = new List<IConfigurationSection>();
        foreach (var child in section.GetChildren())
        {
            // Record property names never contain a dot; Kafka's names always do (acks and retries aside).
            if (child.Key.Contains('.', StringComparison.Ordinal) || child.Key is "acks" or "retries" or "partitioner")
                kafkaKeys.Add(new(child.Key, ScalarOrList(child)));
            else
                recordKeys.Add(child);
        }

        T options;
        try
        {
            options = fromProperties(kafkaKeys);
        }
        catch (KafkaConfigException e)
        {
            throw new KafkaConfigException(prefix + e.Key, $"{prefix}{e.Key}: {e.Message}");
        }

        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        var scalars = new List<KeyValuePair<string, string?>>();
        foreach (var child in recordKeys)
        {
            if (!properties.TryGetValue(child.Key, out var property))
                throw new KafkaConfigException(prefix + child.Key, $"{prefix}{child.Key}: unknown {what} setting (Kafka's property names, such as bootstrap.servers, or {typeof(T).Name}'s).");
            if (property.PropertyType == typeof(IReadOnlyList<string>))
            {
                // Replace, never append: the stock binder would add these to the default list.
                string joined = ScalarOrList(child);
                property.SetValue(options, joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList());
                continue;
            }
            foreach (var (key, value) in child.AsEnumerable())
                scalars.Add(new(key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key, value));
        }
        if (scalars.Count > 0)
        {
            var rest = new ConfigurationBuilder().AddInMemoryCollection(scalars).Build();
            try
            {
                rest.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException e)
            {
                string key = scalars.Select(p => p.Key).FirstOrDefault(k => e.Message.Contains(k, StringComparison.OrdinalIgnoreCase)) ?? scalars[0].Key;
                throw new KafkaConfigException(prefix + key, $"{prefix}{key}: {e.InnerException?.Message ?? e.Message}");
            }
        }
        return options;
    }

    /// <summary>A scalar as it is; a list (JSON array: children 0, 1, ...) joined with commas, in index order.</summary>
    private static string ScalarOrList(IConfigurationSection section)
    {
        if (section.Value is { } value)
            return value;
        var items = section.GetChildren()
            .Select(c => (Index: int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : int.MaxValue, c.Value))
            .OrderBy(c => c.Index)
            .Select(c => c.Value ?? "");
        return string.Join(',', items);
    }

    private static AdminOptions AdminFromProperties(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var options = new AdminOptions();
        foreach (var (key, value) in properties)
        {
            options = key switch
            {
                "bootstrap.servers" => options with { BootstrapServers = value.Trim() },
                "client.id" => options with { ClientId = value.Trim() },
                "request.timeout.ms" => options with { RequestTimeout = Ms(key, value) },
                "default.api.timeout.ms" => options with { DefaultApiTimeout = Ms(key, value) },
                "retry.backoff.ms" => options with { RetryBackoff = Ms(key, value) },
                _ => throw new KafkaConfigException(key, $"Unknown admin setting '{key}'."),
            };
        }
        return options;
    }

    private static TimeSpan Ms(string key, string value) =>
        int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int ms) && ms >= 0
            ? TimeSpan.FromMilliseconds(ms)
            : throw new KafkaConfigException(key, $"{key}: '{value}' is not a non-negative integer (milliseconds).");
}
