using Microsoft.Extensions.Logging;
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
    private readonly ITimer _expiry;
    private readonly ILogger _logger;

    public GroupCoordinator(GroupCoordinatorOptions options, TimeProvider time, IOffsetsLog log, ILogger logger)
    {
        Options = options;
        _shards = Enumerable.Range(0, options.OffsetsTopicPartitions).Select(p => new GroupShard(p, options, time, log, logger)).ToArray();
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

    public IReadOnlyList<GroupShard> Shards => _shards;

    public GroupShard ShardFor(string groupId) => _shards[OffsetsTopic.PartitionFor(groupId, _shards.Length)];

    /// <summary>Replays every record of __consumer_offsets, partition by partition, before serving.</summary>
    public void Load(Func<int, IEnumerable<(byte[] Key, byte[]? Value)>> recordsOfPartition)
    {
        foreach (var shard in _shards)
        {
            shard.BeginLoad();
            foreach (var (key, value) in recordsOfPartition(shard.Partition))
            {
                try
                {
                    shard.Replay(key, value);
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

    public IEnumerable<ListGroupsResponse.ListedGroup> ListGroups() => _shards.SelectMany(s => s.List());

    /// <summary>Stops expiry and every shard's timers before the logs they write to are closed.</summary>
    public void Dispose()
    {
        _expiry.Dispose();
        foreach (var shard in _shards)
            shard.Close();
    }
}
