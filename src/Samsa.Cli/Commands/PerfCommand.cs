using System.CommandLine;

namespace Samsa.Cli.Commands;

/// <summary>
/// <c>samsa perf produce|consume</c>: Kafka's kafka-producer-perf-test and kafka-consumer-perf-test
/// for our client, with their options and their output lines, so figures from either can sit side
/// by side and scripts that read Kafka's lines read ours.
/// </summary>
internal static class PerfCommand
{
    public static Command Create() => new("perf", "Measure our client against any Kafka-compatible broker (Kafka's perf-test tools).")
    {
        PerfProduce.Create(),
        PerfConsume.Create(),
    };

    /// <summary>
    /// Client settings as Kafka's tools take them: a properties file first, then k=v pairs, then
    /// <c>--bootstrap-server</c> when given. Splits on the first '=' only (Kafka's tools refuse a
    /// value holding '=', which rules out SASL JAAS strings; accepting them loses nothing).
    /// </summary>
    public static List<KeyValuePair<string, string>> Settings(string? file, string[]? pairs, string pairsOption, string? bootstrap, IReadOnlyDictionary<string, string> defaults)
    {
        var settings = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        if (file is not null)
        {
            foreach (var (key, value) in ClientProperties.ReadFile(file, pairsOption == "--producer-props" ? "--producer.config" : "--consumer.config"))
                settings[key] = value;
        }
        foreach (var (key, value) in Common.Pairs(pairs, pairsOption))
            settings[key] = value;
        if (bootstrap is not null)
            settings["bootstrap.servers"] = bootstrap;
        if (!settings.ContainsKey("bootstrap.servers"))
            throw new ArgumentException($"--bootstrap-server (or bootstrap.servers in {pairsOption}) is required.");
        return [.. settings];
    }

    /// <summary>Values as Kafka's tools print them: '.' decimals whatever the machine's culture.</summary>
    public static string F(double value, int decimals) => value.ToString("F" + decimals, System.Globalization.CultureInfo.InvariantCulture);
}
