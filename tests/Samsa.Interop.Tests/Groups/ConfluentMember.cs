using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Samsa.Interop.Tests.Groups;

/// <summary>
/// A Confluent.Kafka consumer polling on its own thread, recording what the group gave and took.
/// Tests read its state; nothing here sleeps to synchronise.
/// </summary>
internal sealed class ConfluentMember : IDisposable
{
    private readonly IConsumer<string, string> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly object _gate = new();
    private HashSet<int> _assigned = [];

    private volatile bool _paused;

    /// <param name="strategy">A classic assignor, or "consumer" for a KIP-848 member.</param>
    /// <param name="protocol">Consumer: a KIP-848 member (the broker assigns; strategy, session and heartbeat settings are the broker's).</param>
    public ConfluentMember(string bootstrap, string group, string topic, string strategy = "range", string? instanceId = null, bool autoCommit = false, int maxPollIntervalMs = 300_000,
        GroupProtocol protocol = GroupProtocol.Classic, string? clientId = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            GroupInstanceId = instanceId,
            EnableAutoCommit = autoCommit,
            AutoCommitIntervalMs = 500,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            TopicMetadataRefreshIntervalMs = 1000,
            MaxPollIntervalMs = maxPollIntervalMs,
        };
        if (clientId is not null)
            config.ClientId = clientId;
        if (strategy == "consumer")
            protocol = GroupProtocol.Consumer; // shorthand: "consumer" as the strategy
        if (protocol == GroupProtocol.Consumer)
        {
            config.GroupProtocol = GroupProtocol.Consumer;
        }
        else
        {
            config.PartitionAssignmentStrategy = strategy switch
            {
                "cooperative-sticky" => PartitionAssignmentStrategy.CooperativeSticky,
                "roundrobin" => PartitionAssignmentStrategy.RoundRobin,
                _ => PartitionAssignmentStrategy.Range,
            };
            config.SessionTimeoutMs = 6000;
            config.HeartbeatIntervalMs = 500;
        }
        bool incremental = strategy == "cooperative-sticky" || protocol == GroupProtocol.Consumer; // KIP-848 assigns incrementally too
        _consumer = new ConsumerBuilder<string, string>(config)
            .SetPartitionsAssignedHandler((_, parts) =>
            {
                lock (_gate)
                {
                    AssignEvents.Add([.. parts.Select(p => p.Partition.Value)]);
                    if (incremental)
                        _assigned.UnionWith(parts.Select(p => p.Partition.Value));
                    else
                        _assigned = [.. parts.Select(p => p.Partition.Value)];
                }
            })
            .SetPartitionsRevokedHandler((_, parts) =>
            {
                lock (_gate)
                {
                    RevokeEvents.Add([.. parts.Select(p => p.Partition.Value)]);
                    _assigned.ExceptWith(parts.Select(p => p.Partition.Value));
                }
            })
            .SetPartitionsLostHandler((_, parts) =>
            {
                lock (_gate)
                    _assigned.ExceptWith(parts.Select(p => p.Partition.Value));
            })
            .Build();
        _consumer.Subscribe(topic);
        _thread = new Thread(Run) { IsBackground = true, Name = "confluent-member" };
        _thread.Start();
    }

    public List<HashSet<int>> AssignEvents { get; } = [];

    public List<HashSet<int>> RevokeEvents { get; } = [];

    public ConcurrentQueue<ConsumeResult<string, string>> Received { get; } = new();

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

    /// <summary>Stops calling Consume (the application is "stuck"), keeping the consumer open.</summary>
    public void StopPolling() => _paused = true;

    private void Run()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (_paused)
                {
                    _stop.Token.WaitHandle.WaitOne();
                    continue;
                }
                // A short timeout, so StopPolling takes effect even when no records arrive.
                var r = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r is not null && !r.IsPartitionEOF)
                    Received.Enqueue(r);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Commit(TopicPartitionOffset offset) => _consumer.Commit([offset]);

    /// <summary>Stops polling and closes (commits nothing; LeaveGroup unless static).</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}

internal static class Eventually
{
    /// <summary>Every partition owned by exactly one of the members' assignment sets.</summary>
    public static bool Partitioned(IEnumerable<HashSet<int>> assignments, int partitions)
    {
        var all = assignments.SelectMany(s => s).ToList();
        return all.Count == partitions && all.Distinct().Count() == partitions;
    }

    /// <summary>Re-checks a condition until it holds or the deadline passes (groups converge asynchronously).</summary>
    public static async Task True(Func<bool> condition, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>As <see cref="True(Func{bool}, string, int)"/>, for a condition that has to await (a poll, say).</summary>
    public static async Task True(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Timed out waiting until {what}.");
        }
    }
}
