// Samsa with OpenTelemetry's console exporter: an in-process broker, a producer whose "send"
// spans travel in the records' traceparent headers, a consumer whose "process" spans continue
// those traces, and the client's and broker's metrics printed once at the end.
//
//   dotnet run --project samples/Samsa.Samples.Telemetry [-- <records>]
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.OpenTelemetry;
using Samsa.Testing;

int count = args.Length > 0 && int.TryParse(args[0], out int n) && n > 0 ? n : 3;

using var tracing = Sdk.CreateTracerProviderBuilder()
    .AddSource("Samsa.Samples.Telemetry")
    .AddSamsaInstrumentation()
    .AddConsoleExporter()
    .Build();
using var metrics = Sdk.CreateMeterProviderBuilder()
    .AddSamsaInstrumentation()
    .AddConsoleExporter()
    .Build();
using var app = new ActivitySource("Samsa.Samples.Telemetry");

await using var broker = await SamsaTestBroker.StartAsync();
await broker.CreateTopicAsync("orders", partitions: 2);

await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers }))
{
    // The application's own span: each send span is its child, and the trace goes on in the consumer.
    using var checkout = app.StartActivity("checkout");
    for (int i = 0; i < count; i++)
        await producer.ProduceAsync("orders", new Message<string, string>($"order-{i}", $"{{\"total\":{i * 10}}}"));
}

var options = new ConsumerOptions { BootstrapServers = broker.BootstrapServers, GroupId = "billing", AutoOffsetReset = AutoOffsetReset.Earliest };
await using (var consumer = new KafkaConsumer<string, string>(options))
{
    consumer.Subscribe("orders");
    int seen = 0;
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    while (seen < count)
    {
        foreach (var record in await consumer.PollAsync(TimeSpan.FromSeconds(1), timeout.Token))
        {
            using var process = ConsumerTelemetry.StartProcess(record, options.GroupId);
            Console.WriteLine($"billing {record.Key} from {record} in trace {process?.TraceId}");
            seen++;
        }
    }
    await consumer.CommitSyncAsync();
}

tracing.ForceFlush();
metrics.ForceFlush();
