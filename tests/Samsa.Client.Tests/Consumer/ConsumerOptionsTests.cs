using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Client.Tests.Consumer;

public class ConsumerOptionsTests
{
    private static ConsumerOptions From(params (string Key, string Value)[] settings) =>
        ConsumerOptions.FromProperties(settings.Select(s => KeyValuePair.Create(s.Key, s.Value)));

    [Fact]
    public void Defaults_match_the_java_consumer()
    {
        var o = new ConsumerOptions();
        Assert.Equal((1, 500, 52_428_800, 1_048_576, 500), (o.FetchMinBytes, (int)o.FetchMaxWait.TotalMilliseconds, o.FetchMaxBytes, o.MaxPartitionFetchBytes, o.MaxPollRecords));
        Assert.Equal((45_000, 3_000, 300_000), ((int)o.SessionTimeout.TotalMilliseconds, (int)o.HeartbeatInterval.TotalMilliseconds, (int)o.MaxPollInterval.TotalMilliseconds));
        Assert.Equal((AutoOffsetReset.Latest, true, 5_000), (o.AutoOffsetReset, o.EnableAutoCommit, (int)o.AutoCommitInterval.TotalMilliseconds));
        Assert.Equal(["range", "cooperative-sticky"], o.PartitionAssignmentStrategy);
    }

    [Fact]
    public void Every_known_key_parses()
    {
        var o = From(
            ("bootstrap.servers", "a:9092,b:9093"), ("group.id", "g"), ("group.instance.id", "i"), ("client.id", "c"),
            ("fetch.min.bytes", "10"), ("fetch.max.wait.ms", "100"), ("fetch.max.bytes", "1000"), ("max.partition.fetch.bytes", "500"),
            ("max.poll.records", "7"), ("session.timeout.ms", "10000"), ("heartbeat.interval.ms", "1000"), ("max.poll.interval.ms", "20000"),
            ("request.timeout.ms", "5000"), ("default.api.timeout.ms", "6000"), ("auto.offset.reset", "earliest"), ("enable.auto.commit", "false"),
            ("auto.commit.interval.ms", "100"), ("partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor, roundrobin"),
            ("isolation.level", "read_committed"), ("retry.backoff.ms", "1"), ("reconnect.backoff.ms", "2"), ("reconnect.backoff.max.ms", "3"),
            ("metadata.max.age.ms", "4"), ("check.crcs", "false"), ("allow.auto.create.topics", "false"), ("client.rack", "r1"),
            ("group.protocol", "classic"));
        Assert.Equal(28 + SecurityOptions.KnownKeys.Count, ConsumerOptions.KnownKeys.Count);
        Assert.Equal(("g", "i", 7, AutoOffsetReset.Earliest, IsolationLevel.ReadCommitted), (o.GroupId, o.GroupInstanceId, o.MaxPollRecords, o.AutoOffsetReset, o.IsolationLevel));
        Assert.Equal(["cooperative-sticky", "roundrobin"], o.PartitionAssignmentStrategy);
        Assert.Same(o, o.Validate(subscribing: true));
    }

    [Theory]
    [InlineData("max.poll.recrods", "5")]
    [InlineData("fetch.min.bytes", "lots")]
    [InlineData("auto.offset.reset", "smallest")]
    [InlineData("enable.auto.commit", "yes")]
    [InlineData("session.timeout.ms", "-1")]
    public void Unknown_keys_and_bad_values_name_the_key(string key, string value)
    {
        var ex = Assert.Throws<KafkaConfigException>(() => From((key, value)));
        Assert.Equal(key, ex.Key);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_consumer_protocol_refuses_what_the_broker_decides_as_the_java_client_does()
    {
        var consumer = From(("bootstrap.servers", "localhost:9092"), ("group.id", "g"), ("group.protocol", "consumer"), ("group.remote.assignor", "range"));
        Assert.Equal((GroupProtocol.Consumer, "range"), (consumer.GroupProtocol, consumer.GroupRemoteAssignor));
        consumer.Validate(subscribing: true);
        foreach (var (key, value) in new[] { ("partition.assignment.strategy", "range"), ("session.timeout.ms", "45000"), ("heartbeat.interval.ms", "3000") })
        {
            // Even the default value counts: the user set it.
            var ex = Assert.Throws<KafkaConfigException>(() => From(("bootstrap.servers", "localhost:9092"), ("group.id", "g"), ("group.protocol", "consumer"), (key, value)).Validate(true));
            Assert.Equal(key, ex.Key);
            Assert.Contains("group.protocol", ex.Message, StringComparison.Ordinal);
        }
        Assert.Equal("group.remote.assignor", Assert.Throws<KafkaConfigException>(() => From(("bootstrap.servers", "localhost:9092"), ("group.remote.assignor", "uniform")).Validate(false)).Key);
        Assert.Equal("group.protocol", Assert.Throws<KafkaConfigException>(() => From(("group.protocol", "eager"))).Key);
        // A copy keeps what was set: with-expressions do not turn settings into defaults.
        var copied = new ConsumerOptions { BootstrapServers = "localhost:9092", SessionTimeout = TimeSpan.FromSeconds(45) } with { GroupProtocol = GroupProtocol.Consumer };
        Assert.Equal("session.timeout.ms", Assert.Throws<KafkaConfigException>(() => copied.Validate(false)).Key);
    }

    [Fact]
    public void Settings_that_do_not_fit_together_are_refused_at_construction()
    {
        var ok = new ConsumerOptions { BootstrapServers = "localhost:9092", GroupId = "g" };
        Assert.Equal("bootstrap.servers", Assert.Throws<KafkaConfigException>(() => (ok with { BootstrapServers = "" }).Validate(false)).Key);
        Assert.Equal("bootstrap.servers", Assert.Throws<KafkaConfigException>(() => (ok with { BootstrapServers = "nohost" }).Validate(false)).Key);
        Assert.Equal("group.id", Assert.Throws<KafkaConfigException>(() => (ok with { GroupId = null }).Validate(subscribing: true)).Key);
        (ok with { GroupId = null }).Validate(subscribing: false); // Assign needs no group
        Assert.Equal("group.instance.id", Assert.Throws<KafkaConfigException>(() => (ok with { GroupId = null, GroupInstanceId = "i" }).Validate(false)).Key);
        Assert.Equal("heartbeat.interval.ms", Assert.Throws<KafkaConfigException>(() => (ok with { HeartbeatInterval = TimeSpan.FromSeconds(60) }).Validate(true)).Key);
        Assert.Equal("partition.assignment.strategy", Assert.Throws<KafkaConfigException>(() => (ok with { PartitionAssignmentStrategy = ["sticky-ish"] }).Validate(true)).Key);
        Assert.Equal("max.poll.records", Assert.Throws<KafkaConfigException>(() => (ok with { MaxPollRecords = 0 }).Validate(true)).Key);
    }
}
