using System.Net.Sockets;
using Confluent.Kafka;
using Samsa.Testing.XunitV3;

namespace Samsa.Testing.Tests;

public class ClassFixtureTests(SamsaBrokerFixture fixture) : IClassFixture<SamsaBrokerFixture>
{
    [Fact]
    public async Task Confluent_Kafka_produces_and_a_group_consumes_and_commits_through_the_fixture()
    {
        var ct = TestContext.Current.CancellationToken;
        string topic = SamsaBrokerFixture.UniqueName("orders"), group = SamsaBrokerFixture.UniqueName("billing");
        await fixture.Broker.CreateTopicAsync(topic, partitions: 2, cancellationToken: ct);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.BootstrapServers }).Build())
        {
            for (int i = 0; i < 6; i++)
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" }, ct);
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = fixture.BootstrapServers,
            GroupId = group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            SessionTimeoutMs = 1000, // below Kafka's default group.min.session.timeout.ms of 6 s: the fixture allows it
            HeartbeatIntervalMs = 200,
        }).Build();
        consumer.Subscribe(topic);
        var values = new List<string>();
        await Task.Run(() =>
        {
            while (values.Count < 6)
            {
                var result = consumer.Consume(ct);
                values.Add(result.Message.Value);
            }
        }, ct);
        consumer.Commit();
        var described = await fixture.Broker.WaitForGroupAsync(group, members: 1, cancellationToken: ct);
        Assert.Equal("Stable", described.State);
        Assert.Equal(2, described.Members[0].Assignment.Count);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"v{i}").Order(), values.Order());
        var committed = await fixture.Broker.CommittedOffsetsAsync(group, ct);
        Assert.Equal(6, committed.Sum(p => p.Committed ?? 0));
        Assert.All(committed, p => Assert.Equal(0, p.Lag));
        consumer.Close();
    }

    [Fact]
    public async Task The_helpers_produce_and_read_back_in_order()
    {
        var ct = TestContext.Current.CancellationToken;
        string topic = SamsaBrokerFixture.UniqueName("events");
        var written = await fixture.Broker.ProduceAsync(topic, [("a", "1"), ("b", "2"), (null, null)], ct);
        Assert.Equal([0L, 1L, 2L], written.Select(r => r.Offset));
        var read = await fixture.Broker.ReadAsync(topic, 3, cancellationToken: ct);
        Assert.Equal(["a", "b", null], read.Select(r => r.Key));
        Assert.Equal(["1", "2", null], read.Select(r => r.Value));
    }

    [Fact]
    public async Task Reading_more_than_was_written_times_out_saying_how_many_arrived()
    {
        var ct = TestContext.Current.CancellationToken;
        string topic = SamsaBrokerFixture.UniqueName("short");
        await fixture.Broker.ProduceAsync(topic, [("k", "v")], ct);
        // The timeout must outlast reading the one record on a loaded machine (1 s did not, on two busy cores).
        var e = await Assert.ThrowsAsync<TimeoutException>(() => fixture.Broker.ReadAsync(topic, 2, timeout: TimeSpan.FromSeconds(5), cancellationToken: ct));
        Assert.Contains("Read 1 of 2", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>Counts brokers started, to show a collection shares one.</summary>
public sealed class CountingFixture : SamsaBrokerFixture
{
    private static int s_started;

    public static int Started => s_started;

    protected override Samsa.Broker.BrokerOptions Configure(Samsa.Broker.BrokerOptions options)
    {
        Interlocked.Increment(ref s_started);
        return options with { NumPartitions = 3 };
    }
}

[CollectionDefinition(Name)]
public sealed class SharedBroker : ICollectionFixture<CountingFixture>
{
    public const string Name = "one broker";
}

[Collection(SharedBroker.Name)]
public class FirstInCollection(CountingFixture fixture)
{
    [Fact]
    public async Task Shares_the_collection_broker_with_its_settings()
    {
        Assert.Equal(1, CountingFixture.Started);
        string topic = SamsaBrokerFixture.UniqueName("auto");
        await fixture.Broker.ProduceAsync(topic, [("k", "v")], TestContext.Current.CancellationToken);
        await using var admin = fixture.Broker.CreateAdminClient();
        var described = await admin.DescribeTopicsAsync([topic], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, described[0].Partitions.Count); // Configure's num.partitions for auto-created topics
    }
}

[Collection(SharedBroker.Name)]
public class SecondInCollection(CountingFixture fixture)
{
    [Fact]
    public void Shares_the_collection_broker()
    {
        Assert.Equal(1, CountingFixture.Started);
        Assert.True(fixture.Broker.IsRunning);
    }
}

public class LifecycleTests
{
    [Fact]
    public async Task Starts_on_an_ephemeral_port_and_disposing_stops_it_and_deletes_its_directory()
    {
        var ct = TestContext.Current.CancellationToken;
        var broker = await SamsaTestBroker.StartAsync(cancellationToken: ct);
        string directory = broker.DataDirectory;
        int port = broker.Broker.Port;
        Assert.NotEqual(9092, port);
        await broker.ProduceAsync("t", [("k", "v")], ct);
        Assert.True(Directory.Exists(directory));
        await broker.DisposeAsync();
        Assert.False(Directory.Exists(directory));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await socket.ConnectAsync("127.0.0.1", port, ct));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Stop_and_start_again_keep_the_port_and_the_data()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await SamsaTestBroker.StartAsync(cancellationToken: ct);
        string bootstrap = broker.BootstrapServers;
        await broker.ProduceAsync("kept", [("k", "v")], ct);
        await broker.StopAsync();
        Assert.False(broker.IsRunning);
        await broker.StartAgainAsync(ct);
        Assert.Equal(bootstrap, broker.BootstrapServers);
        Assert.Equal("v", (await broker.ReadAsync("kept", 1, cancellationToken: ct))[0].Value);
    }

    [Fact]
    public void Test_defaults_have_no_initial_rebalance_delay_and_allow_short_sessions()
    {
        var options = SamsaTestBroker.TestDefaults("/tmp/x");
        Assert.Equal(TimeSpan.Zero, options.GroupInitialRebalanceDelay);
        Assert.True(options.GroupMinSessionTimeout <= TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, options.Listen.Port);
    }
}
