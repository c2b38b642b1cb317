using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// Routes each group to its shard (its __consumer_offsets partition) and loads all shards from the
/// offsets log at start-up. Requests for different shards never contend.
/// </summary>
internal sealed class GroupCoordinator : IDisposable
{
    private readonly GroupShard[] _shards;
    private readonly ConcurrentDictionary<string, GroupView> _views = new(StringComparer.Ordinal);
    private readonly ITimer _expiry;
    private readonly ILogger _logger;

    public GroupCoordinator(GroupCoordinatorOptions options, TimeProvider time, IOffsetsLog log, ILogger logger, ITopicCatalog? topics = null, GroupConfigs? configs = null)
    {
        Options = options;
        Configs = configs ?? GroupConfigs.InMemory(options);
        _shards = Enumerable.Range(0, options.OffsetsTopicPartitions)
            .Select(p => new GroupShard(p, options, time, log, topics ?? EmptyTopicCatalog.Instance, _views, Events, logger, Configs)).ToArray();
        _logger = logger;
        _expiry = time.CreateTimer(_ =>
        {
            try
            {
                ExpireOffsets();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Offset expiry failed");
            }
        }, null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    public GroupCoordinatorOptions Options { get; }

    /// <summary>Per-group overrides of the consumer- and share-group settings (Kafka's group configs).</summary>
    public GroupConfigs Configs { get; }

    /// <summary>Every applied group change, for observers (a console, tests).</summary>
    public GroupEvents Events { get; } = new();

    /// <summary>The latest view of every group, published after each applied change; read without any shard lock.</summary>
    public IReadOnlyDictionary<string, GroupView> Views => _views;

    public GroupView? View(string groupId) => _views.GetValueOrDefault(groupId);

    public IReadOnlyList<GroupShard> Shards => _shards;

    public GroupShard ShardFor(string groupId) => _shards[OffsetsTopic.PartitionFor(groupId, _shards.Length)];

    /// <summary>Told when share members leave and share groups are deleted; set once, before serving.</summary>
    public Share.IShareGroupListener? ShareListener
    {
        get => _shards.Length > 0 ? _shards[0].ShareListener : null;
        set
        {
            foreach (var shard in _shards)
                shard.ShareListener = value;
        }
    }

    /// <summary>Replays every record of __consumer_offsets, partition by partition, before serving.</summary>
    public void Load(Func<int, IEnumerable<(byte[] Key, byte[]? Value)>> recordsOfPartition) =>
        LoadEntries(p => recordsOfPartition(p).Select(r => new OffsetsLogEntry(r.Key, r.Value)));

    /// <summary>Replays every record, transactional batches and markers included, partition by partition, before serving.</summary>
    public void LoadEntries(Func<int, IEnumerable<OffsetsLogEntry>> recordsOfPartition)
    {
        foreach (var shard in _shards)
        {
            shard.BeginLoad();
            foreach (var entry in recordsOfPartition(shard.Partition))
            {
                try
                {
                    if (entry.Marker is { } marker)
                        shard.ReplayTxnMarker(entry.ProducerId, marker == Samsa.Protocol.Records.ControlRecordType.Commit);
                    else if (entry.ProducerId >= 0)
                        shard.ReplayTransactional(entry.ProducerId, entry.Key, entry.Value);
                    else
                        shard.Replay(entry.Key, entry.Value);
                }
                catch (ProtocolException)
                {
                    // A record another tool wrote in a format we do not know: skip it, as Kafka does.
                }
            }
            shard.EndLoad();
        }
    }

    public void ExpireOffsets()
    {
        foreach (var shard in _shards)
            shard.ExpireOffsets();
    }

    /// <summary>
    /// Topics were created, deleted or grew: consumer groups subscribed to any of them bump their
    /// epoch so the next heartbeat computes a new target assignment.
    /// </summary>
    public void TopicsChanged(IReadOnlyCollection<string> topics)
    {
        foreach (var shard in _shards)
            shard.TopicsChanged(topics);
    }

    /// <summary>Stops expiry and every shard's timers before the logs they write to are closed.</summary>
    public void Dispose()
    {
        _expiry.Dispose();
        foreach (var shard in _shards)
            shard.Close();
    }
}
