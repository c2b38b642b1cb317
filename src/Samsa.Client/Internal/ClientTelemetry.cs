using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;

namespace Samsa.Client.Internal;

/// <summary>
/// The client's one ActivitySource and Meter ("Samsa.Client"), shared by producer and consumer,
/// with the names of OpenTelemetry's messaging conventions for Kafka (the messaging.* /
/// messaging.kafka.* generation, v1.27 to v1.44). Everything here is checked behind
/// HasListeners/Enabled, so a process that listens to nothing pays a branch per operation.
/// </summary>
internal static class ClientTelemetry
{
    public const string Name = "Samsa.Client";

    public static readonly ActivitySource Source = new(Name, typeof(ClientTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(ClientTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> Sent = Meter.CreateCounter<long>("messaging.client.sent.messages", "{message}",
        "Records the producer finished sending, delivered or failed (error.type names the failure).");

    public static readonly Counter<long> Consumed = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}",
        "Records returned by poll.");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram("messaging.client.operation.duration", "s",
        "send: from a record's produce call to its acknowledgement or failure; poll: from the call to its return, for polls that returned records.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });

    public static readonly KeyValuePair<string, object?> System = new("messaging.system", "kafka");

    public const string TraceParent = "traceparent";

    // Partition ids are strings in the conventions: made once per number, not per record.
    private static readonly string[] PartitionIds = [.. Enumerable.Range(0, 256).Select(i => i.ToString(global::System.Globalization.CultureInfo.InvariantCulture))];

    private static readonly ConcurrentDictionary<string, string> SendNames = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> ProcessNames = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<Samsa.Protocol.ErrorCode, string> ErrorNames = new();

    /// <summary>error.type: Kafka's name of the error code (KAFKA_STORAGE_ERROR), or the exception's type for a failure that has none.</summary>
    public static string ErrorType(Exception error) =>
        error is KafkaException kafka
            ? ErrorNames.GetOrAdd(kafka.Error, static code => KafkaName(code))
            : error.GetType().FullName ?? "_OTHER";

    private static string KafkaName(Samsa.Protocol.ErrorCode code)
    {
        string name = code.ToString();
        var text = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1]))
                text.Append('_');
            text.Append(char.ToUpperInvariant(name[i]));
        }
        return text.ToString();
    }

    public static string PartitionId(int partition) =>
        (uint)partition < (uint)PartitionIds.Length ? PartitionIds[partition] : partition.ToString(global::System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"send {topic}": the conventions' {operation} {destination}, made once per topic.</summary>
    public static string SendName(string topic) => SendNames.Count < 4096 ? SendNames.GetOrAdd(topic, static t => "send " + t) : "send " + topic;

    public static string ProcessName(string topic) => ProcessNames.Count < 4096 ? ProcessNames.GetOrAdd(topic, static t => "process " + t) : "process " + topic;

    /// <summary>A record key's attribute value: strings only; other keys have no canonical text form.</summary>
    public static string? KeyText<TKey>(TKey key) => key as string;

    /// <summary>Writes the activity's W3C context (traceparent, tracestate, baggage) into a record's headers.</summary>
    public static void Inject(Activity activity, List<(string Key, byte[]? Value)> headers) =>
        DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, name, value) =>
        {
            var list = (List<(string Key, byte[]? Value)>)carrier!;
            for (int i = 0; i < list.Count; i++)
            {
                if (string.Equals(list[i].Key, name, StringComparison.OrdinalIgnoreCase))
                    return; // the application set its own: keep it
            }
            list.Add((name, Encoding.UTF8.GetBytes(value)));
        });

    /// <summary>The producer's context a record carries, or default when it carries none (or a malformed one).</summary>
    public static ActivityContext Extract(IReadOnlyList<Header> headers)
    {
        if (headers.Count == 0)
            return default;
        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (object? carrier, string name, out string? value, out IEnumerable<string>? values) =>
        {
            values = null;
            value = null;
            var list = (IReadOnlyList<Header>)carrier!;
            // The last header of a name wins, as Kafka's lastHeader.
            for (int i = list.Count - 1; i >= 0; i--)
            {
                if (string.Equals(list[i].Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = list[i].Value is { } bytes ? Encoding.UTF8.GetString(bytes) : null;
                    return;
                }
            }
        }, out string? traceParent, out string? traceState);
        return traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }
}
