using System.CommandLine;
using Samsa.Client;
using Samsa.Client.Producer;
using Samsa.Protocol.Records;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa produce TOPIC</c>: one record per line of stdin, like kafka-console-producer.sh.</summary>
internal static class ProduceCommand
{
    public static Command Create()
    {
        var bootstrap = Common.Bootstrap();
        var verbose = Common.Verbose();
        var topic = new Argument<string?>("topic") { Arity = ArgumentArity.ZeroOrOne };
        var topicFlag = ClientProperties.TopicFlag();
        var commandConfig = ClientProperties.CommandConfig();
        var properties = ClientProperties.Property("--producer-property");
        var keySeparator = new Option<string?>("--key-separator") { Description = "split each line into key SEP value at the first SEP" };
        var header = new Option<string[]>("--header") { Description = "key=value header on every record, repeatable" };
        var compression = new Option<string>("--compression") { Description = "none|gzip|snappy|lz4|zstd", DefaultValueFactory = _ => "none" };
        var command = new Command("produce", "Write each line of stdin as a record.") { topic, topicFlag, bootstrap, keySeparator, header, compression, commandConfig, properties, verbose };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "produce", async () =>
        {
            // The flags' values first, so the Kafka properties given win (as in kafka-console-producer.sh),
            // except an explicit --compression.
            var given = ClientProperties.Read(r, commandConfig, properties, "--producer-property");
            List<KeyValuePair<string, string>> all = [new("client.id", "samsa-cli"), new("max.block.ms", "15000"), new("compression.type", r.GetValue(compression)!), .. given];
            if (r.GetResult(compression) is { Implicit: false })
                all.Add(new("compression.type", r.GetValue(compression)!));
            var options = ProducerOptions.FromProperties(all) with { BootstrapServers = r.GetValue(bootstrap)! };
            string name = ClientProperties.Topic(r, topic, topicFlag);
            await Common.EnsureReachableAsync(options.BootstrapServers, options.Security, ct);
            var headers = Common.Pairs(r.GetValue(header), "--header").Select(h => new Header(h.Key, System.Text.Encoding.UTF8.GetBytes(h.Value))).ToList();
            string? separator = r.GetValue(keySeparator);
            await using var producer = new KafkaProducer<string?, string>(options);
            KafkaException? failure = null;
            int count = 0, acknowledged = 0;
            // Records piped in with a person watching stderr: a progress line, rewritten in place.
            var progress = Console.IsInputRedirected && !Console.IsErrorRedirected ? new Progress(name) : null;
            using var ticker = progress is null ? null : new Timer(_ => progress.Show(Volatile.Read(ref count), Volatile.Read(ref acknowledged)), null, 250, 250);
            while (await Console.In.ReadLineAsync(ct) is { } line)
            {
                string? key = null;
                string value = line;
                if (separator is not null)
                {
                    int at = line.IndexOf(separator, StringComparison.Ordinal);
                    if (at >= 0)
                        (key, value) = (line[..at], line[(at + separator.Length)..]);
                }
                producer.Produce(name, new Message<string?, string>(key, value) { Headers = headers.Count == 0 ? null : headers }, report =>
                {
                    failure ??= report.Error;
                    if (report.Error is null)
                        Interlocked.Increment(ref acknowledged);
                });
                Interlocked.Increment(ref count);
            }
            try
            {
                progress?.Show(count, Volatile.Read(ref acknowledged));
                await producer.FlushAsync(ct);
            }
            finally
            {
                ticker?.Dispose();
                progress?.Clear(); // an error message must not land on the status line
            }
            if (failure is not null)
                throw failure;
            await Console.Error.WriteLineAsync($"Produced {count} record(s) to {name}.");
            return 0;
        }));
        return command;
    }

    /// <summary>One status line on stderr, redrawn in place (carriage return, clear to end of line).</summary>
    private sealed class Progress(string topic)
    {
        private readonly Lock _gate = new();
        private bool _cleared;

        public void Show(int read, int acknowledged)
        {
            lock (_gate)
            {
                if (!_cleared)
                    Console.Error.Write($"\r\u001b[2K{topic}: {read:N0} record(s) read, {acknowledged:N0} acknowledged");
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _cleared = true;
                Console.Error.Write("\r\u001b[2K");
            }
        }
    }
}
