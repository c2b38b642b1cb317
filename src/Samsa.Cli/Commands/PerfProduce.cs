using System.CommandLine;
using System.Diagnostics;
using Samsa.Client;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;

namespace Samsa.Cli.Commands;

/// <summary>
/// <c>samsa perf produce</c>: kafka-producer-perf-test with our producer. The same options
/// (<c>--topic --num-records --record-size|--payload-file --throughput --producer-props
/// --producer.config</c>, and <c>--bootstrap-server</c>), a window line every 5 s and the same
/// summary line at the end; on a terminal, a live status line on stderr as well.
/// </summary>
internal static class PerfProduce
{
    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap-server") { Description = "host:port[,host:port...]; or bootstrap.servers in --producer-props" };
        var topic = new Option<string>("--topic") { Description = "produce to this topic", Required = true };
        var numRecords = new Option<long>("--num-records") { Description = "how many records to produce", Required = true };
        var recordSize = new Option<int?>("--record-size") { Description = "record size in bytes (or --payload-file)" };
        var payloadFile = new Option<string?>("--payload-file") { Description = "UTF-8 file of payloads, one picked at random per record" };
        var delimiter = new Option<string>("--payload-delimiter") { Description = "separates payloads in --payload-file", DefaultValueFactory = _ => "\n" };
        var throughput = new Option<double>("--throughput") { Description = "records/s to offer at most; -1 for no limit", DefaultValueFactory = _ => -1 };
        var props = new Option<string[]>("--producer-props") { Description = "producer settings k=v (Kafka's names)", AllowMultipleArgumentsPerToken = true };
        var config = new Option<string?>("--producer.config") { Description = "a producer .properties file" };
        var verbose = Common.Verbose();
        var command = new Command("produce", "Produce records as fast as allowed and report throughput and latency (kafka-producer-perf-test).")
        {
            bootstrap, topic, numRecords, recordSize, payloadFile, delimiter, throughput, props, config, verbose,
        };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "perf produce", async () =>
        {
            long count = r.GetValue(numRecords);
            if (count <= 0)
                throw new ArgumentException("--num-records must be at least 1.");
            var payloads = Payloads(r.GetValue(recordSize), r.GetValue(payloadFile), r.GetValue(delimiter)!);
            var settings = PerfCommand.Settings(r.GetValue(config), r.GetValue(props), "--producer-props", r.GetValue(bootstrap),
                new Dictionary<string, string> { ["client.id"] = "perf-producer-client" });
            var options = ProducerOptions.FromProperties(settings);
            await using var producer = new KafkaProducer<Null?, byte[]>(options);
            return await RunAsync(producer, r.GetValue(topic)!, count, payloads, r.GetValue(throughput), ct);
        }));
        return command;
    }

    private static Payload Payloads(int? size, string? file, string delimiter)
    {
        if ((size is null) == (file is null))
            throw new ArgumentException("give exactly one of --record-size and --payload-file.");
        if (size is { } s)
        {
            if (s < 0)
                throw new ArgumentException("--record-size must not be negative.");
            return new Payload(new byte[s], null);
        }
        if (!File.Exists(file) || new FileInfo(file!).Length == 0)
            throw new ArgumentException($"--payload-file '{file}' does not exist or is empty.");
        var list = File.ReadAllText(file!).Split(delimiter).Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
        Console.WriteLine($"Number of messages read: {list.Length}");
        return new Payload(null, list);
    }

    /// <summary>A fixed-size buffer refilled with random capitals per record (as Kafka's tool: compressible like text), or payloads read from a file.</summary>
    private sealed record Payload(byte[]? Buffer, byte[][]? List);

    private static async Task<int> RunAsync(KafkaProducer<Null?, byte[]> producer, string topic, long count, Payload payload, double throughput, CancellationToken ct)
    {
        var stats = new ProduceStats(count);
        using var live = LiveLine.Start(() => stats.Status());
        var random = new Random(0);
        var letters = new byte[(payload.Buffer?.Length ?? 0) + 65_536];
        for (int j = 0; j < letters.Length; j++)
            letters[j] = (byte)('A' + random.Next(26));
        long start = Stopwatch.GetTimestamp();
        KafkaException? firstError = null;
        long failed = 0;
        for (long i = 0; i < count && !ct.IsCancellationRequested; i++)
        {
            byte[] value;
            if (payload.Buffer is { } buffer)
            {
                // A fresh run of random capitals per record, as Kafka's tool writes, cut from a pool
                // made once: drawing each byte here cost more than producing the record.
                letters.AsSpan(random.Next(letters.Length - buffer.Length + 1), buffer.Length).CopyTo(buffer);
                value = buffer; // the producer copies it into the batch before Produce returns
            }
            else
            {
                value = payload.List![random.Next(payload.List.Length)];
            }
            long sent = Stopwatch.GetTimestamp();
            int bytes = value.Length;
            producer.Produce(topic, new Message<Null?, byte[]>(null, value), report =>
            {
                if (report.Error is null)
                {
                    stats.Record(sent, bytes, live);
                }
                else
                {
                    Interlocked.CompareExchange(ref firstError, report.Error, null);
                    Interlocked.Increment(ref failed);
                }
            });
            if (throughput > 0)
                Throttle(start, i + 1, throughput);
        }
        await producer.FlushAsync(CancellationToken.None);
        live?.Stop();
        Console.WriteLine(stats.Total());
        if (firstError is not null)
        {
            await Console.Error.WriteLineAsync($"{Interlocked.Read(ref failed)} record(s) failed; the first: {firstError.Message}");
            return 1;
        }
        return ct.IsCancellationRequested ? 130 : 0;
    }

    /// <summary>Waits until <paramref name="sent"/> records are due at <paramref name="rate"/> per second from <paramref name="start"/>.</summary>
    private static void Throttle(long start, long sent, double rate)
    {
        double due = sent / rate;
        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        // Sleeping under 2 ms overshoots (the timer's resolution); small deficits add up until they are worth a sleep.
        if (due - elapsed >= 0.002)
            Thread.Sleep(TimeSpan.FromSeconds(due - elapsed));
    }
}
