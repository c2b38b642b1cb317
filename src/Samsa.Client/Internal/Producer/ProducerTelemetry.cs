using System.Diagnostics;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// The producer's side of <see cref="ClientTelemetry"/>: one "send {topic}" span (kind Producer)
/// per record, from the produce call to its acknowledgement or failure, whose context travels in
/// the record's traceparent/tracestate headers; messaging.client.sent.messages per finished batch
/// and messaging.client.operation.duration per record. With no listener nothing is started, no
/// header is added and no timestamp is read.
/// </summary>
internal static class ProducerTelemetry
{
    private static readonly KeyValuePair<string, object?> SendOperation = new("messaging.operation.name", "send");

    /// <summary>The span for one record, its context injected into <paramref name="headers"/>; null when nobody listens.</summary>
    public static Activity? StartSend<TKey>(string topic, TKey key, bool tombstone, string clientId, ref List<(string Key, byte[]? Value)>? headers)
    {
        if (!ClientTelemetry.Source.HasListeners())
            return null;
        var activity = ClientTelemetry.Source.StartActivity(ClientTelemetry.SendName(topic), ActivityKind.Producer);
        if (activity is null)
            return null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "send");
            activity.SetTag("messaging.destination.name", topic);
            activity.SetTag("messaging.client.id", clientId);
            if (ClientTelemetry.KeyText(key) is { } text)
                activity.SetTag("messaging.kafka.message.key", text);
            if (tombstone)
                activity.SetTag("messaging.kafka.message.tombstone", true);
        }
        headers ??= new List<(string Key, byte[]? Value)>(2);
        ClientTelemetry.Inject(activity, headers);
        return activity;
    }

    /// <summary>When the operation started, for the duration histogram; 0 (not measured) while it is off.</summary>
    public static long Started() => ClientTelemetry.Duration.Enabled ? Stopwatch.GetTimestamp() : 0;

    public static void Partitioned(Activity? activity, int partition)
    {
        if (activity is { IsAllDataRequested: true })
            activity.SetTag("messaging.destination.partition.id", ClientTelemetry.PartitionId(partition));
    }

    /// <summary>A record that never reached a batch: its span ends with the error.</summary>
    public static void Abandoned(Activity? activity, string topic, long started, Exception error)
    {
        if (activity is null && started == 0 && !ClientTelemetry.Sent.Enabled)
            return;
        var tags = Tags(topic, null, ClientTelemetry.ErrorType(error));
        ClientTelemetry.Sent.Add(1, tags);
        if (started != 0)
            ClientTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        Stop(activity, -1, error);
    }

    /// <summary>A batch acknowledged (error null, offsets from <paramref name="baseOffset"/>) or failed.</summary>
    public static void Finished(ProducerBatch batch, long baseOffset, Exception? error)
    {
        var records = batch.Records;
        bool any = ClientTelemetry.Sent.Enabled;
        for (int i = 0; i < records.Count && !any; i++)
            any = records[i].Activity is not null || records[i].Started != 0;
        if (!any)
            return;
        var tags = Tags(batch.Topic, ClientTelemetry.PartitionId(batch.Partition), error is null ? null : ClientTelemetry.ErrorType(error));
        ClientTelemetry.Sent.Add(records.Count, tags);
        // The sender's own context must not change with the spans it ends.
        var current = Activity.Current;
        for (int i = 0; i < records.Count; i++)
        {
            var pending = records[i];
            if (pending.Started != 0)
                ClientTelemetry.Duration.Record(Stopwatch.GetElapsedTime(pending.Started).TotalSeconds, tags);
            Stop(pending.Activity, baseOffset < 0 ? -1 : baseOffset + i, error);
        }
        Activity.Current = current;
    }

    private static TagList Tags(string topic, string? partition, string? errorType)
    {
        var tags = new TagList { ClientTelemetry.System, SendOperation, new("messaging.destination.name", topic) };
        if (partition is not null)
            tags.Add("messaging.destination.partition.id", partition);
        if (errorType is not null)
            tags.Add("error.type", errorType);
        return tags;
    }

    private static void Stop(Activity? activity, long offset, Exception? error)
    {
        if (activity is null)
            return;
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.SetTag("error.type", ClientTelemetry.ErrorType(error));
        }
        else if (offset >= 0)
        {
            activity.SetTag("messaging.kafka.offset", offset);
        }
        activity.Stop();
    }
}
