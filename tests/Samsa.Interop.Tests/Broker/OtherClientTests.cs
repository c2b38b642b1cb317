using System.Diagnostics;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// Clients from other code bases against the Samsa broker: kcat (librdkafka 2.0.2) and kafka-python
/// 2.0.2, both installed by .ci/install-deps from Debian.
/// </summary>
public class OtherClientTests
{
    internal static async Task<(int Code, string Out, string Err)> Run(string file, string args, string? stdin = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        if (workingDirectory is not null)
            psi.WorkingDirectory = workingDirectory;
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // A fresh clone without the one-time setup: say what to run instead of a bare "file not found".
            throw new InvalidOperationException($"'{file}' could not be started ({e.Message}): run `bash .ci/install-deps` once; it installs kcat, kafka-python, Burrow, chromium (Debian) and kafkajs (npm).", e);
        }
        using var process = p;
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (p.ExitCode, await output, await error);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Kcat_produces_and_consumes(string codec)
    {
        await using var broker = await TempBroker.StartAsync();
        var lines = Enumerable.Range(0, 50).Select(i => $"key{i % 3}:value-{i}").ToList();
        var produce = await Run("kcat", $"-b {broker.Bootstrap} -t kc -P -K : -z {codec}", string.Join("\n", lines) + "\n");
        Assert.True(produce.Code == 0, produce.Err);
        var consume = await Run("kcat", $"-b {broker.Bootstrap} -t kc -C -e -o beginning -f %k:%s\\n");
        Assert.True(consume.Code == 0, consume.Err);
        Assert.Equal(lines, consume.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var metadata = await Run("kcat", $"-b {broker.Bootstrap} -L -t kc");
        Assert.Contains("topic \"kc\" with 1 partitions", metadata.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kafka_python_produces_and_consumes_in_a_group_with_commits()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100) });
        string script = $$"""
            from kafka import KafkaProducer, KafkaConsumer, TopicPartition
            p = KafkaProducer(bootstrap_servers='{{broker.Bootstrap}}')
            for i in range(20):
                p.send('py', key=b'k', value=('v%d' % i).encode())
            p.flush()
            c = KafkaConsumer('py', bootstrap_servers='{{broker.Bootstrap}}', group_id='pyg', auto_offset_reset='earliest',
                              enable_auto_commit=False, consumer_timeout_ms=15000)
            got = []
            for m in c:
                got.append(m.value.decode())
                if len(got) == 20:
                    break
            c.commit()
            tp = TopicPartition('py', 0)
            print(','.join(got))
            print(c.committed(tp))
            c.close()
            """;
        var result = await Run("/usr/bin/python3", "-", script);
        Assert.True(result.Code == 0, result.Err);
        var outLines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20).Select(i => $"v{i}")), outLines[0]);
        Assert.Equal("20", outLines[1]);
    }

    [Fact]
    public async Task Kafkajs_produces_and_consumes_in_a_group_with_commits()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100) });
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Samsa.slnx")))
            root = Path.GetDirectoryName(root)!;
        string js = Path.Combine(root, "tests", "interop-js");
        await EnsureKafkajs(js);
        string script = Path.Combine(js, "produce-consume.js");
        var result = await Run("node", $"\"{script}\" {broker.Bootstrap} js jsg 15");
        Assert.True(result.Code == 0, result.Err);
        var outLines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 15).Select(i => $"js-{i}")), outLines[0]);
        Assert.Equal("15", outLines[1]);
    }

    /// <summary>
    /// kafkajs lives in tests/interop-js/node_modules, which a fresh clone lacks: install the pinned
    /// version (package-lock.json) as .ci/install-deps does, or fail naming the command to run.
    /// </summary>
    internal static async Task EnsureKafkajs(string directory)
    {
        if (Directory.Exists(Path.Combine(directory, "node_modules", "kafkajs")))
            return;
        var install = await Run("npm", "ci --no-audit --no-fund --silent", workingDirectory: directory);
        Assert.True(install.Code == 0 && Directory.Exists(Path.Combine(directory, "node_modules", "kafkajs")),
            $"kafkajs is not installed and `npm ci` in tests/interop-js failed ({install.Err.Trim()}): run `bash .ci/install-deps` (or `cd tests/interop-js && npm ci`).");
    }
}
