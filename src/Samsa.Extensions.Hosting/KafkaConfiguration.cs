using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Samsa.Client;
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
/// <para>One section serves every client: its keys apply to each client that has them (bootstrap.servers
/// to all, group.id to the consumer, acks to the producer), and the subsections <c>Consumer</c>,
/// <c>Producer</c> and <c>Admin</c> hold keys for one client only, overriding the shared ones:
/// <c>"Kafka": { "bootstrap.servers": "...", "Consumer": { "group.id": "billing" } }</c>. A shared key
/// no client knows, or a client-specific key its client does not know, is an error.</para>
/// <para>Use this instead of <c>configuration.Get&lt;ConsumerOptions&gt;()</c>: the stock binder appends a
/// configured list to the default one (<c>PartitionAssignmentStrategy:0=cooperative-sticky</c> gives
/// <c>[range, cooperative-sticky, cooperative-sticky]</c>, so the group stays eager), and it does not know
/// Kafka's names. Here a list setting is replaced by exactly what is configured, in either spelling,
/// as a JSON array or a comma-separated string. An unknown key or a bad value throws a
/// <see cref="KafkaConfigException"/> whose <see cref="KafkaConfigException.Key"/> is the key's full
/// configuration path (<c>Kafka:Consumer:session.timeout.ms</c>).</para>
/// </remarks>
public static class KafkaConfiguration
{
    private const string Reflection = "Binds the options records' own property names by reflection; Kafka's names are not bound by reflection.";

    private static readonly HashSet<string> AdminKeys = new(AdminOptions.KnownKeys, StringComparer.Ordinal);

    private static readonly string[] ClientSections = ["Consumer", "Producer", "Admin"];

    /// <summary>Consumer settings from <paramref name="section"/> (and its <c>Consumer</c> subsection) over <see cref="ConsumerOptions"/>' defaults.</summary>
    [RequiresUnreferencedCode(Reflection)]
    [RequiresDynamicCode(Reflection)]
    public static ConsumerOptions GetConsumerOptions(IConfiguration section) =>
        Bind(section, "Consumer", ConsumerOptions.FromProperties, KafkaKeysOf("Consumer").Contains);

    /// <summary>Producer settings from <paramref name="section"/> (and its <c>Producer</c> subsection) over <see cref="ProducerOptions"/>' defaults.</summary>
    [RequiresUnreferencedCode(Reflection)]
    [RequiresDynamicCode(Reflection)]
    public static ProducerOptions GetProducerOptions(IConfiguration section) =>
        Bind(section, "Producer", ProducerOptions.FromProperties, KafkaKeysOf("Producer").Contains);

    /// <summary>Admin client settings from <paramref name="section"/> (and its <c>Admin</c> subsection) over <see cref="AdminOptions"/>' defaults.</summary>
    [RequiresUnreferencedCode(Reflection)]
    [RequiresDynamicCode(Reflection)]
    public static AdminOptions GetAdminOptions(IConfiguration section) =>
        Bind(section, "Admin", AdminFromProperties, AdminKeys.Contains);

    private static IReadOnlyCollection<string> KafkaKeysOf(string client) => client switch
    {
        "Consumer" => ConsumerOptions.KnownKeys,
        "Producer" => ProducerOptions.KnownKeys,
        _ => AdminKeys,
    };

    private static Type RecordOf(string client) => client switch
    {
        "Consumer" => typeof(ConsumerOptions),
        "Producer" => typeof(ProducerOptions),
        _ => typeof(AdminOptions),
    };

    // Record property names never contain a dot; Kafka's names do, acks, retries and partitioner aside.
    private static bool IsKafkaName(string key) => key.Contains('.', StringComparison.Ordinal) || key is "acks" or "retries" or "partitioner";

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "The options records are referenced statically by this assembly, so their public properties are kept.")]
    private static bool RecordHas(Type record, string key) =>
        record.GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { SetMethod.IsPublic: true };

    private static bool KnownTo(string client, string key) =>
        IsKafkaName(key) ? KafkaKeysOf(client).Contains(key) : RecordHas(RecordOf(client), key);

    [RequiresUnreferencedCode("Reflection over the options record.")]
    [RequiresDynamicCode("Reflection over the options record.")]
    private static T Bind<T>(IConfiguration section, string client, Func<IEnumerable<KeyValuePair<string, string>>, T> fromProperties, Func<string, bool> knowsKafkaKey)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(section);
        // Shared keys first, then the client's own subsection, so that the subsection wins.
        var children = new List<IConfigurationSection>();
        foreach (var child in section.GetChildren())
        {
            if (ClientSections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                continue;
            if (KnownTo(client, child.Key))
                children.Add(child);
            else if (!ClientSections.Any(c => KnownTo(c, child.Key)))
                throw new KafkaConfigException(child.Path, $"{child.Path}: no Kafka client has this setting (Kafka's property names, such as bootstrap.servers, or the options records' names).");
        }
        foreach (var child in section.GetSection(client).GetChildren())
        {
            if (!KnownTo(client, child.Key))
                throw new KafkaConfigException(child.Path, $"{child.Path}: unknown {client.ToLowerInvariant()} setting (Kafka's property names, such as bootstrap.servers, or {typeof(T).Name}'s).");
            children.Add(child);
        }

        var kafkaKeys = new Dictionary<string, (string Value, string Path)>(StringComparer.Ordinal);
        var recordKeys = new List<IConfigurationSection>();
        foreach (var child in children)
        {
            if (IsKafkaName(child.Key) && knowsKafkaKey(child.Key))
                kafkaKeys[child.Key] = (ScalarOrList(child), child.Path);
            else
                recordKeys.Add(child);
        }

        T options;
        try
        {
            options = fromProperties(kafkaKeys.Select(k => new KeyValuePair<string, string>(k.Key, k.Value.Value)));
        }
        catch (KafkaConfigException e)
        {
            string path = kafkaKeys.TryGetValue(e.Key, out var entry) ? entry.Path : e.Key;
            throw new KafkaConfigException(path, $"{path}: {e.Message}");
        }

        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        var scalars = new List<KeyValuePair<string, string?>>();
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in recordKeys)
        {
            var property = properties[child.Key];
            if (property.PropertyType == typeof(IReadOnlyList<string>))
            {
                // Replace, never append: the stock binder would add these to the default list.
                string joined = ScalarOrList(child);
                property.SetValue(options, joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList());
                continue;
            }
            string parent = child.Path[..^child.Key.Length];
            foreach (var (key, value) in child.AsEnumerable())
            {
                string relative = key.StartsWith(parent, StringComparison.Ordinal) ? key[parent.Length..] : key;
                scalars.Add(new(relative, value));
                paths[relative] = key;
            }
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
                string path = paths.GetValueOrDefault(key, key);
                throw new KafkaConfigException(path, $"{path}: {e.InnerException?.Message ?? e.Message}");
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

    private static AdminOptions AdminFromProperties(IEnumerable<KeyValuePair<string, string>> properties) => AdminOptions.FromProperties(properties);

    private static TimeSpan Ms(string key, string value) =>
        int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int ms) && ms >= 0
            ? TimeSpan.FromMilliseconds(ms)
            : throw new KafkaConfigException(key, $"{key}: '{value}' is not a non-negative integer (milliseconds).");
}
