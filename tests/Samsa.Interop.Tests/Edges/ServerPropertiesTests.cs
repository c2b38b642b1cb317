using System.Net;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Broker;
using Samsa.Broker.Configuration;

namespace Samsa.Interop.Tests.Edges;

/// <summary>
/// Kafka's own sample server.properties start the broker (KafkaConfigs/README.md): keys Samsa does
/// not use are warnings naming the key, as Kafka logs them; the keys it acts on are taken by Kafka's names.
/// </summary>
public class ServerPropertiesTests
{
    private static string ConfigFile(string name)
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Samsa.slnx")))
            root = Path.GetDirectoryName(root)!;
        return Path.Combine(root, "tests", "Samsa.Interop.Tests", "KafkaConfigs", name);
    }

    [Theory]
    [InlineData("kafka-3.0-kraft-server.properties", "/tmp/kraft-combined-logs")]
    [InlineData("kafka-3.8-server.properties", "/tmp/kafka-logs")]
    [InlineData("kafka-3.8-kraft-server.properties", "/tmp/kraft-combined-logs")]
    [InlineData("kafka-4.0-dev-kraft-server.properties", "/tmp/kraft-combined-logs")]
    [InlineData("kafka-4.x-server.properties", "/tmp/kraft-combined-logs")]
    public async Task A_stock_kafka_server_properties_starts_the_broker(string file, string logDirs)
    {
        var warnings = new List<string>();
        var options = BrokerConfig.LoadFile(new BrokerOptions(), ConfigFile(file), warnings.Add);

        Assert.Equal(logDirs, options.DataDirectory);
        Assert.Equal(1, options.NumPartitions);
        Assert.Equal("604800000", options.TopicDefaults["retention.ms"]); // log.retention.hours=168
        Assert.Equal(TimeSpan.FromMinutes(5), options.RetentionCheckInterval);
        Assert.Contains(warnings, w => w.Contains("'num.network.threads' is a Kafka setting Samsa does not use", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'transaction.state.log.min.isr'", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("unknown setting", StringComparison.Ordinal));
        if (file.Contains("kraft", StringComparison.Ordinal) || file.Contains("4.x", StringComparison.Ordinal))
        {
            // listeners=PLAINTEXT://:9092,CONTROLLER://:9093 with controller.listener.names=CONTROLLER:
            // both read, the controller's left unopened (no quorum on a single node).
            Assert.Equal(["PLAINTEXT://:9092", "CONTROLLER://:9093"], options.Listeners!.Select(l => l.ToString()));
            Assert.Equal(["CONTROLLER"], options.ControllerListenerNames!);
            Assert.Contains(warnings, w => w.Contains("'process.roles'", StringComparison.Ordinal));
            Assert.Equal("localhost:9092", options.AdvertisedListeners!["PLAINTEXT"]);
        }

        // The file's ports and directory may be taken here: the same listeners on free ports (advertised as bound) and a temp directory.
        string dir = Path.Combine(Path.GetTempPath(), "samsa-props-" + Guid.NewGuid().ToString("N"));
        var listeners = options.Listeners?.Select(l => l with { Host = "127.0.0.1", Port = 0 }).ToList();
        await using var broker = await SamsaBroker.StartAsync(options with
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0), Listeners = listeners, AdvertisedListeners = null, AdvertisedHost = null, AdvertisedPort = null,
            DataDirectory = dir, OffsetsTopicPartitions = 1,
        });
        try
        {
            Assert.Equal(["PLAINTEXT"], broker.Listeners.Select(l => l.Name));
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "t", NumPartitions = 1, ReplicationFactor = 1 }]);
            var described = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "t" }])).Single().Entries["retention.ms"];
            Assert.Equal(("604800000", ConfigSource.StaticBrokerConfig), (described.Value, described.Source));
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("t", new Message<Null, string> { Value = "hello" })).Status);
        }
        finally
        {
            await broker.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Unused_keys_warn_bad_values_of_used_keys_stop_and_typos_get_the_nearest_key()
    {
        var warnings = new List<string>();
        var options = BrokerConfig.Apply(new BrokerOptions(), "num.partitons", "3", "server.properties:7", warnings.Add);
        Assert.Equal(1, options.NumPartitions);
        Assert.Equal("server.properties:7: unknown setting 'num.partitons' ignored (did you mean 'num.partitions'?).", Assert.Single(warnings));
        BrokerConfig.Apply(new BrokerOptions(), "log.retention.hourz", "3", null, warnings.Add);
        Assert.Contains("did you mean 'log.retention.hours'?", warnings[^1], StringComparison.Ordinal);
        BrokerConfig.Apply(new BrokerOptions(), "qwertyuiop", "3", null, warnings.Add);
        Assert.Equal("unknown setting 'qwertyuiop' ignored.", warnings[^1]);

        var bad = Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "log.retention.hours", "a week", "f:3", warnings.Add));
        Assert.Equal("log.retention.hours", bad.Key);
        Assert.StartsWith("f:3: log.retention.hours:", bad.Message, StringComparison.Ordinal);
        Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "log.cleanup.policy", "shred", null, warnings.Add));
        Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "log.dirs", "/a,/b", null, warnings.Add));

        // The finer key wins whatever the order; log.dirs wins over log.dir.
        var o = new BrokerOptions();
        foreach (var (k, v) in new[] { ("log.retention.ms", "1000"), ("log.retention.hours", "5"), ("log.dirs", "/x"), ("log.dir", "/y") })
            o = BrokerConfig.Apply(o, k, v, null, warnings.Add);
        Assert.Equal(("1000", "/x"), (o.TopicDefaults["retention.ms"], o.DataDirectory));
        o = BrokerConfig.Apply(BrokerConfig.Apply(new BrokerOptions(), "log.retention.minutes", "2"), "log.retention.hours", "5");
        Assert.Equal("120000", o.TopicDefaults["retention.ms"]);
    }
}
