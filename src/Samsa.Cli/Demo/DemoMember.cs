using System.Diagnostics;
using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Cli.Demo;

/// <summary>A consumer of the demo, polling on its own thread and recording what the group gives and takes.</summary>
internal sealed class DemoMember : IDisposable
{
    private readonly KafkaConsumer<string, string> _consumer;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly HashSet<int> _owned = [];
    private readonly Dictionary<int, long> _revokedAt = [];
    private volatile bool _stop;
    private int _received;

    public DemoMember(string name, string bootstrap, string group, string topic, string strategy, string? instanceId = null, bool autoCommit = false)
    {
        Name = name;
        _consumer = new KafkaConsumer<string, string>(new ConsumerOptions
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            GroupInstanceId = instanceId,
            ClientId = name,
            PartitionAssignmentStrategy = [strategy],
            SessionTimeout = TimeSpan.FromSeconds(6),
            HeartbeatInterval = TimeSpan.FromMilliseconds(300),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = autoCommit,
        });
        _consumer.Subscribe(topic, new RebalanceListener(
            onAssigned: parts =>
            {
                lock (_gate)
                {
                    foreach (var p in parts)
                    {
                        _owned.Add(p.Partition);
                        if (_revokedAt.Remove(p.Partition, out long at))
                            Paused.Add((p.Partition, Stopwatch.GetElapsedTime(at)));
                    }
                }
            },
            onRevoked: parts =>
            {
                lock (_gate)
                {
                    foreach (var p in parts)
                    {
                        _owned.Remove(p.Partition);
                        _revokedAt[p.Partition] = Stopwatch.GetTimestamp();
                        Revoked.Add(p.Partition);
                    }
                }
            }));
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public string Name { get; }

    /// <summary>Every partition this member was asked to give up.</summary>
    public List<int> Revoked { get; } = [];

    /// <summary>Partitions given back to this member after a revoke, and how long they were stopped.</summary>
    public List<(int Partition, TimeSpan For)> Paused { get; } = [];

    public int Received => Volatile.Read(ref _received);

    public Exception? Failure { get; private set; }

    public HashSet<int> Owned
    {
        get
        {
            lock (_gate)
                return [.. _owned];
        }
    }

    public List<int> RevokedSnapshot()
    {
        lock (_gate)
            return [.. Revoked];
    }

    private void Run()
    {
        try
        {
            while (!_stop)
                Interlocked.Add(ref _received, _consumer.Poll(TimeSpan.FromMilliseconds(100)).Count);
        }
        catch (WakeupException)
        {
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    public void Dispose()
    {
        _stop = true;
        _consumer.Wakeup();
        _thread.Join();
        _consumer.Dispose();
    }
}
