using System.Text.Json.Serialization;
using Samsa.Client;
using Samsa.Client.Producer;

namespace Samsa.Samples.Testing;

/// <summary>An order, as the application publishes it.</summary>
public sealed record Order(string Id, string Customer, decimal Amount);

[JsonSerializable(typeof(Order))]
internal sealed partial class AppJson : JsonSerializerContext;

/// <summary>
/// The application code under test: it depends on <see cref="IKafkaProducer{TKey, TValue}"/>, not on the
/// concrete producer, so a unit test can pass a fake and an integration test a real producer.
/// </summary>
public sealed class OrderPublisher(IKafkaProducer<string, Order?> producer)
{
    /// <summary>The topic orders go to.</summary>
    public const string Topic = "orders";

    /// <summary>Publishes an order keyed by customer (so one customer's orders stay in order) with its id in a header.</summary>
    public async Task<long> PublishAsync(Order order, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (order.Amount <= 0)
            throw new ArgumentException($"Order {order.Id}: the amount must be positive, got {order.Amount}.", nameof(order));
        var delivered = await producer.ProduceAsync(Topic, new Message<string, Order?>(order.Customer, order)
        {
            Headers = [new Header("order-id", System.Text.Encoding.UTF8.GetBytes(order.Id))],
        }, cancellationToken);
        return delivered.Offset;
    }
}
