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
    private readonly PartitionTimeline? _timeline;
    private volatile bool _stop;
    private int _received;
    private int _assignments;

    /// <param name="timeline">Records when each record was consumed; given, the member also commits what it consumed before a partition is taken away, so the next owner goes on from there as a real application would.</param>
    public DemoMember(string name, string bootstrap, string group, string topic, Membership membership, string? instanceId = null, PartitionTimeline? timeline = null)
    {
        Name = name;
        _timeline = timeline;
        _consumer = new KafkaConsumer<string, string>(membership.Apply(new ConsumerOptions
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            GroupInstanceId = instanceId,
            ClientId = name,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }));
        _consumer.Subscribe(topic, new RebalanceListener(
            onAssigned: parts =>
            {
                Interlocked.Increment(ref _assignments);
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
                if (_timeline is not null && parts.Count > 0)
                {
                    try
                    {
                        _consumer.CommitSync(parts.Select(p => new TopicPartitionOffset(p, _consumer.Position(p))));
                    }
                    catch (KafkaException)
                    {
                        // Members closing together may find the group already rebalancing; the next
                        // owner then reads again from the last commit, which the timeline ignores.
                    }
                }
                Forget(parts);
            },
            // Lost partitions may already belong to another member: committing for them would fail.
            onLost: Forget));
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public string Name { get; }

    /// <summary>Every partition this member was asked to give up.</summary>
    public List<int> Revoked { get; } = [];

    /// <summary>Partitions given back to this member after a revoke, and how long they were stopped.</summary>
    public List<(int Partition, TimeSpan For)> Paused { get; } = [];

    public int Received => Volatile.Read(ref _received);

    /// <summary>Rebalances this member completed: the listener hears every one, even one that gives it nothing.</summary>
    public int Assignments => Volatile.Read(ref _assignments);

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

    public List<(int Partition, TimeSpan For)> PausedSnapshot()
    {
        lock (_gate)
            return [.. Paused];
    }

    private void Forget(IReadOnlyCollection<TopicPartition> parts)
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
    }

    private void Run()
    {
        try
        {
            while (!_stop)
            {
                var records = _consumer.Poll(TimeSpan.FromMilliseconds(100));
                foreach (var r in records)
                    _timeline?.Consumed(r.Partition, r.Offset);
                Interlocked.Add(ref _received, records.Count);
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

    public void Dispose()
    {
        _stop = true;
        _consumer.Wakeup();
        _thread.Join();
        _consumer.Dispose();
    }
}

/// <summary>
/// How a demo member joins its group. The same value configures the consumer and names the
/// settings and API in the output, so what a step says cannot drift from what it runs.
/// </summary>
internal sealed record Membership(GroupProtocol Protocol, string Assignor)
{
    /// <summary>The classic members' heartbeat.interval.ms: a tenth of the client default, so rebalances start within a fraction of a second.</summary>
    public static readonly TimeSpan ClassicHeartbeat = TimeSpan.FromMilliseconds(300);

    /// <summary>The classic members' session.timeout.ms (default 45 s): a static member's restart must fit in it, and nothing in the demo waits for it to expire.</summary>
    public static readonly TimeSpan ClassicSession = TimeSpan.FromSeconds(6);

    public static Membership Classic(string strategy) => new(GroupProtocol.Classic, strategy);

    public static Membership Consumer(string serverAssignor) => new(GroupProtocol.Consumer, serverAssignor);

    /// <summary>True when members give up only the partitions that move (KIP-429 or KIP-848).</summary>
    public bool Incremental => Protocol == GroupProtocol.Consumer || Assignor == "cooperative-sticky";

    /// <summary>A short name for a table column.</summary>
    public string Label => Protocol == GroupProtocol.Consumer ? $"consumer protocol ({Assignor})" : $"classic ({Assignor})";

    /// <summary>The API and the settings behind this membership, as a reader would set them.</summary>
    public string Describe() => Protocol == GroupProtocol.Consumer
        ? $"ConsumerGroupHeartbeat (KIP-848), group.protocol=consumer, group.remote.assignor={Assignor} (the broker assigns; members revoke only what moves)"
        : $"JoinGroup/SyncGroup/Heartbeat, group.protocol=classic, partition.assignment.strategy={Assignor} "
          + $"({(Incremental ? "cooperative: revoke only what moves, then a second round assigns it" : "eager: every member revokes everything before each rebalance")}), "
          + $"heartbeat.interval.ms={ClassicHeartbeat.TotalMilliseconds:F0}";

    /// <summary>
    /// Adds the group settings. The consumer protocol gets no session or heartbeat setting and no
    /// client-side strategy: the client refuses them there, because the broker owns them.
    /// </summary>
    public ConsumerOptions Apply(ConsumerOptions options) => Protocol == GroupProtocol.Consumer
        ? options with { GroupProtocol = GroupProtocol.Consumer, GroupRemoteAssignor = Assignor }
        : options with
        {
            PartitionAssignmentStrategy = [Assignor],
            SessionTimeout = ClassicSession,
            HeartbeatInterval = ClassicHeartbeat,
        };
}
