using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Metrics;

/// <summary>
/// The broker's instruments (System.Diagnostics.Metrics): exported by the web console's /metrics,
/// or by any OpenTelemetry MeterProvider that adds the meter "Samsa.Broker" (docs/telemetry.md
/// lists the names). One meter per broker, disposed with it. Recording on the
/// request path is a counter add with tags taken from arrays built once: no allocation, and next to
/// nothing when no listener is attached (the console is off).
/// </summary>
internal sealed class BrokerMetrics : IDisposable
{
    public const string MeterName = "Samsa.Broker";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _requests;
    private readonly Counter<long> _partitionErrors;
    private readonly Counter<long> _received;
    private readonly Counter<long> _sent;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rebalances;
    private readonly Histogram<double> _rebalanceDuration;
    private RebalanceMeter? _rebalanceMeter;
    private readonly KeyValuePair<string, object?>[] _apiTags;
    private readonly KeyValuePair<string, object?>[] _errorTags;
    private readonly KeyValuePair<string, object?> _otherError = new("error", "OTHER");

    public BrokerMetrics()
    {
        _requests = _meter.CreateCounter<long>("samsa.broker.requests", "{request}", "Requests handled, by api and the response's top-level error code (NONE where a response has none).");
        _partitionErrors = _meter.CreateCounter<long>("samsa.broker.partition.errors", "{error}", "Partition-level errors of Produce and Fetch responses, by api and error code.");
        _received = _meter.CreateCounter<long>("samsa.broker.network.received", "By", "Request bytes read from clients, size prefixes included.");
        _sent = _meter.CreateCounter<long>("samsa.broker.network.sent", "By", "Response bytes written to clients, size prefixes included.");
        _duration = _meter.CreateHistogram("samsa.broker.request.duration", "s",
            "From a request's decoding to its response being ready, by api (a fetch's wait for data included, as Kafka's TotalTimeMs).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _rebalances = _meter.CreateCounter<long>("samsa.group.rebalances", "{rebalance}", "Completed rebalances, by group and group type.");
        _rebalanceDuration = _meter.CreateHistogram<double>("samsa.group.rebalance.duration", "s", "From a rebalance's start (classic: PreparingRebalance; consumer: a new group epoch) to Stable.");
        _apiTags = new KeyValuePair<string, object?>[Enum.GetValues<ApiKey>().Max(k => (int)k) + 1];
        foreach (var key in Enum.GetValues<ApiKey>())
            _apiTags[(int)key] = new("api", key.ToString());
        // Index = code + 1, so UNKNOWN_SERVER_ERROR (-1) is slot 0.
        _errorTags = new KeyValuePair<string, object?>[Enum.GetValues<ErrorCode>().Max(e => (int)e) + 2];
        foreach (var code in Enum.GetValues<ErrorCode>())
            _errorTags[(int)code + 1] = new("error", KafkaName(code));
    }

    /// <summary>
    /// The instruments that read broker state: gauges over topics and groups, and the rebalance
    /// meter's reader of the coordinator's changes. Called once, when the broker is assembled.
    /// </summary>
    public void Attach(TopicManager topics, GroupCoordinator groups, TimeProvider time, ILogger logger)
    {
        BrokerGauges.Register(this, topics, groups);
        _rebalanceMeter = new RebalanceMeter(this, groups.Events, time, logger);
    }

    /// <summary>Counts one handled request (<paramref name="started"/>: a Stopwatch timestamp); partition errors too for the two apis whose errors live there.</summary>
    public void Request(ApiKey api, IResponse response, long started)
    {
        if (_duration.Enabled)
            _duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, ApiTag(api));
        if (!_requests.Enabled)
            return;
        var apiTag = ApiTag(api);
        _requests.Add(1, apiTag, ErrorTag(ResponseErrors.TopLevel(api, response)));
        switch (response)
        {
            case FetchResponse fetch:
                foreach (var t in fetch.Responses)
                {
                    foreach (var p in t.Partitions)
                    {
                        if (p.ErrorCode != ErrorCode.None)
                            _partitionErrors.Add(1, apiTag, ErrorTag(p.ErrorCode));
                    }
                }
                break;
            case ProduceResponse produce:
                foreach (var t in produce.Responses)
                {
                    foreach (var p in t.PartitionResponses)
                    {
                        if (p.ErrorCode != ErrorCode.None)
                            _partitionErrors.Add(1, apiTag, ErrorTag(p.ErrorCode));
                    }
                }
                break;
        }
    }

    public void Rebalanced(string group, string type, double seconds)
    {
        var groupTag = new KeyValuePair<string, object?>("group", group);
        var typeTag = new KeyValuePair<string, object?>("type", type);
        _rebalances.Add(1, groupTag, typeTag);
        _rebalanceDuration.Record(seconds, groupTag, typeTag);
    }

    public void Received(long bytes) => _received.Add(bytes);

    public void Sent(long bytes) => _sent.Add(bytes);

    /// <summary>Gauges read when /metrics is scraped (partition counts, lag): the callback runs on the scraping thread.</summary>
    public void ObserveGauge(string name, string? unit, string description, Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    private KeyValuePair<string, object?> ApiTag(ApiKey api) =>
        (uint)api < (uint)_apiTags.Length && _apiTags[(int)api].Key is not null ? _apiTags[(int)api] : new("api", "OTHER");

    private KeyValuePair<string, object?> ErrorTag(ErrorCode code)
    {
        int slot = (int)code + 1;
        return (uint)slot < (uint)_errorTags.Length && _errorTags[slot].Key is not null ? _errorTags[slot] : _otherError;
    }

    /// <summary>UnknownTopicOrPartition → UNKNOWN_TOPIC_OR_PARTITION, the names Kafka's metrics and docs use.</summary>
    internal static string KafkaName(ErrorCode code)
    {
        string name = code.ToString();
        var text = new System.Text.StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1]))
                text.Append('_');
            text.Append(char.ToUpperInvariant(name[i]));
        }
        return text.ToString();
    }

    public void Dispose()
    {
        _rebalanceMeter?.Dispose();
        _meter.Dispose();
    }
}
