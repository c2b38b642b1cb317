using Spectre.Console;
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

    /// <summary>A table (Spectre.Console): box lines on a terminal, plain aligned columns when output is redirected.</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        bool plain = Console.IsOutputRedirected;
        if (plain)
            AnsiConsole.Profile.Width = 4096; // a pipe has no width: rows stay on one line (80 columns would wrap ids and partition lists)
        var table = new Table { Border = plain ? TableBorder.None : TableBorder.Rounded };
        foreach (var h in headers)
            table.AddColumn(new TableColumn(Markup.Escape(h)) { Padding = plain ? new Padding(0, 0, 2, 0) : new Padding(1, 0, 1, 0) });
        foreach (var row in rows)
            table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) }, // group types as Kafka names them: "classic", "consumer"
    };

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

    /// <summary>
    /// One round trip to the cluster first: a producer or consumer would otherwise wait out its
    /// metadata timeout and blame the topic, when the broker cannot be reached at all.
    /// </summary>
    public static async Task EnsureReachableAsync(string bootstrap, Samsa.Client.SecurityOptions security, CancellationToken cancellationToken)
    {
        await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = bootstrap, ClientId = "samsa-cli", RequestTimeout = TimeSpan.FromSeconds(10), Security = security });
        await admin.DescribeClusterAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Throws Kafka's UNKNOWN_TOPIC_OR_PARTITION error (one line) when a topic does not exist.</summary>
    public static async Task RequireTopicsAsync(string bootstrap, Samsa.Client.SecurityOptions security, IReadOnlyCollection<string> topics, CancellationToken cancellationToken)
    {
        await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = bootstrap, ClientId = "samsa-cli", RequestTimeout = TimeSpan.FromSeconds(10), Security = security });
        await admin.DescribeTopicsAsync(topics, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public static ConsumerOptions ConsumerOptions(string bootstrap) => new()
    {
        BootstrapServers = bootstrap,
        ClientId = "samsa-cli",
        RequestTimeout = TimeSpan.FromSeconds(10),
        DefaultApiTimeout = TimeSpan.FromSeconds(15),
    };
}
