using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Samsa.Interop.Tests.Groups;

internal enum RebalanceKind
{
    Assigned,
    Revoked,
    Lost,
}

internal sealed record RebalanceEvent(RebalanceKind Kind, IReadOnlyList<TopicPartition> Partitions)
{
    public override string ToString() => $"{Kind} [{string.Join(", ", Partitions.Select(p => $"{p.Topic}-{p.Partition.Value}"))}]";
}

/// <summary>
/// Offsets members committed when giving partitions up, and where each new owner started reading:
/// with commits that survive a hand-over, a new owner starts exactly at the last commit.
/// </summary>
internal sealed class CommitLedger
{
    public ConcurrentDictionary<TopicPartition, long> LastCommitted { get; } = new();

    /// <summary>(member, partition, first offset it consumed after being assigned it, the ledger's commit for that partition at the time).</summary>
    public ConcurrentQueue<(string Member, TopicPartition Partition, long FirstOffset, long Committed)> Resumptions { get; } = new();
}

/// <summary>
/// A Confluent.Kafka consumer using the KIP-848 group protocol (group.protocol=consumer), polling
/// on its own thread and recording every rebalance callback, so tests can check not only where
/// partitions end up but what each member was told on the way. Nothing here sleeps to synchronise.
/// </summary>
internal sealed class Kip848Member : IDisposable
{
    private readonly IConsumer<string, string> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly Lock _gate = new();
    private readonly List<RebalanceEvent> _events = [];
    private readonly HashSet<TopicPartition> _assigned = [];
    private readonly CommitLedger? _ledger;
    // Touched only on the polling thread, where Confluent also runs the rebalance handlers.
    private readonly Dictionary<TopicPartition, long> _next = [];
    private readonly HashSet<TopicPartition> _awaitingFirstRecord = [];
    private bool _disposed;

    /// <param name="subscription">Topic names, or one regex starting with '^'.</param>
    /// <param name="ledger">When given, the member commits what it consumed from partitions it gives up, from the revocation handler, and records where it resumes.</param>
    public Kip848Member(string name, string bootstrap, string group, IEnumerable<string> subscription, string? instanceId = null, CommitLedger? ledger = null)
    {
        Name = name;
        _ledger = ledger;
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            GroupInstanceId = instanceId,
            GroupProtocol = GroupProtocol.Consumer,
            ClientId = name,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // New topics and partitions reach the client through metadata, which it would otherwise refresh every 5 minutes.
            TopicMetadataRefreshIntervalMs = 1000,
            ReconnectBackoffMaxMs = 1000,
            FetchWaitMaxMs = 100,
        };
        // SAMSA_TEST_LOG=1 prints librdkafka's group debug log, for debugging a failing scenario.
        bool debug = Environment.GetEnvironmentVariable("SAMSA_TEST_LOG") == "1";
        if (debug)
            config.Debug = "cgrp,consumer";
        var builder = new ConsumerBuilder<string, string>(config)
            .SetPartitionsAssignedHandler((_, parts) => OnAssigned(parts))
            .SetPartitionsRevokedHandler((c, parts) => OnRevoked(c, parts, lost: false))
            .SetPartitionsLostHandler((c, parts) => OnRevoked(c, parts, lost: true));
        // Without a handler librdkafka logs to stderr, and a member cut off from its brokers logs every reconnect.
        builder.SetLogHandler((_, m) =>
        {
            if (debug)
                Console.Error.WriteLine($"[{name}] {m.Facility} {m.Message}");
        });
        _consumer = builder.Build();
        _consumer.Subscribe(subscription);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public string Name { get; }

    public ConcurrentQueue<ConsumeResult<string, string>> Received { get; } = new();

    /// <summary>Errors from commits in the revocation handler; a test that commits expects none.</summary>
    public ConcurrentQueue<string> CommitErrors { get; } = new();

    /// <summary>Errors Consume reported, for the failure message.</summary>
    public ConcurrentQueue<string> ConsumeErrors { get; } = new();

    public HashSet<TopicPartition> Assigned
    {
        get
        {
            lock (_gate)
                return [.. _assigned];
        }
    }

    public HashSet<int> AssignedPartitions => [.. Assigned.Select(p => p.Partition.Value)];

    public IReadOnlyList<RebalanceEvent> Events
    {
        get
        {
            lock (_gate)
                return [.. _events];
        }
    }

    /// <summary>
    /// The events that gave or took partitions. librdkafka's KIP-848 reconciliation calls the
    /// assigned handler with an empty list after each revocation; that tells the member nothing.
    /// </summary>
    public IReadOnlyList<RebalanceEvent> Changes => [.. Events.Where(e => e.Partitions.Count > 0)];

    public IEnumerable<RebalanceEvent> ChangesSince(int count) => Changes.Skip(count);

    public override string ToString() =>
        $"{Name}: owns [{string.Join(",", AssignedPartitions.Order())}]; events {string.Join("; ", Events)}"
        + (ConsumeErrors.IsEmpty ? "" : $"; consume errors {string.Join("; ", ConsumeErrors.Take(5))}");

    private void OnAssigned(List<TopicPartition> parts)
    {
        lock (_gate)
        {
            _events.Add(new RebalanceEvent(RebalanceKind.Assigned, [.. parts]));
            _assigned.UnionWith(parts);
        }
        _awaitingFirstRecord.UnionWith(parts);
    }

    private void OnRevoked(IConsumer<string, string> consumer, List<TopicPartitionOffset> parts, bool lost)
    {
        var partitions = parts.Select(p => p.TopicPartition).ToList();
        if (_ledger is not null && !lost)
        {
            var offsets = partitions.Where(_next.ContainsKey).Select(p => new TopicPartitionOffset(p, _next[p])).ToList();
            if (offsets.Count > 0)
            {
                try
                {
                    consumer.Commit(offsets);
                    foreach (var o in offsets)
                        _ledger.LastCommitted[o.TopicPartition] = o.Offset.Value;
                }
                catch (KafkaException e)
                {
                    CommitErrors.Enqueue($"{Name} committing [{string.Join(",", offsets)}]: {e.Error}");
                }
            }
        }
        foreach (var p in partitions)
        {
            _next.Remove(p);
            _awaitingFirstRecord.Remove(p);
        }
        lock (_gate)
        {
            _events.Add(new RebalanceEvent(lost ? RebalanceKind.Lost : RebalanceKind.Revoked, partitions));
            _assigned.ExceptWith(partitions);
        }
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // A short timeout, so Dispose takes effect even when no records arrive.
                var r = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r is null || r.IsPartitionEOF)
                    continue;
                if (_ledger is not null && _awaitingFirstRecord.Remove(r.TopicPartition))
                    _ledger.Resumptions.Enqueue((Name, r.TopicPartition, r.Offset.Value, _ledger.LastCommitted.GetValueOrDefault(r.TopicPartition, 0)));
                _next[r.TopicPartition] = r.Offset.Value + 1;
                Received.Enqueue(r);
            }
            catch (ConsumeException e)
            {
                ConsumeErrors.Enqueue(e.Error.ToString());
            }
        }
    }

    /// <summary>Stops polling and closes: revokes (committing, with a ledger) and leaves the group, or for a static member leaves it for its return.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _stop.Cancel();
        _thread.Join();
        try
        {
            _consumer.Close();
        }
        catch (KafkaException e)
        {
            ConsumeErrors.Enqueue($"close: {e.Error}");
        }
        _consumer.Dispose();
        _stop.Dispose();
    }
}
