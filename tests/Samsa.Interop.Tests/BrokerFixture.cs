using System.Net;
using Microsoft.Extensions.Logging;
using Samsa.Broker;

namespace Samsa.Interop.Tests;

/// <summary>A Samsa broker on an ephemeral port in a temp directory, deleted afterwards.</summary>
public sealed class TempBroker : IAsyncDisposable
{
    private readonly Func<BrokerOptions, BrokerOptions>? _configure;

    private TempBroker(SamsaBroker broker, string dir, Func<BrokerOptions, BrokerOptions>? configure)
    {
        Broker = broker;
        Directory = dir;
        _configure = configure;
    }

    public SamsaBroker Broker { get; private set; }

    public string Directory { get; }

    public string Bootstrap => Broker.BootstrapServers;

    public static async Task<TempBroker> StartAsync(Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-test-" + Guid.NewGuid().ToString("N"));
        var options = new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = dir };
        options = configure?.Invoke(options) ?? options;
        // SAMSA_TEST_LOG=1 prints the broker's log, for debugging a failing interop test.
        var logging = Environment.GetEnvironmentVariable("SAMSA_TEST_LOG") == "1"
            ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug))
            : null;
        return new TempBroker(await SamsaBroker.StartAsync(options, logging), dir, configure);
    }

    /// <summary>Stops and starts the broker on the same data directory and port, with the same settings.</summary>
    public async Task RestartAsync()
    {
        int port = Broker.Port;
        await Broker.DisposeAsync();
        var options = new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), DataDirectory = Directory };
        Broker = await SamsaBroker.StartAsync(_configure?.Invoke(options) ?? options);
    }

    public async ValueTask DisposeAsync()
    {
        await Broker.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
