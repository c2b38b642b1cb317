using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Samsa.Client.Consumer;

/// <summary>
/// Metrics and traces under the name "Samsa.Client", with OpenTelemetry's messaging attribute
/// names: subscribe with AddMeter("Samsa.Client") / AddSource("Samsa.Client").
/// </summary>
public static class ConsumerTelemetry
{
    /// <summary>The name of the consumer's <c>ActivitySource</c> and <c>Meter</c>: subscribe to it to collect them.</summary>
    public const string Name = "Samsa.Client";

    internal static readonly ActivitySource Source = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Consumed = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}", "Records returned by poll.");
}
