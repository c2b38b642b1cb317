using System.Diagnostics;

namespace Samsa.Interop.Tests.Cli;

/// <summary>The samsa command run as a process against an in-process broker: output and exit codes.</summary>
public class CliTests
{
    internal static async Task<(int Exit, string Out, string Err)> Samsa(string stdin, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Topics_produce_consume_and_groups_work_end_to_end()
    {
        await using var broker = await Interop.Tests.Client.SamsaConsumerTests.Start();
        string[] b = ["--bootstrap-server", broker.Bootstrap];

        var created = await Samsa("", ["topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000", .. b]);
        Assert.Equal((0, "Created topic orders.\n"), (created.Exit, created.Out));
        var listed = await Samsa("", ["topics", "list", "--output", "json", .. b]);
        Assert.Contains("\"name\": \"orders\"", listed.Out, StringComparison.Ordinal);
        var described = await Samsa("", ["topics", "describe", "orders", .. b]);
        Assert.Contains("Configs: retention.ms=60000", described.Out, StringComparison.Ordinal);
        var altered = await Samsa("", ["topics", "alter", "orders", "--config", "cleanup.policy=delete", "--delete-config", "retention.ms", .. b]);
        Assert.Equal(0, altered.Exit);
        Assert.Contains("Configs: cleanup.policy=delete\n", (await Samsa("", ["topics", "describe", "orders", .. b])).Out, StringComparison.Ordinal);
        var grown = await Samsa("", ["topics", "add-partitions", "orders", "--partitions", "4", .. b]);
        Assert.Equal((0, "orders now has 4 partitions.\n"), (grown.Exit, grown.Out));

        var produced = await Samsa("k1:v1\nk2:v2\nk3:v3\n", ["produce", "orders", "--key-separator", ":", "--header", "src=cli", "--compression", "lz4", .. b]);
        Assert.Equal(0, produced.Exit);
        Assert.Contains("Produced 3 record(s)", produced.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("acknowledged", produced.Err, StringComparison.Ordinal); // no progress line when stderr is not a terminal

        var consumed = await Samsa("", ["consume", "orders", "--group", "cli-g", "--from-beginning", "--max-messages", "3", "--format", "{key}={value} {headers}", .. b]);
        Assert.Equal(0, consumed.Exit);
        Assert.Equal(["k1=v1 src=cli", "k2=v2 src=cli", "k3=v3 src=cli"], consumed.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        var group = await Samsa("", ["groups", "describe", "cli-g", "--output", "json", .. b]);
        Assert.Equal(0, group.Exit);
        Assert.Contains("\"lag\": 0", group.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\"lag\": 1", group.Out, StringComparison.Ordinal);

        var dryRun = await Samsa("", ["groups", "reset-offsets", "cli-g", "--to-earliest", .. b]);
        Assert.Contains("Dry run", dryRun.Out, StringComparison.Ordinal);
        var reset = await Samsa("", ["groups", "reset-offsets", "cli-g", "--to-earliest", "--execute", .. b]);
        Assert.Contains("Offsets reset.", reset.Out, StringComparison.Ordinal);
        // After the reset the group reads everything again.
        var again = await Samsa("", ["consume", "orders", "--group", "cli-g", "--max-messages", "3", .. b]);
        Assert.Equal(3, again.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        // Standalone assign + seek: one partition from an offset.
        var partition = await Samsa("", ["consume", "orders", "--partition", "0", "--offset", "0", "--timeout-ms", "1000", "--format", "{partition}", .. b]);
        Assert.All(partition.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Equal("0", line));
        var idle = await Samsa("", ["consume", "orders", "--timeout-ms", "500", .. b]);
        Assert.Equal((0, ""), (idle.Exit, idle.Out));

        var topicDeleted = await Samsa("", ["topics", "delete", "orders", .. b]);
        Assert.Equal((0, "Deleted topic orders.\n"), (topicDeleted.Exit, topicDeleted.Out));
        var deleted = await Samsa("", ["groups", "delete", "cli-g", .. b]);
        Assert.Equal(0, deleted.Exit);
        var gone = await Samsa("", ["groups", "list", "--output", "json", .. b]);
        Assert.DoesNotContain("cli-g", gone.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Groups_list_and_describe_show_classic_and_consumer_groups()
    {
        await using var broker = await Interop.Tests.Client.SamsaAdminGroupTypesTests.StartFast();
        string[] b = ["--bootstrap-server", broker.Bootstrap];
        await Samsa("", ["topics", "create", "typed", "--partitions", "2", .. b]);
        await Samsa("a\nb\nc\nd\n", ["produce", "typed", .. b]);
        // A classic group: our consumer (classic protocol) reads, commits and leaves, so it is Empty.
        var consumed = await Samsa("", ["consume", "typed", "--group", "cli-classic", "--from-beginning", "--max-messages", "4", .. b]);
        Assert.Equal(0, consumed.Exit);

        var modern = new Groups.ConfluentMember(broker.Bootstrap, "cli-modern", "typed", protocol: Confluent.Kafka.GroupProtocol.Consumer, clientId: "modern-1");
        try
        {
            await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap });
            await Groups.Eventually.True(() => modern.Received.Count == 4, "the consumer member read everything");
            await Groups.Eventually.True(() => admin.DescribeGroupAsync("cli-modern").Result is { State: "Stable", Members: [{ Assignment.Count: 2 }] }, "the consumer group is stable");

            var list = await Samsa("", ["groups", "list", .. b]);
            Assert.Equal(0, list.Exit);
            Assert.Matches(@"GROUP\s+TYPE\s+STATE\s+PROTOCOL TYPE", list.Out);
            Assert.Matches(@"cli-classic\s+classic\s+Empty\s+consumer", list.Out);
            Assert.Matches(@"cli-modern\s+consumer\s+Stable\s+consumer", list.Out);
            var json = await Samsa("", ["groups", "list", "--output", "json", .. b]);
            Assert.Contains("\"type\": \"consumer\"", json.Out, StringComparison.Ordinal);
            Assert.Contains("\"type\": \"classic\"", json.Out, StringComparison.Ordinal);
            var onlyConsumer = await Samsa("", ["groups", "list", "--type", "consumer", .. b]);
            Assert.Contains("cli-modern", onlyConsumer.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("cli-classic", onlyConsumer.Out, StringComparison.Ordinal);
            var badType = await Samsa("", ["groups", "list", "--type", "streams", .. b]);
            Assert.Equal(2, badType.Exit);
            Assert.Contains("--type: 'streams' is not a group type (classic, consumer or share)", badType.Err, StringComparison.Ordinal);

            var described = await Samsa("", ["groups", "describe", "cli-modern", .. b]);
            Assert.True(described.Exit == 0, described.Err);
            Assert.Matches(@"Group cli-modern: consumer group, Stable, assignor \S+, group epoch \d+, assignment epoch \d+, 1 member\(s\)", described.Out);
            Assert.Matches(@"MEMBER\s+INSTANCE\s+CLIENT\s+HOST\s+EPOCH\s+SUBSCRIBED\s+PARTITIONS\s+TARGET", described.Out);
            Assert.Matches(@"modern-1\s+\S+\s+\d+\s+typed\s+typed-0,typed-1\s+typed-0,typed-1", described.Out);
            var describedJson = await Samsa("", ["groups", "describe", "cli-modern", "--output", "json", .. b]);
            Assert.Contains("\"type\": \"consumer\"", describedJson.Out, StringComparison.Ordinal);
            Assert.Contains("\"memberEpoch\":", describedJson.Out, StringComparison.Ordinal);

            var classic = await Samsa("", ["groups", "describe", "cli-classic", .. b]);
            Assert.True(classic.Exit == 0, classic.Err);
            Assert.Contains("Group cli-classic: classic group, Empty, protocol -, 0 member(s)", classic.Out, StringComparison.Ordinal);
            Assert.Matches(@"typed\s+0\s+\d+\s+\d+\s+0\s+-", classic.Out); // its committed offsets, no lag

            var missing = await Samsa("", ["groups", "describe", "nobody", .. b]);
            Assert.Equal(1, missing.Exit);
            Assert.Contains("No such group", missing.Err, StringComparison.Ordinal);
        }
        finally
        {
            modern.Dispose();
        }
    }

    [Fact]
    public async Task Produce_from_a_pipe_shows_progress_on_a_terminal_and_clears_it()
    {
        // script(1) gives the command a pseudo-terminal, as a person's shell would.
        await using var broker = await Interop.Tests.Client.SamsaConsumerTests.Start();
        string file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 500).Select(i => $"line {i}"));
        try
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
            var info = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-qec", $"dotnet {dll} produce piped --bootstrap-server {broker.Bootstrap} < {file}", "/dev/null" })
                info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            string terminal = await output;
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("\r\u001b[2Kpiped: 500 record(s) read", terminal, StringComparison.Ordinal);
            Assert.Contains("\r\u001b[2KProduced 500 record(s) to piped.", terminal, StringComparison.Ordinal); // the status line is erased first
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Bad_input_prints_one_line_and_exits_non_zero()
    {
        await using var broker = await Interop.Tests.Client.SamsaConsumerTests.Start();
        string[] b = ["--bootstrap-server", broker.Bootstrap];
        var unknown = await Samsa("", ["topics", "describe", "nope", .. b]);
        Assert.Equal(1, unknown.Exit);
        Assert.Equal("samsa topics describe: No such topic or partition (topic nope): check the name, or create it.\n", unknown.Err);

        var unreachable = await Samsa("", ["topics", "list", "--bootstrap-server", "127.0.0.1:1"]);
        Assert.Equal(1, unreachable.Exit);
        Assert.StartsWith("samsa topics list: cannot reach the broker", unreachable.Err, StringComparison.Ordinal);
        Assert.Single(unreachable.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        await Samsa("", ["topics", "create", "t", .. b]);
        var badDate = await Samsa("", ["groups", "reset-offsets", "g", "--topic", "t", "--to-datetime", "yesterday", .. b]);
        Assert.Equal(2, badDate.Exit);
        Assert.Contains("--to-datetime: 'yesterday' is not a date", badDate.Err, StringComparison.Ordinal);

        var badConfig = await Samsa("", ["produce", "t", "--compression", "brotli", .. b]);
        Assert.Equal(2, badConfig.Exit);
        Assert.Contains("compression.type", badConfig.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", badConfig.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_stops_consume_cleanly_committing_and_leaving_the_group()
    {
        await using var broker = await Interop.Tests.Client.SamsaConsumerTests.Start();
        string[] b = ["--bootstrap-server", broker.Bootstrap];
        await Samsa("", ["topics", "create", "c", "--partitions", "1", .. b]);
        await Samsa("a\nb\n", ["produce", "c", .. b]);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] consumeArgs = [Path.Combine(AppContext.BaseDirectory, "samsa.dll"), "consume", "c", "--group", "ctrl-c", "--from-beginning", .. b];
        foreach (var a in consumeArgs)
            info.ArgumentList.Add(a);
        using var consume = Process.Start(info)!;
        var stdout = consume.StandardOutput.ReadToEndAsync();
        var stderr = consume.StandardError.ReadToEndAsync();
        await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap });
        bool Joined()
        {
            try
            {
                return admin.DescribeGroupAsync("ctrl-c").Result is { State: "Stable", Members.Count: 1 };
            }
            catch (AggregateException e) when (e.InnerException is Samsa.Client.Errors.GroupNotFoundException)
            {
                return false; // not created yet
            }
        }
        await Groups.Eventually.True(Joined, "the consumer joined");
        await Groups.Eventually.True(() => admin.ListGroupOffsetsAsync("ctrl-c").Result.Sum(p => p.Committed ?? 0) == 2, "auto-commit stored the position");

        using (var kill = Process.Start("kill", ["-INT", consume.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill!.WaitForExitAsync();
        try
        {
            await consume.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            consume.Kill();
            Assert.Fail($"consume did not stop within 30 s of SIGINT; its stderr: {await stderr}");
        }
        Assert.Equal(["a", "b"], (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // It left: the group is empty at once, not after the session timeout.
        Assert.True((await admin.DescribeGroupAsync("ctrl-c")).State == "Empty", $"exit {consume.ExitCode}: {await stderr}");
    }

    [Fact]
    public async Task Samsa_broker_serves_clients_from_its_own_process()
    {
        int port;
        using (var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        }
        string dir = Path.Combine(Path.GetTempPath(), "samsa-cli-broker-" + Guid.NewGuid().ToString("N"));
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "samsa.dll"), "broker", "--listen", $"127.0.0.1:{port}", "--data-dir", dir })
            info.ArgumentList.Add(a);
        using var broker = Process.Start(info)!;
        try
        {
            while (await broker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) is { } line && !line.Contains("listening", StringComparison.Ordinal))
            {
            }
            var created = await Samsa("", "topics", "create", "x", "--bootstrap-server", $"127.0.0.1:{port}");
            Assert.Equal(0, created.Exit);
            Assert.Contains("x", (await Samsa("", "topics", "list", "--bootstrap-server", $"127.0.0.1:{port}")).Out, StringComparison.Ordinal);
        }
        finally
        {
            broker.Kill();
            await broker.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
