using Samsa.Client.Consumer;
using Samsa.Client.Share;

namespace Samsa.Client.Tests.Share;

public class ShareConsumerOptionsTests
{
    [Fact]
    public void Kafka_property_names_set_the_options()
    {
        var o = ShareConsumerOptions.FromProperties(new Dictionary<string, string>
        {
            ["bootstrap.servers"] = "h:9092",
            ["group.id"] = "jobs",
            ["share.acknowledgement.mode"] = "explicit",
            ["share.acquire.mode"] = "record_limit",
            ["max.poll.records"] = "10",
            ["fetch.max.wait.ms"] = "250",
            ["client.id"] = "me",
        }).Validate();
        Assert.Equal(ShareAcknowledgementMode.Explicit, o.AcknowledgementMode);
        Assert.Equal(ShareAcquireMode.RecordLimit, o.AcquireMode);
        Assert.Equal(10, o.MaxPollRecords);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.FetchMaxWait);
        Assert.Equal("me", o.ClientId);
        Assert.Equal(ShareAcknowledgementMode.Implicit, new ShareConsumerOptions().AcknowledgementMode);
        Assert.Equal(ShareAcquireMode.BatchOptimized, new ShareConsumerOptions().AcquireMode);
    }

    [Theory]
    [InlineData("auto.offset.reset")]
    [InlineData("enable.auto.commit")]
    [InlineData("group.instance.id")]
    [InlineData("isolation.level")]
    [InlineData("partition.assignment.strategy")]
    [InlineData("session.timeout.ms")]
    [InlineData("heartbeat.interval.ms")]
    [InlineData("group.protocol")]
    [InlineData("group.remote.assignor")]
    [InlineData("no.such.key")]
    public void Settings_a_share_consumer_does_not_take_are_refused_by_name(string key)
    {
        var e = Assert.Throws<KafkaConfigException>(() => ShareConsumerOptions.FromProperties(new Dictionary<string, string> { [key] = "1" }));
        Assert.Equal(key, e.Key);
    }

    [Theory]
    [InlineData("share.acknowledgement.mode", "auto")]
    [InlineData("share.acquire.mode", "all")]
    [InlineData("max.poll.records", "x")]
    public void Bad_values_name_the_key(string key, string value)
    {
        var e = Assert.Throws<KafkaConfigException>(() => ShareConsumerOptions.FromProperties(new Dictionary<string, string> { [key] = value }));
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void Validate_wants_servers_and_a_group()
    {
        Assert.Equal("bootstrap.servers", Assert.Throws<KafkaConfigException>(() => new ShareConsumerOptions { GroupId = "g" }.Validate()).Key);
        Assert.Equal("group.id", Assert.Throws<KafkaConfigException>(() => new ShareConsumerOptions { BootstrapServers = "h:1" }.Validate()).Key);
        Assert.Equal("max.poll.records", Assert.Throws<KafkaConfigException>(() => new ShareConsumerOptions { BootstrapServers = "h:1", GroupId = "g", MaxPollRecords = 0 }.Validate()).Key);
    }

    [Fact]
    public void Every_share_consumer_setting_is_documented()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Samsa.slnx")))
            dir = dir.Parent;
        string doc = File.ReadAllText(Path.Combine(dir!.FullName, "docs", "client-config.md"));
        int section = doc.IndexOf("## Share consumer", StringComparison.Ordinal);
        Assert.True(section >= 0, "client-config.md has a share consumer section");
        foreach (var key in ShareConsumerOptions.KnownKeys)
            Assert.Contains($"`{key}`", doc[section..], StringComparison.Ordinal);
    }
}
