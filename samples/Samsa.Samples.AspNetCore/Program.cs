using System.Net;
using System.Text.Json.Serialization;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;
using Samsa.Extensions.Hosting;
using Samsa.Samples.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

// Development: a Kafka-compatible broker inside the app (Samsa.Broker), on the port of Samsa:BrokerPort.
// Elsewhere the app talks to whatever Kafka:bootstrap.servers names.
if (builder.Environment.IsDevelopment())
{
    int port = builder.Configuration.GetValue("Samsa:BrokerPort", 9092);
    builder.Services.AddSamsaBroker(o => o with { Listen = new IPEndPoint(IPAddress.Loopback, port), DataDirectory = Path.Combine(Path.GetTempPath(), $"samsa-sample-{port}") });
}

// Orders travel as JSON; the source-generated metadata keeps the app trim- and AOT-friendly.
var orders = Serializers.Json(AppJson.Default.Order);
builder.Services.AddSingleton<ISerializer<Order?>>(orders);
builder.Services.AddSingleton<IDeserializer<Order?>>(orders);

builder.Services.AddKafkaProducer<string, Order?>();
builder.Services.AddKafkaAdminClient(); // also what the broker health check asks with
builder.Services.AddKafkaConsumerWorker<string, Order?, OrderHandler>(o => o.Topics.Add("orders"));
builder.Services.AddSingleton<HandledOrders>();
builder.Services.AddHealthChecks().AddKafkaBroker().AddKafkaConsumer<string, Order?>();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJson.Default));

var app = builder.Build();
app.MapHealthChecks("/healthz");
app.MapPost("/orders", async (Order order, IKafkaProducer<string, Order?> producer, CancellationToken ct) =>
{
    var delivered = await producer.ProduceAsync("orders", new Message<string, Order?>(order.Customer, order), ct);
    return Results.Accepted($"/orders/{order.Id}", new OrderAccepted(delivered.Partition, delivered.Offset));
});
app.MapGet("/orders/handled", (HandledOrders handled) => handled.Snapshot());
app.Run();

namespace Samsa.Samples.AspNetCore
{
    /// <summary>An order as the API takes it and as it travels on the orders topic.</summary>
    public sealed record Order(string Id, string Customer, decimal Amount);

    /// <summary>Where POST /orders put the order.</summary>
    public sealed record OrderAccepted(int Partition, long Offset);

    [JsonSerializable(typeof(Order))]
    [JsonSerializable(typeof(OrderAccepted))]
    [JsonSerializable(typeof(IReadOnlyList<Order>))]
    internal sealed partial class AppJson : JsonSerializerContext;
}
