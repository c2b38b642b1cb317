using Microsoft.Extensions.Configuration;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Extensions.Hosting;

namespace Samsa.Extensions.Hosting.Tests;

public class KafkaConfigurationTests
{
    private static IConfiguration Json(string json)
    {
        string file = Path.Combine(Path.GetTempPath(), "samsa-appsettings-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, json);
        try
        {
            return new ConfigurationBuilder().AddJsonFile(file).Build();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Appsettings_with_Kafka_keys_yields_exactly_the_configured_assignment_strategies()
    {
        var config = Json("""
            { "Kafka": { "bootstrap.servers": "localhost:9092", "group.id": "billing",
                         "partition.assignment.strategy": ["cooperative-sticky"], "session.timeout.ms": 10000 } }
            """);
        var options = KafkaConfiguration.GetConsumerOptions(config.GetSection("Kafka"));
        Assert.Equal(["cooperative-sticky"], options.PartitionAssignmentStrategy);
        Assert.Equal("localhost:9092", options.BootstrapServers);
        Assert.Equal("billing", options.GroupId);
        Assert.Equal(TimeSpan.FromSeconds(10), options.SessionTimeout);
    }

    [Fact]
    public void Record_names_replace_the_default_list_too_where_the_stock_binder_appends()
    {
        var config = Json("""
            { "Kafka": { "BootstrapServers": "localhost:9092", "PartitionAssignmentStrategy": [ "cooperative-sticky" ],
                         "SessionTimeout": "00:00:12", "AutoOffsetReset": "Earliest" } }
            """);
        var options = KafkaConfiguration.GetConsumerOptions(config.GetSection("Kafka"));
        Assert.Equal(["cooperative-sticky"], options.PartitionAssignmentStrategy);
        Assert.Equal(TimeSpan.FromSeconds(12), options.SessionTimeout);
        Assert.Equal(AutoOffsetReset.Earliest, options.AutoOffsetReset);
        // The stock binder's behaviour this replaces (documented in KafkaConfiguration's remarks):
        Assert.Equal(["range", "cooperative-sticky", "cooperative-sticky"], config.GetSection("Kafka").Get<ConsumerOptions>()!.PartitionAssignmentStrategy);
    }

    [Fact]
    public void A_comma_separated_list_in_either_spelling_is_split()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:partition.assignment.strategy"] = "sticky, org.apache.kafka.clients.consumer.RoundRobinAssignor",
        }).Build();
        Assert.Equal(["sticky", "roundrobin"], KafkaConfiguration.GetConsumerOptions(config.GetSection("Kafka")).PartitionAssignmentStrategy);
        var records = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["K:PartitionAssignmentStrategy"] = "range,sticky" }).Build();
        Assert.Equal(["range", "sticky"], KafkaConfiguration.GetConsumerOptions(records.GetSection("K")).PartitionAssignmentStrategy);
    }

    [Theory]
    [InlineData("session.timeout.ms", "soon", "Kafka:session.timeout.ms")]
    [InlineData("sesion.timeout.ms", "10", "Kafka:sesion.timeout.ms")]
    [InlineData("SesionTimeout", "00:00:10", "Kafka:SesionTimeout")]
    [InlineData("SessionTimeout", "soon", "Kafka:SessionTimeout")]
    public void A_bad_or_unknown_key_is_named_with_its_path(string key, string value, string named)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Kafka:" + key] = value }).Build();
        var e = Assert.Throws<KafkaConfigException>(() => KafkaConfiguration.GetConsumerOptions(config.GetSection("Kafka")));
        Assert.Equal(named, e.Key);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Producer_and_admin_read_Kafka_names()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["P:bootstrap.servers"] = "h:1",
            ["P:acks"] = "1",
            ["P:enable.idempotence"] = "false",
            ["P:Linger"] = "00:00:00.020",
            ["A:bootstrap.servers"] = "h:2",
            ["A:request.timeout.ms"] = "1500",
        }).Build();
        var producer = KafkaConfiguration.GetProducerOptions(config.GetSection("P"));
        Assert.Equal((short)1, producer.Acks);
        Assert.False(producer.EnableIdempotence);
        Assert.Equal(TimeSpan.FromMilliseconds(20), producer.Linger);
        Assert.Equal(ProducerOptions.FromProperties([new("bootstrap.servers", "h:1")]).BatchSize, producer.BatchSize);
        var admin = KafkaConfiguration.GetAdminOptions(config.GetSection("A"));
        Assert.Equal("h:2", admin.BootstrapServers);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), admin.RequestTimeout);
    }
}
