namespace Samsa.Broker.Configuration;

/// <summary>
/// Keys Samsa does not act on, and the one listener. Kafka logs the keys of a server.properties it does not use and
/// carries on ("These configurations ... were supplied but are not used yet"), so a stock Kafka
/// file starts the broker; a key no Kafka release knows is most likely a typo, and its warning
/// names the nearest key Samsa acts on.
/// </summary>
public static partial class BrokerConfig
{
    private static readonly Lazy<HashSet<string>> KafkaKeys = new(() =>
    {
        using var stream = typeof(BrokerConfig).Assembly.GetManifestResourceStream("Samsa.Broker.Configuration.kafka-broker-keys.txt")!;
        using var reader = new StreamReader(stream);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
                keys.Add(line.Trim());
        }
        return keys;
    });

    /// <summary>True for a key Kafka defines (or a prefix family such as listener.name.*); Samsa may still not act on it.</summary>
    public static bool IsKafkaKey(string key) =>
        KafkaKeys.Value.Contains(key) || key.StartsWith("listener.name.", StringComparison.Ordinal) || key.StartsWith("ssl.", StringComparison.Ordinal)
        || key.StartsWith("sasl.", StringComparison.Ordinal) || key.StartsWith("confluent.", StringComparison.Ordinal);

    /// <summary>The warning for a key Samsa does not act on: Kafka's but unused here, or unknown with the nearest known key.</summary>
    public static string Unused(string key, string? where)
    {
        if (IsKafkaKey(key))
            return $"{Where(where)}'{key}' is a Kafka setting Samsa does not use; ignored (see docs/broker-config.md).";
        return $"{Where(where)}unknown setting '{key}' ignored" + (Nearest(key) is { } near ? $" (did you mean '{near}'?)." : ".");
    }

    /// <summary>The key Samsa acts on closest to <paramref name="key"/> by edit distance, when close enough to be a typo.</summary>
    public static string? Nearest(string key)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var known in ActedOn)
        {
            int d = Distance(key, known);
            if (d < bestDistance)
                (best, bestDistance) = (known, d);
        }
        return bestDistance <= Math.Max(2, key.Length / 4) ? best : null;
    }

    /// <summary>
    /// Samsa has one listener. Kafka's stock files list a PLAINTEXT one and a CONTROLLER one
    /// (<c>PLAINTEXT://:9092,CONTROLLER://:9093</c>): the PLAINTEXT entry is the one clients use, so
    /// it is taken and the others are left to the controller Samsa does not have.
    /// </summary>
    private static string PlaintextListener(string key, string value)
    {
        var entries = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length <= 1)
            return value;
        var plaintext = entries.Where(e => e.StartsWith("PLAINTEXT://", StringComparison.OrdinalIgnoreCase)).ToList();
        return plaintext.Count == 1 ? plaintext[0]
            : throw new BrokerConfigException(key, $"{key}: Samsa has one PLAINTEXT listener; got '{value}'.");
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
