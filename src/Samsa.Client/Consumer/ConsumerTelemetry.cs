using System.Diagnostics;
using System.Diagnostics.Metrics;
using Samsa.Client.Internal;

namespace Samsa.Client.Consumer;

/// <summary>
/// The client's traces and metrics, producer and consumer alike, under one ActivitySource and
/// one Meter named "Samsa.Client" (<see cref="Name"/>), with the names of OpenTelemetry's
/// messaging conventions for Kafka: subscribe with AddSource("Samsa.Client") and
/// AddMeter("Samsa.Client"), or Samsa.OpenTelemetry's AddSamsaInstrumentation(). Each poll that
/// returns records is a "poll {topic}" span linked to the producers' spans whose contexts the
/// records carry; <see cref="StartProcess{TKey, TValue}"/> continues a record's trace around its
/// processing. docs/telemetry.md lists every name.
/// </summary>
public static class ConsumerTelemetry
{
    /// <summary>The name of the consumer's <c>ActivitySource</c> and <c>Meter</c>: subscribe to it to collect them.</summary>
    public const string Name = ClientTelemetry.Name;

    internal static ActivitySource Source => ClientTelemetry.Source;

    internal static Meter Meter => ClientTelemetry.Meter;

    internal static Counter<long> Consumed => ClientTelemetry.Consumed;

    private static readonly KeyValuePair<string, object?> PollOperation = new("messaging.operation.name", "poll");

    /// <summary>
    /// A "process {topic}" span (kind Consumer) for handling <paramref name="record"/>: the
    /// producer's context from its headers is linked, and is the parent too when no span is
    /// current, so the trace that sent the record goes on; null when nobody listens. Dispose it
    /// when the record is handled.
    /// </summary>
    public static Activity? StartProcess<TKey, TValue>(ConsumeResult<TKey, TValue> record, string? groupId = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!ClientTelemetry.Source.HasListeners())
            return null;
        var producer = ClientTelemetry.Extract(record.Headers);
        var parent = Activity.Current is null ? producer : default;
        ActivityLink[]? links = producer == default ? null : [new ActivityLink(producer)];
        var activity = ClientTelemetry.Source.StartActivity(ClientTelemetry.ProcessName(record.Topic), ActivityKind.Consumer, parent, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", record.Topic);
            activity.SetTag("messaging.destination.partition.id", ClientTelemetry.PartitionId(record.Partition));
            activity.SetTag("messaging.kafka.offset", record.Offset);
            if (groupId is not null)
                activity.SetTag("messaging.consumer.group.name", groupId);
            if (ClientTelemetry.KeyText(record.Key) is { } key)
                activity.SetTag("messaging.kafka.message.key", key);
            if (record.Value is null)
                activity.SetTag("messaging.kafka.message.tombstone", true);
        }
        return activity;
    }

    /// <summary>
    /// One poll that returned records: the consumed counter (per topic and partition), the poll's
    /// duration, and a "poll" span from <paramref name="started"/> (a Stopwatch timestamp) to now.
    /// </summary>
    internal static void Polled<TKey, TValue>(List<ConsumeResult<TKey, TValue>> records, string? groupId, string clientId, long started)
    {
        bool counting = ClientTelemetry.Consumed.Enabled, timing = ClientTelemetry.Duration.Enabled, tracing = ClientTelemetry.Source.HasListeners();
        if (!counting && !timing && !tracing)
            return;
        string? topic = records[0].Topic;
        int partition = records[0].Partition;
        // The counter is split by partition, as the conventions' attributes are: one add per run of records.
        int run = 0;
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            if (i > run && (r.Partition != records[run].Partition || !string.Equals(r.Topic, records[run].Topic, StringComparison.Ordinal)))
            {
                if (counting)
                    ClientTelemetry.Consumed.Add(i - run, Tags(records[run].Topic, records[run].Partition, groupId));
                run = i;
            }
            if (r.Topic != topic)
                topic = null;
            if (r.Partition != partition)
                partition = -1;
        }
        if (counting)
            ClientTelemetry.Consumed.Add(records.Count - run, Tags(records[run].Topic, records[run].Partition, groupId));
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (timing)
        {
            var tags = new TagList { ClientTelemetry.System, PollOperation };
            if (topic is not null)
                tags.Add("messaging.destination.name", topic);
            if (groupId is not null)
                tags.Add("messaging.consumer.group.name", groupId);
            ClientTelemetry.Duration.Record(elapsed.TotalSeconds, tags);
        }
        if (tracing)
            TracePoll(records, topic, topic is null ? -1 : partition, groupId, clientId, elapsed);
    }

    private static void TracePoll<TKey, TValue>(List<ConsumeResult<TKey, TValue>> records, string? topic, int partition, string? groupId, string clientId, TimeSpan elapsed)
    {
        List<ActivityLink>? links = null;
        foreach (var record in records)
        {
            var producer = ClientTelemetry.Extract(record.Headers);
            if (producer != default)
                (links ??= []).Add(new ActivityLink(producer));
        }
        var previous = Activity.Current;
        var activity = ClientTelemetry.Source.StartActivity(topic is null ? "poll" : "poll " + topic, ActivityKind.Client, parentContext: default,
            links: links, startTime: DateTimeOffset.UtcNow - elapsed);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "receive");
            activity.SetTag("messaging.operation.name", "poll");
            activity.SetTag("messaging.client.id", clientId);
            activity.SetTag("messaging.batch.message_count", records.Count);
            if (groupId is not null)
                activity.SetTag("messaging.consumer.group.name", groupId);
            if (topic is not null)
                activity.SetTag("messaging.destination.name", topic);
            if (partition >= 0)
                activity.SetTag("messaging.destination.partition.id", ClientTelemetry.PartitionId(partition));
        }
        activity?.Stop();
        Activity.Current = previous;
    }

    private static TagList Tags(string topic, int partition, string? groupId)
    {
        var tags = new TagList { ClientTelemetry.System, PollOperation, new("messaging.destination.name", topic), new("messaging.destination.partition.id", ClientTelemetry.PartitionId(partition)) };
        if (groupId is not null)
            tags.Add("messaging.consumer.group.name", groupId);
        return tags;
    }
}
