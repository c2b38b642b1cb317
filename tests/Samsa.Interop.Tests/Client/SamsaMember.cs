using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// Our consumer polling on its own thread, recording what the group gave and took, like
/// ConfluentMember does for librdkafka, so tests can mix both in one group.
/// </summary>
internal sealed class SamsaMember : IDisposable
{
    private readonly KafkaConsumer<string, string> _consumer;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly HashSet<int> _assigned = [];
    private volatile bool _stop;
    private volatile bool _paused;

    /// <param name="strategy">A classic assignor, or "consumer" for the consumer protocol (KIP-848).</param>
    public SamsaMember(string bootstrap, string group, string topic, string strategy = "range", string? instanceId = null,
        bool autoCommit = false, int maxPollIntervalMs = 300_000, Func<ConsumerOptions, ConsumerOptions>? configure = null)
    {
        var options = new ConsumerOptions
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            GroupInstanceId = instanceId,
            MaxPollInterval = TimeSpan.FromMilliseconds(maxPollIntervalMs),
            EnableAutoCommit = autoCommit,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            MetadataMaxAge = TimeSpan.FromSeconds(1),
        };
        // "consumer": KIP-848, where the broker owns the assignor, session timeout and heartbeat interval.
        options = strategy == "consumer"
            ? options with { GroupProtocol = GroupProtocol.Consumer }
            : options with { PartitionAssignmentStrategy = [strategy], SessionTimeout = TimeSpan.FromSeconds(6), HeartbeatInterval = TimeSpan.FromMilliseconds(500) };
        options = configure?.Invoke(options) ?? options;
        _consumer = new KafkaConsumer<string, string>(options, loggerFactory: TestLogging.Factory);
        var listener = new RebalanceListener(
            onAssigned: parts =>
            {
                lock (_gate)
                {
                    AssignEvents.Add([.. parts.Select(p => p.Partition)]);
                    _assigned.UnionWith(parts.Select(p => p.Partition));
                }
            },
            onRevoked: parts =>
            {
                lock (_gate)
                {
                    RevokeEvents.Add([.. parts.Select(p => p.Partition)]);
                    _assigned.ExceptWith(parts.Select(p => p.Partition));
                }
            },
            onLost: parts =>
            {
                lock (_gate)
                {
                    LostEvents.Add([.. parts.Select(p => p.Partition)]);
                    _assigned.ExceptWith(parts.Select(p => p.Partition));
                }
            });
        _consumer.Subscribe(topic, listener);
        _thread = new Thread(Run) { IsBackground = true, Name = "samsa-member" };
        _thread.Start();
    }

    public List<HashSet<int>> AssignEvents { get; } = [];

    public List<HashSet<int>> RevokeEvents { get; } = [];

    public List<HashSet<int>> LostEvents { get; } = [];

    public ConcurrentQueue<ConsumeResult<string, string>> Received { get; } = new();

    public Exception? Failure { get; private set; }

    public HashSet<int> Assigned
    {
        get
        {
            lock (_gate)
                return [.. _assigned];
        }
    }

    public int RevokeCount
    {
        get
        {
            lock (_gate)
                return RevokeEvents.Count;
        }
    }

    /// <summary>Stops calling Poll (the application is "stuck"), keeping the consumer open.</summary>
    public void StopPolling() => _paused = true;

    public void ResumePolling() => _paused = false;

    private void Run()
    {
        try
        {
            while (!_stop)
            {
                if (_paused)
                {
                    Thread.Sleep(20); // a stuck application: the test waits on group state, not on this
                    continue;
                }
                foreach (var r in _consumer.Poll(TimeSpan.FromMilliseconds(100)))
                    Received.Enqueue(r);
            }
        }
        catch (WakeupException)
        {
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    /// <summary>Stops polling and closes: LeaveGroup unless static.</summary>
    public void Dispose()
    {
        _stop = true;
        _consumer.Wakeup();
        _thread.Join();
        _consumer.Dispose();
    }
}

internal static class TestLogging
{
    /// <summary>SAMSA_TEST_LOG=1 prints client logs too.</summary>
    public static readonly ILoggerFactory? Factory =
        Environment.GetEnvironmentVariable("SAMSA_TEST_LOG") == "1"
            ? LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug))
            : null;
}
