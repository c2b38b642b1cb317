using System.Diagnostics;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

/// <summary>
/// What the consume and produce runs share: the broker under test (a Samsa broker in a child
/// process, or any Kafka-compatible broker given by --bootstrap), the command-line arguments, and
/// rounds — each row measured several times in one run, clients alternating within a round, and
/// reported as the median with the spread (lowest and highest).
/// </summary>
internal sealed class Harness : IAsyncDisposable
{
    private readonly Process? _child;
    private readonly string? _dir;

    private Harness(string bootstrap, Process? child, string? dir) => (Bootstrap, _child, _dir) = (bootstrap, child, dir);

    public string Bootstrap { get; }

    /// <summary>"samsa (child process)" or the address given: printed above every table.</summary>
    public string Describe => _child is null ? $"the broker at {Bootstrap}" : "a Samsa broker in a child process";

    public static async Task<Harness> StartAsync(string[] args)
    {
        if (Text(args, "--bootstrap") is { } bootstrap)
            return new Harness(bootstrap, null, null);
        string dir = Path.Combine(Path.GetTempPath(), "samsa-perf-" + Guid.NewGuid().ToString("N"));
        int port = FreePort();
        var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["broker", port.ToString(CultureInfo.InvariantCulture), dir])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        await child.StandardOutput.ReadLineAsync();
        return new Harness($"127.0.0.1:{port}", child, dir);
    }

    public async Task CreateTopicAsync(string topic, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_child is null)
            return;
        _child.StandardInput.Close();
        await _child.WaitForExitAsync();
        _child.Dispose();
        Directory.Delete(_dir!, recursive: true);
    }

    public static int Int(string[] args, string name, int fallback) =>
        Text(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public static string? Text(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// Runs every client <paramref name="rounds"/> times, starting each round with the next client
    /// (so no client always runs first, on a cold or a warm broker), and collects the outcomes.
    /// </summary>
    public static Dictionary<string, List<T>> Rounds<T>(int rounds, IReadOnlyList<(string Name, Func<T> Run)> clients)
    {
        var results = clients.ToDictionary(c => c.Name, _ => new List<T>());
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < clients.Count; i++)
            {
                var (name, run) = clients[(round + i) % clients.Count];
                results[name].Add(run());
            }
        }
        return results;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>"median (lowest–highest)"; the spread only when there were several rounds.</summary>
    public static string MedianSpread(IReadOnlyList<double> values, string format)
    {
        string median = Median(values).ToString(format, CultureInfo.InvariantCulture);
        return values.Count < 2 ? median : $"{median} ({values.Min().ToString(format, CultureInfo.InvariantCulture)}–{values.Max().ToString(format, CultureInfo.InvariantCulture)})";
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>
/// librdkafka's settings for a client row. "defaults" sets nothing the row does not name (acks,
/// codec); "tuned" is librdkafka configured for throughput, as a careful user would.
/// </summary>
internal static class Librdkafka
{
    /// <summary>
    /// Consumer: fetch.queue.backoff.ms (1 s by default) idles the fetcher once queued.min.messages
    /// (100,000) are queued; a fast reader drains that and waits. Raised and shortened, fetching
    /// never stops for it.
    /// </summary>
    public static void TuneConsumer(ConsumerConfig config)
    {
        config.Set("fetch.queue.backoff.ms", "1");
        config.QueuedMinMessages = 1_000_000;
        config.FetchWaitMaxMs = 100;
    }

    /// <summary>Producer: bigger batches and queues, so the application never blocks on a full queue and requests carry more.</summary>
    public static void TuneProducer(ProducerConfig config)
    {
        config.LingerMs = 10;
        config.BatchSize = 1_000_000;
        config.BatchNumMessages = 100_000;
        config.QueueBufferingMaxMessages = 1_000_000;
        config.QueueBufferingMaxKbytes = 1_048_576;
    }
}
