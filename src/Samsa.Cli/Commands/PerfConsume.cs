using System.CommandLine;
using System.Diagnostics;
using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Cli.Commands;

/// <summary>
/// <c>samsa perf consume</c>: kafka-consumer-perf-test with our consumer, in a group, from the
/// earliest offset unless <c>--from-latest</c>. Ends with Kafka's CSV line (start.time, end.time,
/// data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
/// fetch.MB.sec, fetch.nMsg.sec). The tool's own settings are only what a perf run needs (group,
/// reset, client id); everything else is our consumer's default unless the props say otherwise.
/// </summary>
internal static class PerfConsume
{
    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap-server") { Description = "host:port[,host:port...]; or bootstrap.servers in --consumer-props" };
        var topic = new Option<string>("--topic") { Description = "the topic to consume", Required = true };
        var messages = new Option<long>("--messages") { Description = "how many records to consume", Required = true };
        var group = new Option<string>("--group") { Description = "the group id", DefaultValueFactory = _ => $"perf-consumer-{Random.Shared.Next(100_000)}" };
        var fetchSize = new Option<int?>("--fetch-size") { Description = "max.partition.fetch.bytes" };
        var fromLatest = new Option<bool>("--from-latest") { Description = "start at the log end when the group has no offset" };
        var props = new Option<string[]>("--consumer-props") { Description = "consumer settings k=v (Kafka's names)", AllowMultipleArgumentsPerToken = true };
        var config = new Option<string?>("--consumer.config") { Description = "a consumer .properties file" };
        var timeout = new Option<long>("--timeout") { Description = "give up after this many ms without a record", DefaultValueFactory = _ => 10_000 };
        var interval = new Option<long>("--reporting-interval") { Description = "ms between --show-detailed-stats lines", DefaultValueFactory = _ => 5_000 };
        var detailed = new Option<bool>("--show-detailed-stats") { Description = "a line per reporting interval" };
        var hideHeader = new Option<bool>("--hide-header") { Description = "no CSV header line" };
        var dateFormat = new Option<string>("--date-format") { Description = "format of the time columns (.NET or Java letters)", DefaultValueFactory = _ => "yyyy-MM-dd HH:mm:ss:SSS" };
        var verbose = Common.Verbose();
        var command = new Command("consume", "Consume records as fast as possible and report throughput (kafka-consumer-perf-test).")
        {
            bootstrap, topic, messages, group, fetchSize, fromLatest, props, config, timeout, interval, detailed, hideHeader, dateFormat, verbose,
        };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "perf consume", async () =>
        {
            if (r.GetValue(interval) <= 0)
                throw new ArgumentException("--reporting-interval must be greater than 0.");
            var defaults = new Dictionary<string, string>
            {
                ["client.id"] = "perf-consumer-client",
                ["group.id"] = r.GetValue(group)!,
                ["auto.offset.reset"] = r.GetValue(fromLatest) ? "latest" : "earliest",
            };
            if (r.GetValue(fetchSize) is { } size)
                defaults["max.partition.fetch.bytes"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var settings = PerfCommand.Settings(r.GetValue(config), r.GetValue(props), "--consumer-props", r.GetValue(bootstrap), defaults);
            var run = new Run(r.GetValue(messages), TimeSpan.FromMilliseconds(r.GetValue(timeout)), TimeSpan.FromMilliseconds(r.GetValue(interval)),
                r.GetValue(detailed), JavaDate(r.GetValue(dateFormat)!));
            await using var consumer = new KafkaConsumer<byte[]?, byte[]?>(ConsumerOptions.FromProperties(settings));
            return await run.ExecuteAsync(consumer, r.GetValue(topic)!, !r.GetValue(hideHeader), ct);
        }));
        return command;
    }

    /// <summary>Java's SimpleDateFormat letters that differ from .NET's (milliseconds, day of week) mapped; the rest mean the same.</summary>
    private static string JavaDate(string format) => format.Replace("SSS", "fff", StringComparison.Ordinal).Replace("EEE", "ddd", StringComparison.Ordinal);

    private sealed class Run(long messages, TimeSpan timeout, TimeSpan interval, bool detailed, string dateFormat)
    {
        private long _read, _bytes;
        private long _joinStart = Stopwatch.GetTimestamp();
        private double _joinMs, _joinMsThisWindow;

        public async Task<int> ExecuteAsync(KafkaConsumer<byte[]?, byte[]?> consumer, string topic, bool header, CancellationToken ct)
        {
            if (header)
            {
                Console.WriteLine(detailed
                    ? "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
                    : "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec");
            }
            var startTime = DateTimeOffset.Now;
            long start = Stopwatch.GetTimestamp();
            // The time from subscribing (or a revocation) to an assignment counts as rebalance time, as Kafka's tool counts it.
            consumer.Subscribe(topic, new RebalanceListener(
                onAssigned: _ => { _joinMs += Stopwatch.GetElapsedTime(_joinStart).TotalMilliseconds; _joinMsThisWindow += Stopwatch.GetElapsedTime(_joinStart).TotalMilliseconds; },
                onRevoked: _ => _joinStart = Stopwatch.GetTimestamp()));
            using var live = LiveLine.Start(() => $"{Volatile.Read(ref _read):N0} of {messages:N0} records consumed, {Volatile.Read(ref _bytes) / 1048576.0:N1} MB");
            long lastConsumed = Stopwatch.GetTimestamp(), lastReport = lastConsumed, lastRead = 0, lastBytes = 0;
            while (_read < messages && Stopwatch.GetElapsedTime(lastConsumed) <= timeout && !ct.IsCancellationRequested)
            {
                IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> records;
                try
                {
                    records = await consumer.PollAsync(TimeSpan.FromMilliseconds(100), ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    break;
                }
                long now = Stopwatch.GetTimestamp();
                if (records.Count > 0)
                    lastConsumed = now;
                long bytes = 0;
                foreach (var record in records)
                    bytes += (record.Key?.Length ?? 0) + (record.Value?.Length ?? 0);
                // Written here only; the status line reads them from its timer.
                Volatile.Write(ref _read, _read + records.Count);
                Volatile.Write(ref _bytes, _bytes + bytes);
                if (detailed && Stopwatch.GetElapsedTime(lastReport, now) >= interval)
                {
                    LiveLine.WriteLine(live, Line(DateTimeOffset.Now.ToString(dateFormat, System.Globalization.CultureInfo.InvariantCulture) + ", 0",
                        _bytes, _bytes - lastBytes, _read - lastRead, Stopwatch.GetElapsedTime(lastReport, now).TotalMilliseconds, _joinMsThisWindow, _read));
                    _joinMsThisWindow = 0;
                    (lastReport, lastRead, lastBytes) = (now, _read, _bytes);
                }
            }
            double elapsedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var endTime = DateTimeOffset.Now;
            live?.Stop();
            if (_read < messages && !ct.IsCancellationRequested)
                Console.WriteLine($"WARNING: Exiting before consuming the expected number of messages: timeout ({(long)timeout.TotalMilliseconds} ms) exceeded. You can use the --timeout option to increase the timeout.");
            if (!detailed)
            {
                string times = $"{startTime.ToString(dateFormat, System.Globalization.CultureInfo.InvariantCulture)}, {endTime.ToString(dateFormat, System.Globalization.CultureInfo.InvariantCulture)}";
                Console.WriteLine(Line(times, _bytes, _bytes, _read, elapsedMs, _joinMs, _read));
            }
            await consumer.CloseAsync(CancellationToken.None);
            return ct.IsCancellationRequested ? 130 : 0;
        }

        /// <summary>One of Kafka's CSV lines: totals, the interval's rates, then the same without the time spent rebalancing.</summary>
        private static string Line(string times, long totalBytes, long bytes, long count, double elapsedMs, double joinMs, long totalCount)
        {
            double totalMb = totalBytes / 1048576.0, mb = bytes / 1048576.0;
            double fetchMs = elapsedMs - joinMs;
            string fetchMbSec = fetchMs <= 0 ? "0.0000" : PerfCommand.F(mb / (fetchMs / 1000), 4);
            string fetchMsgSec = fetchMs <= 0 ? "0.0000" : PerfCommand.F(count / (fetchMs / 1000), 4);
            return $"{times}, {PerfCommand.F(totalMb, 4)}, {PerfCommand.F(mb / (elapsedMs / 1000), 4)}, {totalCount}, {PerfCommand.F(count / (elapsedMs / 1000), 4)}, " +
                $"{(long)joinMs}, {(long)fetchMs}, {fetchMbSec}, {fetchMsgSec}";
        }
    }
}
