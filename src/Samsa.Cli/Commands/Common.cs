using System.CommandLine;
using System.Text.Json;
using Samsa.Broker.Configuration;
using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Cli.Commands;

/// <summary>Options every client command shares, output helpers, and the one-line error rule.</summary>
internal static class Common
{
    public static Option<string> Bootstrap() => new("--bootstrap-server") { Description = "host:port[,host:port...] of the brokers", DefaultValueFactory = _ => "localhost:9092" };

    public static Option<string> Output() => new("--output") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };

    public static Option<bool> Verbose() => new("--verbose") { Description = "show stack traces" };

    /// <summary>
    /// Runs a command body: bad input and Kafka errors print one line on stderr and exit 1
    /// (2 for usage errors); stack traces only with --verbose.
    /// </summary>
    public static async Task<int> RunAsync(ParseResult result, Option<bool> verbose, string name, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (!result.GetValue(verbose) && e is KafkaException or ArgumentException or FormatException or InvalidOperationException or BrokerConfigException or IOException)
        {
            await Console.Error.WriteLineAsync($"samsa {name}: {Describe(e)}").ConfigureAwait(false);
            return e is ArgumentException or FormatException ? 2 : 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        KafkaConnectionException c => $"cannot reach the broker: {c.Message}",
        KafkaConfigException c => c.Message,
        _ => e.Message,
    };

    /// <summary>Aligned columns, headers first.</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToList();
        Console.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in all)
            Console.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Json<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>k=v pairs from repeated --config/--header options; a value may contain '='.</summary>
    public static Dictionary<string, string> Pairs(IEnumerable<string>? items, string option)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new ArgumentException($"{option} expects key=value, got '{item}'.");
            pairs[item[..eq]] = item[(eq + 1)..];
        }
        return pairs;
    }

    public static ConsumerOptions ConsumerOptions(string bootstrap) => new()
    {
        BootstrapServers = bootstrap,
        ClientId = "samsa-cli",
        RequestTimeout = TimeSpan.FromSeconds(10),
        DefaultApiTimeout = TimeSpan.FromSeconds(15),
    };
}
