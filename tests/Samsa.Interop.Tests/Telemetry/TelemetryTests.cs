using System.Diagnostics;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Samsa.Client;
using Samsa.Client.Consumer;
using Samsa.Client.Internal;
using Samsa.Client.Internal.Producer;
using Samsa.Client.Producer;
using Samsa.Interop.Tests.Groups;
using Samsa.OpenTelemetry;
using Samsa.Testing;

namespace Samsa.Interop.Tests.Telemetry;

/// <summary>
/// Listeners on an ActivitySource are process-wide, and a listening tracer makes every producer
/// add trace headers: these tests run alone, so no other test's records change under them.
/// </summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>
/// The client's spans and metrics and the broker's metrics, seen through OpenTelemetry's SDK and
/// its in-memory exporter, with the messaging conventions' names (docs/telemetry.md).
/// </summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    private static readonly ActivitySource Test = new("Samsa.Interop.Tests.Telemetry");

    [Fact]
    public async Task A_trace_goes_from_the_producers_send_span_through_the_broker_to_the_consumers_poll_and_process_spans()
    {
        var spans = new List<Activity>();
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Test.Name).AddSamsaInstrumentation().AddInMemoryExporter(spans).Build())
        {
            await using var broker = await SamsaTestBroker.StartAsync();
            await broker.CreateTopicAsync("traced", partitions: 2);
            ActivityContext root;
            await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers, ClientId = "tracing-producer" }))
            {
                using var request = Test.StartActivity("request")!;
                root = request.Context;
                for (int i = 0; i < 3; i++)
                    await producer.ProduceAsync("traced", new Message<string, string>($"k{i}", $"v{i}") { Partition = i % 2 });
                await producer.ProduceAsync("traced", new Message<string, string>("gone", null!) { Partition = 0 });
            }
            var records = await ConsumeAsync(broker.BootstrapServers, "traced", "traced-g", 4, process: true);
            tracing.ForceFlush();

            var sends = spans.Where(s => s.DisplayName == "send traced").ToList();
            Assert.Equal(4, sends.Count);
            foreach (var send in sends)
            {
                Assert.Equal(ActivityKind.Producer, send.Kind);
                Assert.Equal(root.TraceId, send.TraceId);
                Assert.Equal(root.SpanId, send.ParentSpanId);
                Assert.Equal("kafka", send.GetTagItem("messaging.system"));
                Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
                Assert.Equal("send", send.GetTagItem("messaging.operation.name"));
                Assert.Equal("traced", send.GetTagItem("messaging.destination.name"));
                Assert.Equal("tracing-producer", send.GetTagItem("messaging.client.id"));
                Assert.Contains(send.GetTagItem("messaging.destination.partition.id"), new object[] { "0", "1" });
                Assert.IsType<long>(send.GetTagItem("messaging.kafka.offset"));
                Assert.Equal(ActivityStatusCode.Unset, send.Status);
            }
            Assert.Equal(["gone", "k0", "k1", "k2"], sends.Select(s => (string)s.GetTagItem("messaging.kafka.message.key")!).Order());
            Assert.Equal(true, sends.Single(s => (string)s.GetTagItem("messaging.kafka.message.key")! == "gone").GetTagItem("messaging.kafka.message.tombstone"));

            // Each record carries its own send span's context, W3C style.
            foreach (var record in records)
            {
                var send = sends.Single(s => (string)s.GetTagItem("messaging.kafka.message.key")! == record.Key);
                Assert.Equal((long)record.Offset, send.GetTagItem("messaging.kafka.offset"));
                var header = Assert.Single(record.Headers, h => h.Key == "traceparent");
                Assert.Equal($"00-{send.TraceId}-{send.SpanId}-01", Encoding.UTF8.GetString(header.Value!));
            }

            var polls = spans.Where(s => s.DisplayName.StartsWith("poll", StringComparison.Ordinal) && s.Source.Name == ConsumerTelemetry.Name).ToList();
            Assert.NotEmpty(polls);
            Assert.All(polls, p =>
            {
                Assert.Equal(ActivityKind.Client, p.Kind);
                Assert.Equal("receive", p.GetTagItem("messaging.operation.type"));
                Assert.Equal("poll", p.GetTagItem("messaging.operation.name"));
                Assert.Equal("traced-g", p.GetTagItem("messaging.consumer.group.name"));
            });
            Assert.Equal(4, polls.Sum(p => (int)p.GetTagItem("messaging.batch.message_count")!));
            var linked = polls.SelectMany(p => p.Links).Select(l => l.Context.SpanId).ToHashSet();
            Assert.True(sends.All(s => linked.Contains(s.SpanId)), "every send span is linked from the poll that returned its record");

            var processes = spans.Where(s => s.DisplayName == "process traced").ToList();
            Assert.Equal(4, processes.Count);
            foreach (var process in processes)
            {
                var send = sends.Single(s => Equals(s.GetTagItem("messaging.kafka.offset"), process.GetTagItem("messaging.kafka.offset"))
                    && Equals(s.GetTagItem("messaging.destination.partition.id"), process.GetTagItem("messaging.destination.partition.id")));
                Assert.Equal(ActivityKind.Consumer, process.Kind);
                Assert.Equal(root.TraceId, process.TraceId);
                Assert.Equal(send.SpanId, process.ParentSpanId);
                Assert.Equal(send.SpanId, Assert.Single(process.Links).Context.SpanId);
                Assert.Equal("process", process.GetTagItem("messaging.operation.type"));
                Assert.Equal("traced-g", process.GetTagItem("messaging.consumer.group.name"));
            }
        }
    }

    [Fact]
    public async Task A_failed_send_ends_its_span_with_the_error_and_counts_it_with_error_type()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSamsaInstrumentation().AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddSamsaInstrumentation().AddInMemoryExporter(metrics).Build();
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.CreateTopicAsync("failing", partitions: 1);
        await using var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers });
        await Assert.ThrowsAnyAsync<KafkaException>(() => producer.ProduceAsync("failing", new Message<string, string>("k", "v") { Partition = 5 }));
        tracing.ForceFlush();
        meters.ForceFlush();

        var send = Assert.Single(spans, s => s.DisplayName == "send failing");
        Assert.Equal(ActivityStatusCode.Error, send.Status);
        Assert.Equal("UNKNOWN_TOPIC_OR_PARTITION", send.GetTagItem("error.type"));
        Assert.Equal(1, Sum(metrics, "messaging.client.sent.messages", ("messaging.destination.name", "failing"), ("error.type", "UNKNOWN_TOPIC_OR_PARTITION")));
    }

    [Fact]
    public async Task Client_metrics_count_sent_and_consumed_records_and_time_send_and_poll()
    {
        var metrics = new List<Metric>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddSamsaInstrumentation().AddInMemoryExporter(metrics).Build();
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.CreateTopicAsync("metered", partitions: 2);
        await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers }))
        {
            for (int i = 0; i < 10; i++)
                await producer.ProduceAsync("metered", new Message<string, string>($"k{i}", "v") { Partition = i % 2 });
        }
        await ConsumeAsync(broker.BootstrapServers, "metered", "metered-g", 10, process: false);
        meters.ForceFlush();

        Assert.Equal(10, Sum(metrics, "messaging.client.sent.messages", ("messaging.destination.name", "metered"), ("messaging.operation.name", "send"), ("messaging.system", "kafka")));
        Assert.Equal(5, Sum(metrics, "messaging.client.sent.messages", ("messaging.destination.name", "metered"), ("messaging.destination.partition.id", "1")));
        Assert.Equal(10, Sum(metrics, "messaging.client.sent.messages", ("messaging.destination.name", "metered"), ("error.type", null))); // none failed
        Assert.Equal(10, Sum(metrics, "messaging.client.consumed.messages", ("messaging.destination.name", "metered"), ("messaging.consumer.group.name", "metered-g"), ("messaging.operation.name", "poll")));
        Assert.Equal(10, HistogramCount(metrics, "messaging.client.operation.duration", ("messaging.destination.name", "metered"), ("messaging.operation.name", "send")));
        Assert.True(HistogramCount(metrics, "messaging.client.operation.duration", ("messaging.consumer.group.name", "metered-g"), ("messaging.operation.name", "poll")) >= 1);
        Assert.Equal("s", metrics.Single(m => m.Name == "messaging.client.operation.duration").Unit);
    }

    [Fact]
    public async Task Broker_metrics_count_requests_by_api_bytes_latency_rebalances_and_lag()
    {
        var metrics = new List<Metric>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddSamsaInstrumentation().AddInMemoryExporter(metrics).Build();
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.CreateTopicAsync("brokered", partitions: 1);
        await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers }))
        {
            for (int i = 0; i < 5; i++)
                await producer.ProduceAsync("brokered", new Message<string, string>($"k{i}", "v"));
        }
        // Commit 3 of 5: the group's lag on the partition is 2.
        await using (var consumer = new KafkaConsumer<string, string>(Options(broker.BootstrapServers, "brokered-g")))
        {
            consumer.Subscribe("brokered");
            await PollUntil(consumer, 5);
            await consumer.CommitSyncAsync([new TopicPartitionOffset("brokered", 0, 3)]);
        }
        // The rebalance meter reads the coordinator's changes on its own task.
        await Eventually.True(() =>
        {
            metrics.Clear();
            meters.ForceFlush();
            return Sum(metrics, "samsa.group.rebalances", ("group", "brokered-g"), ("type", "classic")) >= 1;
        }, "the group's first rebalance is counted");

        Assert.True(Sum(metrics, "samsa.broker.requests", ("api", "Produce"), ("error", "NONE")) >= 5);
        Assert.True(Sum(metrics, "samsa.broker.requests", ("api", "Fetch")) >= 1);
        Assert.True(Sum(metrics, "samsa.broker.requests", ("api", "JoinGroup")) >= 1);
        Assert.True(Sum(metrics, "samsa.broker.network.received") > 0);
        Assert.True(Sum(metrics, "samsa.broker.network.sent") > 0);
        Assert.True(HistogramCount(metrics, "samsa.broker.request.duration", ("api", "Produce")) >= 5);
        Assert.True(HistogramCount(metrics, "samsa.broker.request.duration", ("api", "Fetch")) >= 1);
        Assert.True(HistogramCount(metrics, "samsa.group.rebalance.duration", ("group", "brokered-g")) >= 1);
        Assert.Equal(2, Gauge(metrics, "samsa.group.lag", ("group", "brokered-g"), ("topic", "brokered"), ("partition", 0)));
    }

    [Fact]
    public async Task With_nothing_listening_the_producer_adds_no_header_and_allocates_nothing_for_telemetry()
    {
        Assert.False(ClientTelemetry.Source.HasListeners(), "no tracer is left over from another test");
        List<(string Key, byte[]? Value)>? headers = null;
        ProducerTelemetry.StartSend("quiet", "key", false, "client", ref headers); // first call: static initialisation
        long before = GC.GetAllocatedBytesForCurrentThread();
        var activity = ProducerTelemetry.StartSend("quiet", "key", false, "client", ref headers);
        long started = ProducerTelemetry.Started();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Null(activity);
        Assert.Null(headers);
        Assert.Equal(0, started);
        Assert.Equal(0, allocated);

        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.CreateTopicAsync("quiet", partitions: 1);
        await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers }))
        {
            await producer.ProduceAsync("quiet", new Message<string, string>("plain", "v"));
            await producer.ProduceAsync("quiet", new Message<string, string>("own", "v") { Headers = [new Header("app", [1])] });
        }
        var records = await broker.ReadAsync("quiet", 2);
        Assert.Empty(records[0].Headers);
        Assert.Equal("app", Assert.Single(records[1].Headers).Key);
    }

    [Fact]
    public void The_extension_methods_subscribe_to_the_names_the_client_and_broker_use()
    {
        Assert.Equal("Samsa.Client", SamsaInstrumentationExtensions.ClientName);
        Assert.Equal(ConsumerTelemetry.Name, ClientTelemetry.Source.Name);
        Assert.Equal(ConsumerTelemetry.Name, ClientTelemetry.Meter.Name);
        Assert.Equal("Samsa.Broker", SamsaInstrumentationExtensions.BrokerMeterName);
    }

    private static ConsumerOptions Options(string bootstrap, string group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
    };

    private static async Task<List<ConsumeResult<string, string>>> ConsumeAsync(string bootstrap, string topic, string group, int count, bool process)
    {
        await using var consumer = new KafkaConsumer<string, string>(Options(bootstrap, group));
        consumer.Subscribe(topic);
        var received = await PollUntil(consumer, count, record =>
        {
            if (process)
                ConsumerTelemetry.StartProcess(record, group)?.Dispose();
        });
        return received;
    }

    private static Task<List<ConsumeResult<string, string>>> PollUntil(KafkaConsumer<string, string> consumer, int count) => PollUntil(consumer, count, _ => { });

    private static async Task<List<ConsumeResult<string, string>>> PollUntil(KafkaConsumer<string, string> consumer, int count, Action<ConsumeResult<string, string>> each)
    {
        var received = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (received.Count < count)
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Received {received.Count} of {count} records.");
            foreach (var record in await consumer.PollAsync(TimeSpan.FromMilliseconds(200)))
            {
                each(record);
                received.Add(record);
            }
        }
        return received;
    }

    private static IEnumerable<MetricPoint> Points(List<Metric> metrics, string name, (string Key, object? Value)[] tags)
    {
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                if (Matches(point, tags))
                    yield return point;
            }
        }
    }

    /// <summary>A tag with value null must be absent from the point.</summary>
    private static bool Matches(MetricPoint point, (string Key, object? Value)[] wanted)
    {
        var have = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
            have[tag.Key] = tag.Value;
        return wanted.All(w => w.Value is null ? !have.ContainsKey(w.Key) : have.TryGetValue(w.Key, out var v) && Equals(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture), Convert.ToString(w.Value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static long Sum(List<Metric> metrics, string name, params (string Key, object? Value)[] tags) =>
        Points(metrics, name, tags).Sum(p => p.GetSumLong());

    private static long HistogramCount(List<Metric> metrics, string name, params (string Key, object? Value)[] tags) =>
        Points(metrics, name, tags).Sum(p => p.GetHistogramCount());

    private static long Gauge(List<Metric> metrics, string name, params (string Key, object? Value)[] tags) =>
        Points(metrics, name, tags).Select(p => p.GetGaugeLastValueLong()).Single();
}
