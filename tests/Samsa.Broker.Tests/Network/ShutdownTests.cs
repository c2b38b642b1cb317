using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Samsa.Broker;

namespace Samsa.Broker.Tests.Network;

public sealed class ShutdownTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-shutdown-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Stopping_the_broker_logs_no_accept_failures()
    {
        var logs = new RecordingLoggerFactory();
        var broker = await SamsaBroker.StartAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1 }, logs);
        // Open connections make shutdown's cancellation take long enough for a spinning loop to show.
        var clients = new List<System.Net.Sockets.TcpClient>();
        for (int i = 0; i < 100; i++)
        {
            var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, broker.Port);
            clients.Add(client);
        }
        await broker.DisposeAsync();
        clients.ForEach(c => c.Dispose());
        // The listener used to be closed before shutdown was signalled, and the accept loop logged
        // "Accept failed: Cannot access a disposed object" until the signal came.
        var complaints = logs.Messages.Where(m => m.Contains("Accept failed", StringComparison.Ordinal) || m.StartsWith("Warning", StringComparison.Ordinal) || m.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(complaints.Count == 0, string.Join("\n", complaints));
    }

    private sealed class RecordingLoggerFactory : ILoggerFactory, ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
