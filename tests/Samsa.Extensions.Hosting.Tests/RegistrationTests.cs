using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Samsa.Client;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Extensions.Hosting;
using Samsa.Testing;

namespace Samsa.Extensions.Hosting.Tests;

public class RegistrationTests
{
    private static HostApplicationBuilder Builder(IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    [Fact]
    public async Task Appsettings_json_with_Kafka_keys_gives_the_registered_consumer_exactly_the_configured_strategies()
    {
        string file = Path.Combine(Path.GetTempPath(), $"appsettings-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            { "Kafka": { "bootstrap.servers": "localhost:9092", "group.id": "g", "compression.type": "lz4",
                         "Consumer": { "partition.assignment.strategy": [ "cooperative-sticky" ] } } }
            """);
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddJsonFile(file);
            builder.Services.AddKafkaConsumer<string, string>().AddKafkaProducer<string, string>().AddKafkaAdminClient();
            using var host = builder.Build();
            await using var consumer = host.Services.GetRequiredService<IKafkaConsumer<string, string>>();
            Assert.Equal(["cooperative-sticky"], consumer.Options.PartitionAssignmentStrategy);
            Assert.Equal("g", consumer.Options.GroupId);
            var producer = host.Services.GetRequiredService<IOptions<KafkaProducerSettings<string, string>>>().Value.Options;
            Assert.Equal(Samsa.Protocol.Records.CompressionType.Lz4, producer.CompressionType);
            Assert.Equal("localhost:9092", host.Services.GetRequiredService<IOptions<KafkaAdminSettings>>().Value.Options.BootstrapServers);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("Kafka:session.timeout.ms", "2000", "Kafka:heartbeat.interval.ms")]
    [InlineData("Kafka:bootstrap.servers", "", "Kafka:bootstrap.servers")]
    public async Task A_bad_setting_stops_the_host_at_start_naming_the_key(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?> { ["Kafka:bootstrap.servers"] = "localhost:9092", ["Kafka:group.id"] = "g", [key] = value };
        var builder = Builder(settings);
        builder.Services.AddKafkaConsumer<string, string>();
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_key_stops_the_host_at_start_naming_its_path()
    {
        var builder = Builder(new Dictionary<string, string?> { ["Kafka:bootstrap.servers"] = "localhost:9092", ["Kafka:Consumer:acks"] = "1" });
        builder.Services.AddKafkaConsumer<string, string>();
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<KafkaConfigException>(() => host.StartAsync());
        Assert.Equal("Kafka:Consumer:acks", e.Key);
    }

    [Fact]
    public async Task Health_checks_are_healthy_with_the_broker_and_unhealthy_when_it_stops()
    {
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.ProduceAsync("lagging", [("k", "1"), ("k", "2"), ("k", "3")]);
        var builder = Builder(new Dictionary<string, string?> { ["Kafka:bootstrap.servers"] = broker.BootstrapServers, ["Kafka:group.id"] = "lag-group" });
        builder.Services.AddKafkaAdminClient().AddKafkaConsumer<string, string>().AddKafkaProducer<string, string>();
        builder.Services.AddHealthChecks()
            .AddKafkaBroker(timeout: TimeSpan.FromSeconds(2))
            .AddKafkaProducer<string, string>(timeout: TimeSpan.FromSeconds(2))
            .AddKafkaConsumer<string, string>(timeout: TimeSpan.FromSeconds(2))
            .AddKafkaConsumerLag<string, string>(maxLag: 2, timeout: TimeSpan.FromSeconds(2));
        using var host = builder.Build();
        await host.StartAsync();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        // The group committed 0 of 3: lag 3 > 2 is Degraded, the rest Healthy.
        await using (var committer = new KafkaConsumer<string, string>(new ConsumerOptions { BootstrapServers = broker.BootstrapServers, GroupId = "lag-group" }))
        {
            committer.Assign([new TopicPartition("lagging", 0)]);
            await committer.CommitSyncAsync([new TopicPartitionOffset("lagging", 0, 0)]);
        }
        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["kafka"].Status);
        Assert.Equal(HealthStatus.Healthy, report.Entries["kafka-producer"].Status);
        Assert.Equal(HealthStatus.Healthy, report.Entries["kafka-consumer"].Status);
        Assert.Equal(HealthStatus.Degraded, report.Entries["kafka-consumer-lag"].Status);
        Assert.Equal(3L, report.Entries["kafka-consumer-lag"].Data["lagging-0"]);

        await broker.StopAsync();
        report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.All(report.Entries.Values, e => Assert.Equal(HealthStatus.Unhealthy, e.Status));

        await broker.StartAgainAsync();
        report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["kafka"].Status);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddSamsaBroker_runs_a_broker_for_the_host_lifetime()
    {
        string directory = Path.Combine(Path.GetTempPath(), "samsa-hosted-" + Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSamsaBroker(o => o with { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = directory });
        using var host = builder.Build();
        await host.StartAsync();
        var service = host.Services.GetRequiredService<SamsaBrokerService>();
        await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = service.BootstrapServers }))
            Assert.Single((await admin.DescribeClusterAsync()).Brokers);
        await host.StopAsync();
        Assert.Null(service.Broker);
        Directory.Delete(directory, recursive: true);
    }
}
