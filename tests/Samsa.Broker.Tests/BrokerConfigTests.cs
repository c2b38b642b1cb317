using Samsa.Broker;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Tests;

public class BrokerConfigTests
{
    [Fact]
    public void Every_key_is_documented_in_docs_broker_config()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Samsa.slnx")))
            root = Path.GetDirectoryName(root)!;
        string doc = File.ReadAllText(Path.Combine(root, "docs", "broker-config.md"));
        foreach (var (key, _) in BrokerConfig.Documented)
            Assert.Contains($"`{key}`", doc, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_keys_and_bad_values_name_the_key()
    {
        var unknown = Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "num.partitons", "3"));
        Assert.Equal("num.partitons", unknown.Key);
        var bad = Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "auto.create.topics.enable", "yes"));
        Assert.Contains("auto.create.topics.enable", bad.Message, StringComparison.Ordinal);
        Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "default.replication.factor", "3"));
        Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "listeners", "PLAINTEXT://a:1,SSL://b:2"));
    }

    [Fact]
    public void A_properties_file_is_read_and_errors_point_at_file_and_line()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["# comment", "listeners=PLAINTEXT://127.0.0.1:19093", "num.partitions = 4", "log.dirs=/tmp/x"]);
            var options = BrokerConfig.LoadFile(new BrokerOptions(), path);
            Assert.Equal(19093, options.Listen.Port);
            Assert.Equal(4, options.NumPartitions);
            Assert.Equal("/tmp/x", options.DataDirectory);

            File.WriteAllLines(path, ["num.partitions=4", "group.initial.rebalance.delay.ms=-5"]);
            var ex = Assert.Throws<BrokerConfigException>(() => BrokerConfig.LoadFile(new BrokerOptions(), path));
            Assert.Contains($"{path}:2", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
