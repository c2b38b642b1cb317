using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Samsa.Broker;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The in-process broker as a hosted service, for development: <c>builder.Services.AddSamsaBroker()</c> in a
/// Development environment gives the app a Kafka-compatible broker on 127.0.0.1:9092 (data in ./samsa-data)
/// that starts before and stops after the app's other hosted services. It lives in the Samsa.Broker
/// package so that Samsa.Extensions.Hosting, which production apps use, does not carry the broker.
/// </summary>
public static class SamsaBrokerServiceCollectionExtensions
{
    /// <summary>Registers <see cref="SamsaBrokerService"/>; <paramref name="configure"/> adjusts <see cref="BrokerOptions"/>' defaults.</summary>
    public static IServiceCollection AddSamsaBroker(this IServiceCollection services, Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(SamsaBrokerService)))
            return services;
        var options = configure?.Invoke(new BrokerOptions()) ?? new BrokerOptions();
        services.TryAddSingleton(sp => new SamsaBrokerService(options, sp.GetService<ILoggerFactory>()));
        // First among the hosted services: started before the workers that consume from it, stopped after them.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<SamsaBrokerService>()));
        return services;
    }
}

/// <summary>Runs a <see cref="SamsaBroker"/> for the host's lifetime (see <c>AddSamsaBroker</c>).</summary>
public sealed class SamsaBrokerService(BrokerOptions options, ILoggerFactory? loggerFactory) : IHostedService, IAsyncDisposable
{
    private SamsaBroker? _broker;

    /// <summary>The running broker; null before the host started it and after it stopped.</summary>
    public SamsaBroker? Broker => _broker;

    /// <summary>What a client puts in bootstrap.servers, once started.</summary>
    public string BootstrapServers => _broker?.BootstrapServers ?? throw new InvalidOperationException("The Samsa broker has not started yet.");

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken) =>
        _broker = await SamsaBroker.StartAsync(options, loggerFactory, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        var broker = Interlocked.Exchange(ref _broker, null);
        if (broker is not null)
            await broker.DisposeAsync().ConfigureAwait(false);
    }
}
