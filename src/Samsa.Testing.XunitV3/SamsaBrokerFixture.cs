using Samsa.Broker;
using Xunit;

namespace Samsa.Testing.XunitV3;

/// <summary>
/// An in-process broker shared by the tests of a class (<c>IClassFixture&lt;SamsaBrokerFixture&gt;</c>) or
/// of a collection (<c>ICollectionFixture&lt;SamsaBrokerFixture&gt;</c> on a <c>[CollectionDefinition]</c>
/// class in the test assembly). Started before the first test, stopped and its directory deleted after
/// the last. Derive and override <see cref="Configure"/> for other broker settings.
/// </summary>
/// <remarks>Tests sharing one broker should use their own topic and group names (<see cref="UniqueName"/>).</remarks>
public class SamsaBrokerFixture : IAsyncLifetime
{
    private SamsaTestBroker? _broker;

    /// <summary>The running broker and its helpers.</summary>
    public SamsaTestBroker Broker => _broker ?? throw new InvalidOperationException("The fixture has not been initialized by xUnit yet.");

    /// <summary>What a client puts in bootstrap.servers.</summary>
    public string BootstrapServers => Broker.BootstrapServers;

    /// <summary>A topic or group name no other test of this broker uses: <paramref name="prefix"/> plus a short random suffix.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Adjusts <see cref="SamsaTestBroker.TestDefaults"/> (keep Listen's port 0).</summary>
    protected virtual BrokerOptions Configure(BrokerOptions options) => options;

    /// <inheritdoc />
    public async ValueTask InitializeAsync() =>
        _broker = await SamsaTestBroker.StartAsync(Configure, cancellationToken: TestContext.Current.CancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
            await _broker.DisposeAsync().ConfigureAwait(false);
        _broker = null;
        GC.SuppressFinalize(this);
    }
}
