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
        var topic = new Argument<string>("topic");
        var keySeparator = new Option<string?>("--key-separator") { Description = "split each line into key SEP value at the first SEP" };
        var header = new Option<string[]>("--header") { Description = "key=value header on every record, repeatable" };
        var compression = new Option<string>("--compression") { Description = "none|gzip|snappy|lz4|zstd", DefaultValueFactory = _ => "none" };
        var command = new Command("produce", "Write each line of stdin as a record.") { topic, bootstrap, keySeparator, header, compression, verbose };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "produce", async () =>
        {
            var options = ProducerOptions.FromProperties([new("compression.type", r.GetValue(compression)!)]) with
            {
                BootstrapServers = r.GetValue(bootstrap)!,
                ClientId = "samsa-cli",
                MaxBlock = TimeSpan.FromSeconds(15),
            };
            var headers = Common.Pairs(r.GetValue(header), "--header").Select(h => new Header(h.Key, System.Text.Encoding.UTF8.GetBytes(h.Value))).ToList();
            string? separator = r.GetValue(keySeparator);
            string name = r.GetValue(topic)!;
            await using var producer = new KafkaProducer<string?, string>(options);
            KafkaException? failure = null;
            int count = 0;
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
                producer.Produce(name, new Message<string?, string>(key, value) { Headers = headers.Count == 0 ? null : headers }, report => failure ??= report.Error);
                count++;
            }
            await producer.FlushAsync(ct);
            if (failure is not null)
                throw failure;
            await Console.Error.WriteLineAsync($"Produced {count} record(s) to {name}.");
            return 0;
        }));
        return command;
    }
}
