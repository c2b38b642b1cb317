using System.Net;
using Samsa.Broker;

namespace Samsa.Broker.Tests.Storage;

public sealed class DataDirectoryLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private BrokerOptions Options() => new() { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1 };

    [Fact]
    public async Task A_second_broker_on_the_same_data_directory_refuses_to_start_and_names_it()
    {
        var first = await SamsaBroker.StartAsync(Options());
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await SamsaBroker.StartAsync(Options()));
        Assert.Contains(_dir, refused.Message, StringComparison.Ordinal);
        Assert.Contains("in use by another broker", refused.Message, StringComparison.Ordinal);

        // The lock goes with the broker; the file it leaves behind does not stop the next one.
        await first.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(_dir, ".lock")));
        await using var second = await SamsaBroker.StartAsync(Options());
        Assert.True(second.Port > 0);
    }
}
