using Samsa.Client.Consumer;
using Samsa.Extensions.Hosting;

namespace Samsa.Samples.AspNetCore;

/// <summary>
/// Handles each order the worker reads from the orders topic (one handler per poll: it is scoped, so it may
/// take a DbContext). Throwing follows the worker's error policy; returning counts the record as handled, and
/// the worker commits it after the poll.
/// </summary>
public sealed class OrderHandler(HandledOrders handled, ILogger<OrderHandler> log) : IKafkaRecordHandler<string, Order?>
{
    /// <inheritdoc />
    public ValueTask HandleAsync(ConsumeResult<string, Order?> record, CancellationToken cancellationToken)
    {
        if (record.Value is { } order)
        {
            handled.Add(order);
            log.LogInformation("Order {Id} for {Customer} handled from {Partition}@{Offset}", order.Id, order.Customer, record.Partition, record.Offset);
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>What the handler has seen, for GET /orders/handled (an app would write to its database).</summary>
public sealed class HandledOrders
{
    private readonly Lock _lock = new();
    private readonly List<Order> _orders = [];

    /// <summary>Records one handled order.</summary>
    public void Add(Order order)
    {
        lock (_lock)
            _orders.Add(order);
    }

    /// <summary>The orders handled so far, in the order they were handled.</summary>
    public IReadOnlyList<Order> Snapshot()
    {
        lock (_lock)
            return [.. _orders];
    }
}
