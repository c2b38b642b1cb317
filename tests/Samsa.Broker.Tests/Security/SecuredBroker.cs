using System.Net;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Tests.Security;

/// <summary>A broker in a temp directory started from server.properties-style settings, deleted afterwards.</summary>
internal sealed class SecuredBroker : IAsyncDisposable
{
    private SecuredBroker(SamsaBroker broker, string dir)
    {
        Broker = broker;
        Directory = dir;
    }

    public SamsaBroker Broker { get; private set; }

    public string Directory { get; }

    public int PortOf(string listener) => Broker.Listeners.Single(l => l.Name == listener).Port;

    public static BrokerOptions Options(IEnumerable<(string Key, string Value)> settings, string dir, Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        var options = new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = dir, OffsetsTopicPartitions = 1, ShutdownTimeout = TimeSpan.FromSeconds(2) };
        foreach (var (key, value) in settings)
            options = BrokerConfig.Apply(options, key, value);
        return configure?.Invoke(options) ?? options;
    }

    public static async Task<SecuredBroker> StartAsync(IEnumerable<(string Key, string Value)> settings, Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-sec-" + Guid.NewGuid().ToString("N"));
        return new SecuredBroker(await SamsaBroker.StartAsync(Options(settings, dir, configure)), dir);
    }

    /// <summary>Stops and starts again on the same directory (ports are new).</summary>
    public async Task RestartAsync(IEnumerable<(string Key, string Value)> settings, Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        await Broker.DisposeAsync();
        Broker = await SamsaBroker.StartAsync(Options(settings, Directory, configure));
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
