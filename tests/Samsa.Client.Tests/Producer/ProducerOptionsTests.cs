using Samsa.Client.Consumer;
using Samsa.Client.Producer;

namespace Samsa.Client.Tests.Producer;

public class ProducerOptionsTests
{
    [Fact]
    public void Idempotence_is_on_by_default_and_off_where_acks_or_other_settings_do_not_allow_it()
    {
        Assert.True(ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092")]).Validate().EnableIdempotence);
        // As Java's producer: not asked for, idempotence gives way to acks=1, acks=0, retries=0 or more than 5 in flight.
        Assert.False(ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("acks", "1")]).Validate().EnableIdempotence);
        Assert.False(ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("acks", "0")]).Validate().EnableIdempotence);
        Assert.False(ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("retries", "0")]).Validate().EnableIdempotence);
        Assert.False(ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("max.in.flight.requests.per.connection", "6")]).Validate().EnableIdempotence);
        Assert.True(ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("acks", "all")]).Validate().EnableIdempotence);
    }

    [Fact]
    public void Idempotence_asked_for_with_a_conflicting_setting_is_refused_naming_the_key()
    {
        var e = Assert.Throws<KafkaConfigException>(() =>
            ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("acks", "1"), new("enable.idempotence", "true")]).Validate());
        Assert.Equal("acks", e.Key);
    }
}
