using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Samsa.Extensions.Hosting;
using Samsa.Extensions.Hosting.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Health checks (Microsoft.Extensions.Diagnostics.HealthChecks) for the clients registered with
/// <see cref="KafkaServiceCollectionExtensions"/>: can each reach its cluster, and how far behind is the
/// consumer's group. Each check asks through one admin client per bootstrap.servers, kept between runs.
/// </summary>
public static class KafkaHealthChecksBuilderExtensions
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The cluster of <c>AddKafkaAdminClient</c>'s settings answers (registered as <paramref name="name"/>).</summary>
    public static IHealthChecksBuilder AddKafkaBroker(this IHealthChecksBuilder builder, string name = "kafka", TimeSpan? timeout = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null) =>
        Add(builder, name, failureStatus, tags, sp =>
        {
            var settings = sp.GetRequiredService<IOptions<KafkaAdminSettings>>();
            return new KafkaBrokerHealthCheck(sp.GetRequiredService<HealthCheckAdminClients>(), () => settings.Value.Options.BootstrapServers, timeout ?? DefaultTimeout, "broker");
        });

    /// <summary>The cluster of <c>AddKafkaProducer&lt;TKey, TValue&gt;</c>'s settings answers.</summary>
    public static IHealthChecksBuilder AddKafkaProducer<TKey, TValue>(this IHealthChecksBuilder builder, string name = "kafka-producer", TimeSpan? timeout = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null) =>
        Add(builder, name, failureStatus, tags, sp =>
        {
            var settings = sp.GetRequiredService<IOptions<KafkaProducerSettings<TKey, TValue>>>();
            return new KafkaBrokerHealthCheck(sp.GetRequiredService<HealthCheckAdminClients>(), () => settings.Value.Options.BootstrapServers, timeout ?? DefaultTimeout, "producer");
        });

    /// <summary>The cluster of <c>AddKafkaConsumer&lt;TKey, TValue&gt;</c>'s settings answers.</summary>
    public static IHealthChecksBuilder AddKafkaConsumer<TKey, TValue>(this IHealthChecksBuilder builder, string name = "kafka-consumer", TimeSpan? timeout = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null) =>
        Add(builder, name, failureStatus, tags, sp =>
        {
            var settings = sp.GetRequiredService<IOptions<KafkaConsumerSettings<TKey, TValue>>>();
            return new KafkaBrokerHealthCheck(sp.GetRequiredService<HealthCheckAdminClients>(), () => settings.Value.Options.BootstrapServers, timeout ?? DefaultTimeout, "consumer");
        });

    /// <summary>
    /// The group of <c>AddKafkaConsumer&lt;TKey, TValue&gt;</c>'s settings is at most <paramref name="maxLag"/>
    /// records behind in total (committed offsets against log ends): Degraded above it, the failure status
    /// when the cluster does not answer. The data holds the lag per partition.
    /// </summary>
    public static IHealthChecksBuilder AddKafkaConsumerLag<TKey, TValue>(this IHealthChecksBuilder builder, long maxLag, string name = "kafka-consumer-lag", TimeSpan? timeout = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null) =>
        Add(builder, name, failureStatus, tags, sp =>
        {
            var settings = sp.GetRequiredService<IOptions<KafkaConsumerSettings<TKey, TValue>>>();
            return new KafkaConsumerLagHealthCheck(sp.GetRequiredService<HealthCheckAdminClients>(), () => (settings.Value.Options.BootstrapServers, settings.Value.Options.GroupId), maxLag, timeout ?? DefaultTimeout);
        });

    private static IHealthChecksBuilder Add(IHealthChecksBuilder builder, string name, HealthStatus? failureStatus, IEnumerable<string>? tags, Func<IServiceProvider, IHealthCheck> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<HealthCheckAdminClients>();
        return builder.Add(new HealthCheckRegistration(name, factory, failureStatus ?? HealthStatus.Unhealthy, tags));
    }
}
