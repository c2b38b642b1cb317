using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;

namespace Samsa.Extensions.Hosting;

/// <summary>
/// What <c>AddKafkaConsumer&lt;TKey, TValue&gt;</c> registered, as options (<c>IOptions&lt;KafkaConsumerSettings&lt;TKey, TValue&gt;&gt;</c>):
/// the consumer's settings and where they came from. The options records are immutable; this holder is
/// what the options pattern configures.
/// </summary>
public sealed class KafkaConsumerSettings<TKey, TValue>
{
    /// <summary>The consumer's settings, bound from configuration and adjusted by the registration's delegate.</summary>
    public ConsumerOptions Options { get; set; } = new();

    /// <summary>The configuration section the settings were read from, for messages (<c>Kafka</c>).</summary>
    public string Section { get; set; } = "";
}

/// <summary>What <c>AddKafkaProducer&lt;TKey, TValue&gt;</c> registered (see <see cref="KafkaConsumerSettings{TKey, TValue}"/>).</summary>
public sealed class KafkaProducerSettings<TKey, TValue>
{
    /// <summary>The producer's settings.</summary>
    public ProducerOptions Options { get; set; } = new();

    /// <summary>The configuration section the settings were read from.</summary>
    public string Section { get; set; } = "";
}

/// <summary>What <c>AddKafkaAdminClient</c> registered (see <see cref="KafkaConsumerSettings{TKey, TValue}"/>).</summary>
public sealed class KafkaAdminSettings
{
    /// <summary>The admin client's settings.</summary>
    public AdminOptions Options { get; set; } = new();

    /// <summary>The configuration section the settings were read from.</summary>
    public string Section { get; set; } = "";
}
