using System.Text.RegularExpressions;
using Confluent.Kafka;
using Samsa.Interop.Tests.Client;

namespace Samsa.Interop.Tests.Cli;

/// <summary>
/// <c>samsa perf produce|consume</c> against an in-process broker: the records really arrive, and
/// the last lines are Kafka's perf-test lines, which scripts written for Kafka's tools parse.
/// </summary>
public partial class PerfCliTests
{
    [GeneratedRegex(@"^(\d+) records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$")]
    private static partial Regex ProducerSummary();

    // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, ([\d.]+), [\d.]+, (\d+), [\d.]+, \d+, -?\d+, [\d.]+, [\d.]+$")]
    private static partial Regex ConsumerSummary();

    [Fact]
    public async Task Perf_produce_writes_the_records_and_ends_with_Kafkas_summary_line()
    {
        await using var broker = await SamsaConsumerTests.Start();
        await SamsaConsumerTests.CreateTopic(broker.Bootstrap, "perf", 2);
        var run = await CliTests.Samsa("", ["perf", "produce", "--topic", "perf", "--num-records", "3000", "--record-size", "100", "--throughput", "-1",
            "--producer-props", $"bootstrap.servers={broker.Bootstrap}", "acks=1", "linger.ms=2"]);
        Assert.True(run.Exit == 0, run.Err);
        var summary = ProducerSummary().Match(run.Out.TrimEnd('\n').Split('\n')[^1]);
        Assert.True(summary.Success, run.Out);
        Assert.Equal("3000", summary.Groups[1].Value);

        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "check", AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        long total = 0;
        for (int p = 0; p < 2; p++)
            total += consumer.QueryWatermarkOffsets(new TopicPartition("perf", p), TimeSpan.FromSeconds(10)).High.Value;
        Assert.Equal(3000, total);
        // Kafka's tool writes random capitals: the bytes on the log are the ones asked for.
        consumer.Assign(new TopicPartition("perf", 0));
        var record = consumer.Consume(TimeSpan.FromSeconds(20));
        Assert.NotNull(record);
        Assert.Equal(100, record.Message.Value.Length);
        Assert.All(record.Message.Value, b => Assert.InRange(b, (byte)'A', (byte)'Z'));
    }

    [Fact]
    public async Task Perf_consume_reads_every_record_in_a_group_and_ends_with_Kafkas_csv_line()
    {
        await using var broker = await SamsaConsumerTests.Start();
        await SamsaConsumerTests.CreateTopic(broker.Bootstrap, "perf-in", 3);
        await SamsaConsumerTests.Produce(broker.Bootstrap, "perf-in", 1500);
        string config = Path.Combine(Path.GetTempPath(), $"perf-{Guid.NewGuid():N}.properties");
        await File.WriteAllTextAsync(config, "# a consumer.config file as Kafka's tools take it\nfetch.max.wait.ms=100\n");
        try
        {
            var run = await CliTests.Samsa("", ["perf", "consume", "--bootstrap-server", broker.Bootstrap, "--topic", "perf-in", "--messages", "1500",
                "--group", "perf-g", "--consumer.config", config, "--consumer-props", "max.poll.records=200"]);
            Assert.True(run.Exit == 0, run.Err);
            var lines = run.Out.TrimEnd('\n').Split('\n');
            Assert.Equal("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec", lines[0]);
            var summary = ConsumerSummary().Match(lines[^1]);
            Assert.True(summary.Success, run.Out);
            Assert.Equal("1500", summary.Groups[2].Value);
        }
        finally
        {
            File.Delete(config);
        }

        // Asked for more than the topic holds: Kafka's warning once no record came for --timeout.
        var short_ = await CliTests.Samsa("", ["perf", "consume", "--bootstrap-server", broker.Bootstrap, "--topic", "perf-in", "--messages", "2000", "--timeout", "1000", "--hide-header"]);
        Assert.Equal(0, short_.Exit);
        Assert.Contains("WARNING: Exiting before consuming the expected number of messages: timeout (1000 ms) exceeded.", short_.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("start.time", short_.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_perf_arguments_name_what_is_wrong()
    {
        var noBroker = await CliTests.Samsa("", ["perf", "produce", "--topic", "t", "--num-records", "10", "--record-size", "10"]);
        Assert.Equal(2, noBroker.Exit);
        Assert.Contains("--bootstrap-server", noBroker.Err, StringComparison.Ordinal);
        var badKey = await CliTests.Samsa("", ["perf", "produce", "--topic", "t", "--num-records", "10", "--record-size", "10", "--producer-props", "bootstrap.servers=x:1", "linger=5"]);
        Assert.NotEqual(0, badKey.Exit);
        Assert.Contains("'linger'", badKey.Err, StringComparison.Ordinal);
        var both = await CliTests.Samsa("", ["perf", "produce", "--topic", "t", "--num-records", "10", "--bootstrap-server", "x:1"]);
        Assert.Equal(2, both.Exit);
        Assert.Contains("--record-size", both.Err, StringComparison.Ordinal);
    }
}
