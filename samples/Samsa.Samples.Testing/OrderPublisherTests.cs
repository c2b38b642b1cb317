using System.Text;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;
using Samsa.Testing.XunitV3;

namespace Samsa.Samples.Testing;

/// <summary>Unit tests: a hand-written fake of <see cref="IKafkaProducer{TKey, TValue}"/>, no broker.</summary>
public class OrderPublisherUnitTests
{
    [Fact]
    public async Task Publishes_keyed_by_customer_with_the_order_id_header()
    {
        var producer = new RecordingProducer();
        await new OrderPublisher(producer).PublishAsync(new Order("o-1", "alice", 12.5m), TestContext.Current.CancellationToken);

        var (topic, message) = Assert.Single(producer.Sent);
        Assert.Equal("orders", topic);
        Assert.Equal("alice", message.Key);
        Assert.Equal("o-1", Encoding.UTF8.GetString(Assert.Single(message.Headers!).Value!));
    }

    [Fact]
    public async Task Refuses_an_order_without_an_amount_and_sends_nothing()
    {
        var producer = new RecordingProducer();
        await Assert.ThrowsAsync<ArgumentException>(() => new OrderPublisher(producer).PublishAsync(new Order("o-2", "bob", 0), TestContext.Current.CancellationToken));
        Assert.Empty(producer.Sent);
    }

    private sealed class RecordingProducer : IKafkaProducer<string, Order?>
    {
        public List<(string Topic, Message<string, Order?> Message)> Sent { get; } = [];

        public ProducerOptions Options { get; } = new();

        public Task<DeliveryResult> ProduceAsync(string topic, Message<string, Order?> message, CancellationToken cancellationToken = default)
        {
            Sent.Add((topic, message));
            return Task.FromResult(new DeliveryResult(topic, 0, Sent.Count - 1, 0));
        }

        public void Produce(string topic, Message<string, Order?> message, Action<DeliveryReport>? deliveryHandler = null) => throw new NotSupportedException();

        public void Flush(TimeSpan timeout)
        {
        }

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>Integration tests: the real producer and consumer against one in-process broker for the class.</summary>
public class OrderPublisherBrokerTests(SamsaBrokerFixture fixture) : IClassFixture<SamsaBrokerFixture>
{
    private static readonly JsonRecordSerializer<Order> Json = Serializers.Json(AppJson.Default.Order);

    [Fact]
    public async Task Published_orders_read_back_as_json_in_order_per_customer()
    {
        var ct = TestContext.Current.CancellationToken;
        await fixture.Broker.CreateTopicAsync(OrderPublisher.Topic, partitions: 3, cancellationToken: ct);
        await using (var producer = new KafkaProducer<string, Order?>(new ProducerOptions { BootstrapServers = fixture.BootstrapServers }, valueSerializer: Json))
        {
            var publisher = new OrderPublisher(producer);
            for (int i = 0; i < 6; i++)
                await publisher.PublishAsync(new Order($"o-{i}", i % 2 == 0 ? "alice" : "bob", 10 + i), ct);
        }

        var read = await fixture.Broker.ReadAsync<string, Order?>(OrderPublisher.Topic, 6, valueDeserializer: Json, cancellationToken: ct);

        Assert.Equal(["o-0", "o-2", "o-4"], read.Where(r => r.Key == "alice").Select(r => r.Value!.Id));
        Assert.Equal(["o-1", "o-3", "o-5"], read.Where(r => r.Key == "bob").Select(r => r.Value!.Id));
        Assert.All(read, r => Assert.Equal(r.Value!.Id, Encoding.UTF8.GetString(r.Headers.Single(h => h.Key == "order-id").Value!)));
    }

    [Fact]
    public async Task A_consumer_group_commits_what_it_read()
    {
        var ct = TestContext.Current.CancellationToken;
        string topic = SamsaBrokerFixture.UniqueName("payments"), group = SamsaBrokerFixture.UniqueName("billing");
        await fixture.Broker.CreateTopicAsync(topic, partitions: 2, cancellationToken: ct);
        await fixture.Broker.ProduceAsync(topic, [("alice", "1"), ("bob", "2"), ("carol", "3")], ct);

        await using var consumer = new Samsa.Client.Consumer.KafkaConsumer<string, string>(new Samsa.Client.Consumer.ConsumerOptions
        {
            BootstrapServers = fixture.BootstrapServers,
            GroupId = group,
            AutoOffsetReset = Samsa.Client.Consumer.AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        });
        consumer.Subscribe(topic);
        var values = new List<string>();
        await foreach (var record in consumer.ConsumeAsync(ct))
        {
            values.Add(record.Value);
            if (values.Count == 3)
                break;
        }
        await consumer.CommitSyncAsync(cancellationToken: ct);

        Assert.Equal(["1", "2", "3"], values.Order());
        var committed = await fixture.Broker.CommittedOffsetsAsync(group, ct);
        Assert.Equal(3, committed.Sum(p => p.Committed ?? 0));
        Assert.All(committed, p => Assert.Equal(0, p.Lag));
    }
}
