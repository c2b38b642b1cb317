using System.Net;
using System.Net.Sockets;
using Samsa.Interop.Tests.Client;

namespace Samsa.Interop.Tests.Cli;

/// <summary>
/// The CLI where a new user trips (issue 20, item 4): an unreachable broker named as such, a
/// missing topic the same error however it is read, Kafka's tool flags and client property files,
/// and a start-up that fails leaving nothing behind.
/// </summary>
public class CliEdgesTests
{
    private static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port; // nothing listens once it is stopped
    }

    [Fact]
    public async Task Produce_to_an_unreachable_broker_says_the_broker_cannot_be_reached()
    {
        var run = await CliTests.Samsa("x\n", ["produce", "t", "--bootstrap-server", $"127.0.0.1:{ClosedPort()}"]);
        Assert.Equal(1, run.Exit);
        Assert.Contains("cannot reach the broker", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("topic", run.Err.Split("cannot reach")[0], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Topics_takes_kafka_topics_sh_action_flags()
    {
        await using var broker = await SamsaConsumerTests.Start();
        string[] b = ["--bootstrap-server", broker.Bootstrap];
        // The order librdkafka's suite and runbooks use: bootstrap first, the action as a flag.
        var created = await CliTests.Samsa("", ["topics", .. b, "--create", "--topic", "habits", "--replication-factor", "1", "--partitions", "2", "--config", "message.timestamp.type=LogAppendTime"]);
        Assert.Equal((0, "Created topic habits.\n"), (created.Exit, created.Out));
        var again = await CliTests.Samsa("", ["topics", .. b, "--create", "--topic", "habits", "--partitions", "2"]);
        Assert.Equal(1, again.Exit);
        Assert.Equal(0, (await CliTests.Samsa("", ["topics", .. b, "--create", "--if-not-exists", "--topic", "habits", "--partitions", "2"])).Exit);

        var grown = await CliTests.Samsa("", ["topics", .. b, "--alter", "--topic", "habits", "--partitions", "3"]);
        Assert.Equal((0, "habits now has 3 partitions.\n"), (grown.Exit, grown.Out));
        var described = await CliTests.Samsa("", ["topics", .. b, "--describe", "--topic", "habits"]);
        Assert.Contains("Partitions: 3", described.Out, StringComparison.Ordinal);
        Assert.Contains("message.timestamp.type=LogAppendTime", described.Out, StringComparison.Ordinal);
        Assert.Contains("habits", (await CliTests.Samsa("", ["topics", .. b, "--list"])).Out, StringComparison.Ordinal);

        var deleted = await CliTests.Samsa("", ["topics", .. b, "--delete", "--topic", "habits"]);
        Assert.Equal((0, "Deleted topic habits.\n"), (deleted.Exit, deleted.Out));
        Assert.Equal(1, (await CliTests.Samsa("", ["topics", .. b, "--delete", "--topic", "habits"])).Exit);
        Assert.Equal(0, (await CliTests.Samsa("", ["topics", .. b, "--delete", "--if-exists", "--topic", "habits"])).Exit);
    }

    [Fact]
    public async Task A_missing_topic_is_the_same_error_with_and_without_group_or_partition()
    {
        await using var broker = await SamsaConsumerTests.Start();
        string[] b = ["--bootstrap-server", broker.Bootstrap, "--timeout-ms", "2000"];
        var plain = await CliTests.Samsa("", ["consume", "nowhere", .. b]);
        var grouped = await CliTests.Samsa("", ["consume", "nowhere", "--group", "g", .. b]);
        var assigned = await CliTests.Samsa("", ["consume", "nowhere", "--partition", "0", .. b]);
        Assert.Equal(1, plain.Exit);
        Assert.Contains("nowhere", plain.Err, StringComparison.Ordinal);
        Assert.Equal((plain.Exit, plain.Err), (grouped.Exit, grouped.Err));
        Assert.Equal((plain.Exit, plain.Err), (assigned.Exit, assigned.Err));
    }

    [Fact]
    public async Task Kafka_tool_flags_and_a_command_config_file_are_taken()
    {
        await using var broker = await SamsaConsumerTests.Start();
        string[] b = ["--bootstrap-server", broker.Bootstrap];
        var created = await CliTests.Samsa("", ["topics", "create", "--topic", "flags", "--partitions", "1", "--replication-factor", "1", .. b]);
        Assert.True(created.Exit == 0, created.Err);
        var refused = await CliTests.Samsa("", ["topics", "create", "--topic", "flags2", "--replication-factor", "3", .. b]);
        Assert.Equal(2, refused.Exit);
        Assert.Contains("--replication-factor 3", refused.Err, StringComparison.Ordinal);
        await SamsaConsumerTests.Produce(broker.Bootstrap, "flags", 3);

        string config = Path.Combine(Path.GetTempPath(), $"cli-{Guid.NewGuid():N}.properties");
        await File.WriteAllTextAsync(config, "# as kafka-console-consumer's --consumer.config\nauto.offset.reset=earliest\n");
        try
        {
            // No group, no --from-beginning: the file's auto.offset.reset=earliest reads from the start.
            var read = await CliTests.Samsa("", ["consume", "--topic", "flags", "--command-config", config, "--max-messages", "3", "--format", "{value}", .. b]);
            Assert.True(read.Exit == 0, read.Err);
            Assert.Equal(["m0", "m1", "m2"], read.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            var bad = await CliTests.Samsa("", ["consume", "flags", "--command-config", config, "--consumer-property", "fetch.min.bytes=lots", .. b]);
            Assert.NotEqual(0, bad.Exit);
            Assert.Contains("fetch.min.bytes", bad.Err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_broker_that_cannot_bind_leaves_no_data_directory_behind()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string dir = Path.Combine(Path.GetTempPath(), $"samsa-nobind-{Guid.NewGuid():N}");
        var run = await CliTests.Samsa("", ["broker", "--listen", $"127.0.0.1:{port}", "--data-dir", dir]);
        Assert.NotEqual(0, run.Exit);
        Assert.False(Directory.Exists(dir), $"{dir} was left behind: {run.Err}");
    }
}
