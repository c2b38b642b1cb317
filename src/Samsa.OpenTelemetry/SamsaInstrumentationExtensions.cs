using Samsa.Client.Consumer;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Samsa.OpenTelemetry;

/// <summary>
/// Subscribes OpenTelemetry's providers to Samsa's System.Diagnostics sources: the names are the
/// whole contract, so these only spare an application from spelling them (docs/telemetry.md).
/// </summary>
public static class SamsaInstrumentationExtensions
{
    /// <summary>The client's ActivitySource and Meter: <c>Samsa.Client</c>.</summary>
    public const string ClientName = ConsumerTelemetry.Name;

    /// <summary>The broker's Meter (an in-process <c>SamsaBroker</c>): <c>Samsa.Broker</c>.</summary>
    public const string BrokerMeterName = "Samsa.Broker";

    /// <summary>The producer's "send", the consumer's "poll" and "process" spans.</summary>
    public static TracerProviderBuilder AddSamsaInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(ClientName);
    }

    /// <summary>messaging.client.sent.messages, messaging.client.consumed.messages, messaging.client.operation.duration, and the broker's samsa.* instruments.</summary>
    public static MeterProviderBuilder AddSamsaInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(ClientName, BrokerMeterName);
    }
}
