using Microsoft.Extensions.Logging;
using Samsa.Broker;
using Samsa.Testing;

namespace Samsa.Interop.Tests;

/// <summary>
/// A Samsa broker on an ephemeral port in a temp directory, deleted afterwards: Samsa.Testing's
/// <see cref="SamsaTestBroker"/> with the broker's own group defaults (these tests were written against
/// Kafka's 3 s initial rebalance delay and 6 s minimum session timeout; pass <c>configure</c> to change them).
/// </summary>
public sealed class TempBroker : IAsyncDisposable
{
    private readonly SamsaTestBroker _broker;

    private TempBroker(SamsaTestBroker broker) => _broker = broker;

    public SamsaBroker Broker => _broker.Broker;

    public string Directory => _broker.DataDirectory;

    public string Bootstrap => _broker.BootstrapServers;

    /// <summary>The Samsa.Testing broker underneath, for its helpers.</summary>
    public SamsaTestBroker Test => _broker;

    public static async Task<TempBroker> StartAsync(Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        var kafkaDefaults = new BrokerOptions();
        BrokerOptions Configure(BrokerOptions options)
        {
            options = options with { GroupInitialRebalanceDelay = kafkaDefaults.GroupInitialRebalanceDelay, GroupMinSessionTimeout = kafkaDefaults.GroupMinSessionTimeout };
            return configure?.Invoke(options) ?? options;
        }
        // SAMSA_TEST_LOG=1 prints the broker's log, for debugging a failing interop test.
        var logging = Environment.GetEnvironmentVariable("SAMSA_TEST_LOG") == "1"
            ? LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug))
            : null;
        return new TempBroker(await SamsaTestBroker.StartAsync(Configure, logging));
    }

    /// <summary>Stops and starts the broker on the same data directory and port, with the same settings.</summary>
    public Task RestartAsync() => _broker.RestartAsync();

    public ValueTask DisposeAsync() => _broker.DisposeAsync();
}
