using System.Net;
using System.Text.Json.Serialization;
using Samsa.Broker;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;

// A broker in this process on an ephemeral port, a topic, 100 JSON orders produced and read back by a
// consumer group. Exits non-zero if any order is missing or different.
const int Count = 100;
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var ct = timeout.Token;
string data = Path.Combine(Path.GetTempPath(), "samsa-aot-" + Guid.NewGuid().ToString("N"));
try
{
    await using var broker = await SamsaBroker.StartAsync(new BrokerOptions
    {
        Listen = new IPEndPoint(IPAddress.Loopback, 0),
        DataDirectory = data,
        GroupInitialRebalanceDelay = TimeSpan.Zero,
    }, cancellationToken: ct);

    await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = broker.BootstrapServers }))
        await admin.CreateTopicsAsync([new NewTopic("orders", Partitions: 3)], cancellationToken: ct);

    // Source-generated JSON metadata: no reflection, so the serializer is as AOT-safe as the client.
    var orders = Serializers.Json(SampleJson.Default.Order);
    await using (var producer = new KafkaProducer<string, Order?>(new ProducerOptions { BootstrapServers = broker.BootstrapServers }, valueSerializer: orders))
    {
        for (int i = 0; i < Count; i++)
            await producer.ProduceAsync("orders", new Message<string, Order?>($"customer-{i % 7}", new Order(i, $"item-{i}", i * 1.5m)), ct);
    }

    var seen = new Dictionary<int, Order>();
    await using (var consumer = new KafkaConsumer<string, Order?>(new ConsumerOptions
    {
        BootstrapServers = broker.BootstrapServers,
        GroupId = "aot-sample",
        AutoOffsetReset = AutoOffsetReset.Earliest,
    }, valueDeserializer: Deserializers.Json(SampleJson.Default.Order)))
    {
        consumer.Subscribe("orders");
        await foreach (var record in consumer.ConsumeAsync(ct))
        {
            if (record.Value is { } order)
                seen[order.Id] = order;
            if (seen.Count == Count)
                break;
        }
        await consumer.CommitSyncAsync(cancellationToken: ct);
    }

    for (int i = 0; i < Count; i++)
    {
        if (!seen.TryGetValue(i, out var order) || order != new Order(i, $"item-{i}", i * 1.5m))
        {
            Console.Error.WriteLine($"order {i} was not read back as written");
            return 1;
        }
    }
    Console.WriteLine($"aot sample: produced and consumed {Count} orders through {broker.BootstrapServers}");
    return 0;
}
finally
{
    if (Directory.Exists(data))
        Directory.Delete(data, recursive: true);
}

internal sealed record Order(int Id, string Item, decimal Amount);

[JsonSerializable(typeof(Order))]
internal sealed partial class SampleJson : JsonSerializerContext;
