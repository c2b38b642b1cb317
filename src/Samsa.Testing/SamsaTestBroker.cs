using System.Net;
using Microsoft.Extensions.Logging;
using Samsa.Broker;

namespace Samsa.Testing;

/// <summary>
/// A Samsa broker for one test, a class or a collection: on an ephemeral loopback port, in a temporary
/// directory that disposing deletes, with <see cref="TestDefaults"/>. Point any Kafka client at
/// <see cref="BootstrapServers"/>; the helpers (<see cref="CreateTopicAsync"/>, <see cref="ProduceAsync"/>,
/// <see cref="ReadAsync"/>, <see cref="WaitForGroupAsync"/>) use Samsa's own client.
/// </summary>
/// <remarks>Framework neutral: xUnit v3 fixtures are in Samsa.Testing.XunitV3; elsewhere call
/// <see cref="StartAsync"/> in a setup method and <see cref="DisposeAsync"/> in the teardown.</remarks>
public sealed partial class SamsaTestBroker : IAsyncDisposable
{
    private readonly Func<BrokerOptions, BrokerOptions>? _configure;
    private readonly ILoggerFactory? _loggerFactory;
    private SamsaBroker? _broker;
    private int _port;
    private string _bootstrap = "";

    private SamsaTestBroker(string directory, Func<BrokerOptions, BrokerOptions>? configure, ILoggerFactory? loggerFactory)
    {
        DataDirectory = directory;
        _configure = configure;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The broker; throws while it is stopped (<see cref="StopAsync"/>).</summary>
    public SamsaBroker Broker => _broker ?? throw new InvalidOperationException("The test broker is stopped; call StartAgainAsync.");

    /// <summary>What a client puts in bootstrap.servers (the same after a restart).</summary>
    public string BootstrapServers => _bootstrap;

    /// <summary>The broker's data directory, under the system's temporary directory; deleted on dispose.</summary>
    public string DataDirectory { get; }

    /// <summary>True between start and <see cref="StopAsync"/>.</summary>
    public bool IsRunning => _broker is not null;

    /// <summary>
    /// The settings a test broker starts with before <c>configure</c> runs: loopback on an ephemeral port,
    /// the given directory, no initial rebalance delay (Kafka's group.initial.rebalance.delay.ms, 3 s by
    /// default, would hold every first join of a group), and group.min.session.timeout.ms of 100 ms so
    /// that tests may use short session timeouts.
    /// </summary>
    public static BrokerOptions TestDefaults(string dataDirectory) => new()
    {
        Listen = new IPEndPoint(IPAddress.Loopback, 0),
        DataDirectory = dataDirectory,
        GroupInitialRebalanceDelay = TimeSpan.Zero,
        GroupMinSessionTimeout = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Starts a broker; <paramref name="configure"/> adjusts <see cref="TestDefaults"/> (keep Listen's port 0).</summary>
    public static async Task<SamsaTestBroker> StartAsync(Func<BrokerOptions, BrokerOptions>? configure = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        string directory = Path.Combine(Path.GetTempPath(), "samsa-test-" + Guid.NewGuid().ToString("N"));
        var broker = new SamsaTestBroker(directory, configure, loggerFactory);
        try
        {
            await broker.StartOnAsync(0, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await broker.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return broker;
    }

    private async Task StartOnAsync(int port, CancellationToken cancellationToken)
    {
        var options = TestDefaults(DataDirectory);
        options = _configure?.Invoke(options) ?? options;
        if (port != 0)
            options = options with { Listen = new IPEndPoint(options.Listen.Address, port) };
        _broker = await SamsaBroker.StartAsync(options, _loggerFactory, cancellationToken).ConfigureAwait(false);
        _port = _broker.Port;
        _bootstrap = _broker.BootstrapServers;
    }

    /// <summary>Stops the broker, keeping its data, as a crash of the cluster would look to clients (for reconnect and health tests).</summary>
    public async Task StopAsync()
    {
        var broker = _broker;
        _broker = null;
        if (broker is not null)
            await broker.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the stopped broker again on the same port and data directory.</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default) =>
        _broker is null ? StartOnAsync(_port, cancellationToken) : throw new InvalidOperationException("The test broker is running.");

    /// <summary>Stops and starts the broker on the same port and data directory, with the same settings.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync().ConfigureAwait(false);
        await StartAgainAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the broker and deletes its data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // A file still open elsewhere (a test's own reader): the temp directory is the OS's to clean.
        }
    }
}
