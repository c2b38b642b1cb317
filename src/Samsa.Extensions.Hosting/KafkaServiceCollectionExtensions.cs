using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;
using Samsa.Extensions.Hosting;
using Samsa.Extensions.Hosting.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers Samsa's Kafka clients. Settings come from the <c>Kafka</c> configuration section (or the one
/// named) through <see cref="KafkaConfiguration"/>, Kafka's property names or the options records' names,
/// then the optional <c>configure</c> delegate; they are validated when the host starts
/// (<c>ValidateOnStart</c>), naming the bad key. Serializers and deserializers registered in the container
/// (<see cref="ISerializer{T}"/>, <see cref="IDeserializer{T}"/>) are used; otherwise the built-in ones.
/// </summary>
public static class KafkaServiceCollectionExtensions
{
    /// <summary>The configuration section read when none is named.</summary>
    public const string DefaultSection = "Kafka";

    private const string Binding = "Binds configuration to the options records by reflection (KafkaConfiguration).";

    /// <summary>
    /// Registers <see cref="IKafkaConsumer{TKey, TValue}"/> as a singleton (one consumer; like the Java
    /// consumer it is not for concurrent use) and its settings, <see cref="KafkaConsumerSettings{TKey, TValue}"/>.
    /// </summary>
    [RequiresUnreferencedCode(Binding)]
    [RequiresDynamicCode(Binding)]
    public static IServiceCollection AddKafkaConsumer<TKey, TValue>(this IServiceCollection services, string section = DefaultSection, Func<ConsumerOptions, ConsumerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KafkaConsumerSettings<TKey, TValue>>()
            .Configure<IConfiguration>((settings, configuration) =>
            {
                settings.Section = section;
                var options = KafkaConfiguration.GetConsumerOptions(configuration.GetSection(section));
                settings.Options = configure?.Invoke(options) ?? options;
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaConsumerSettings<TKey, TValue>>>(
            new SettingsValidation<KafkaConsumerSettings<TKey, TValue>>(s => s.Section, s => s.Options.Validate(subscribing: s.Options.GroupId is not null))));
        services.TryAddSingleton<IKafkaConsumer<TKey, TValue>>(sp => CreateConsumer<TKey, TValue>(sp, o => o));
        return services;
    }

    /// <summary>Registers <see cref="IKafkaProducer{TKey, TValue}"/> as a singleton (safe for concurrent use) and its settings.</summary>
    [RequiresUnreferencedCode(Binding)]
    [RequiresDynamicCode(Binding)]
    public static IServiceCollection AddKafkaProducer<TKey, TValue>(this IServiceCollection services, string section = DefaultSection, Func<ProducerOptions, ProducerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KafkaProducerSettings<TKey, TValue>>()
            .Configure<IConfiguration>((settings, configuration) =>
            {
                settings.Section = section;
                var options = KafkaConfiguration.GetProducerOptions(configuration.GetSection(section));
                settings.Options = configure?.Invoke(options) ?? options;
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaProducerSettings<TKey, TValue>>>(
            new SettingsValidation<KafkaProducerSettings<TKey, TValue>>(s => s.Section, s => s.Options.Validate())));
        services.TryAddSingleton<IKafkaProducer<TKey, TValue>>(sp => new KafkaProducer<TKey, TValue>(
            sp.GetRequiredService<IOptions<KafkaProducerSettings<TKey, TValue>>>().Value.Options,
            sp.GetService<ISerializer<TKey>>(), sp.GetService<ISerializer<TValue>>(), sp.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>Registers <see cref="IKafkaAdminClient"/> as a singleton and its settings, <see cref="KafkaAdminSettings"/>.</summary>
    [RequiresUnreferencedCode(Binding)]
    [RequiresDynamicCode(Binding)]
    public static IServiceCollection AddKafkaAdminClient(this IServiceCollection services, string section = DefaultSection, Func<AdminOptions, AdminOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KafkaAdminSettings>()
            .Configure<IConfiguration>((settings, configuration) =>
            {
                settings.Section = section;
                var options = KafkaConfiguration.GetAdminOptions(configuration.GetSection(section));
                settings.Options = configure?.Invoke(options) ?? options;
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaAdminSettings>>(
            new SettingsValidation<KafkaAdminSettings>(s => s.Section, s => new ConsumerOptions { BootstrapServers = s.Options.BootstrapServers }.Validate(subscribing: false))));
        services.TryAddSingleton<IKafkaAdminClient>(sp => new KafkaAdminClient(sp.GetRequiredService<IOptions<KafkaAdminSettings>>().Value.Options, sp.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Runs a <see cref="KafkaConsumerWorker{TKey, TValue}"/>: a hosted service with its own consumer (from the
    /// settings of <see cref="AddKafkaConsumer"/>, which this calls for <paramref name="section"/> unless
    /// already registered, with auto-commit off) that subscribes to <see cref="KafkaConsumerWorkerOptions.Topics"/>,
    /// hands each record to a scoped <typeparamref name="THandler"/>, commits what was handled after each
    /// poll, and on host stop commits and leaves the group. Failures follow <see cref="KafkaConsumerWorkerOptions.ErrorPolicy"/>.
    /// </summary>
    [RequiresUnreferencedCode(Binding)]
    [RequiresDynamicCode(Binding)]
    public static IServiceCollection AddKafkaConsumerWorker<TKey, TValue, THandler>(this IServiceCollection services, Action<KafkaConsumerWorkerOptions> configure, string section = DefaultSection)
        where THandler : class, IKafkaRecordHandler<TKey, TValue>
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(IKafkaConsumer<TKey, TValue>)))
            services.AddKafkaConsumer<TKey, TValue>(section);
        // For the dead-letter policy (created only when a record is dead-lettered).
        if (!services.Any(d => d.ServiceType == typeof(IKafkaProducer<TKey, TValue>)))
            services.AddKafkaProducer<TKey, TValue>(section);
        services.AddOptions<KafkaConsumerWorkerOptions>(typeof(THandler).FullName).Configure(configure).Validate(o => o.Topics.Count > 0, "KafkaConsumerWorkerOptions.Topics: name at least one topic.")
            .Validate(o => o.ErrorPolicy.Action != KafkaErrorAction.DeadLetter || !string.IsNullOrWhiteSpace(o.ErrorPolicy.DeadLetterTopic), "KafkaConsumerWorkerOptions.ErrorPolicy.DeadLetterTopic: the dead-letter policy needs a topic.")
            .ValidateOnStart();
        services.TryAddScoped<THandler>();
        services.AddSingleton<KafkaConsumerWorker<TKey, TValue>>(sp => new KafkaConsumerWorker<TKey, TValue>(
            sp,
            sp.GetRequiredService<IOptionsMonitor<KafkaConsumerWorkerOptions>>().Get(typeof(THandler).FullName),
            typeof(THandler),
            () => CreateConsumer<TKey, TValue>(sp, o => o with { EnableAutoCommit = false }),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<KafkaConsumerWorker<TKey, TValue>>()));
        services.AddHostedService(sp => sp.GetRequiredService<KafkaConsumerWorker<TKey, TValue>>());
        return services;
    }

    private static KafkaConsumer<TKey, TValue> CreateConsumer<TKey, TValue>(IServiceProvider services, Func<ConsumerOptions, ConsumerOptions> adjust) => new(
        adjust(services.GetRequiredService<IOptions<KafkaConsumerSettings<TKey, TValue>>>().Value.Options),
        services.GetService<IDeserializer<TKey>>(), services.GetService<IDeserializer<TValue>>(), services.GetService<ILoggerFactory>());
}
