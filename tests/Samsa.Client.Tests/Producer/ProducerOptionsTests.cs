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

    [Fact]
    public void A_transactional_id_is_read_with_its_timeout_and_implies_idempotence()
    {
        var options = ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("transactional.id", "orders-1"), new("transaction.timeout.ms", "15000")]).Validate();
        Assert.Equal(("orders-1", TimeSpan.FromSeconds(15), true), (options.TransactionalId, options.TransactionTimeout, options.EnableIdempotence));
        Assert.Equal(TimeSpan.FromMinutes(1), new ProducerOptions().TransactionTimeout);
        Assert.Null(new ProducerOptions().TransactionalId);
    }

    [Theory]
    [InlineData("enable.idempotence", "false", "enable.idempotence")]
    [InlineData("acks", "1", "acks")] // not silently turned off as without a transactional id
    [InlineData("retries", "0", "retries")]
    [InlineData("max.in.flight.requests.per.connection", "6", "max.in.flight.requests.per.connection")]
    [InlineData("transaction.timeout.ms", "0", "transaction.timeout.ms")]
    public void A_transactional_id_with_a_contradicting_setting_is_refused_naming_the_key(string key, string value, string named)
    {
        var e = Assert.Throws<KafkaConfigException>(() =>
            ProducerOptions.FromProperties([new("bootstrap.servers", "b:9092"), new("transactional.id", "t"), new(key, value)]).Validate());
        Assert.Equal(named, e.Key);
    }

    [Fact]
    public void An_empty_transactional_id_is_refused()
    {
        var e = Assert.Throws<KafkaConfigException>(() => new ProducerOptions { BootstrapServers = "b:9092", TransactionalId = " " }.Validate());
        Assert.Equal("transactional.id", e.Key);
    }
}
