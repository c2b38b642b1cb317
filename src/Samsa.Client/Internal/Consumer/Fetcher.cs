using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Client.Serialization;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Consumer;

/// <summary>A Fetch that finished (or failed): handed from the network to the poll thread.</summary>
internal sealed record CompletedFetch(
    BrokerNode Node,
    IReadOnlyDictionary<(string Topic, int Partition), long> FetchOffsets,
    IReadOnlyDictionary<Guid, string> TopicNames,
    FetchResponse? Response,
    ResponseBuffer? Buffer,
    Exception? Error);

/// <summary>
/// Kafka's Fetcher: one Fetch in flight per partition leader, sent for every fetchable partition
/// that has no buffered records, so the next records are on their way while the application
/// processes the current ones. Requests run on the network; their results queue up for the poll
/// thread, which alone touches positions, buffered records and the subscription state. Stale
/// results (a partition that was sought, revoked or paused meanwhile) are dropped by comparing the
/// fetch offset with the position.
/// </summary>
internal sealed class Fetcher<TKey, TValue> : IDisposable
{
    private readonly ClusterClient _cluster;
    private readonly ConsumerOptions _options;
    private readonly IDeserializer<TKey> _keys;
    private readonly IDeserializer<TValue> _values;
    private readonly ILogger _log;
    private readonly Action _onCompleted;
    private readonly ConcurrentQueue<CompletedFetch> _completed = new();
    private readonly ConcurrentDictionary<int, bool> _inFlight = new();
    private readonly ConcurrentDictionary<int, FetchSession> _sessions = new();
    private readonly Dictionary<(string Topic, int Partition), PartitionRecords> _buffered = [];
    private readonly CancellationTokenSource _closed = new();
    private int _rotation;

    public Fetcher(ClusterClient cluster, ConsumerOptions options, IDeserializer<TKey> keys, IDeserializer<TValue> values, ILogger log, Action onCompleted)
    {
        _cluster = cluster;
        _options = options;
        _keys = keys;
        _values = values;
        _log = log;
        _onCompleted = onCompleted;
    }

    /// <summary>Set when a response says our metadata is stale (leader moved, unknown partition).</summary>
    public bool MetadataStale { get; set; }

    /// <summary>Partitions whose fetch said OFFSET_OUT_OF_RANGE with auto.offset.reset=none: the next poll throws.</summary>
    public List<TopicPartition> OutOfRange { get; } = [];

    public void SendFetches(SubscriptionState subscriptions)
    {
        if (_closed.IsCancellationRequested)
            return;
        var metadata = _cluster.Metadata;
        var byNode = new Dictionary<int, List<(string Topic, int Partition, PartitionState State, PartitionMetadata Meta)>>();
        foreach (var (topic, partition, state) in subscriptions.Partitions())
        {
            if (!state.IsFetchable || _buffered.ContainsKey((topic, partition)))
                continue;
            var meta = metadata.Partition(topic, partition);
            if (meta is null || meta.Leader < 0 || !metadata.Brokers.ContainsKey(meta.Leader))
            {
                MetadataStale = true;
                continue;
            }
            if (_inFlight.ContainsKey(meta.Leader))
                continue;
            if (!byNode.TryGetValue(meta.Leader, out var list))
                byNode[meta.Leader] = list = [];
            list.Add((topic, partition, state, meta));
        }
        // A node whose other partitions still have buffered records gets a fetch that does not
        // wait: a long poll for caught-up partitions would hold the node's single in-flight fetch
        // while the buffered partitions drain and need their next fetch.
        var draining = _buffered.Keys.Select(k => metadata.Partition(k.Topic, k.Partition)?.Leader ?? -1).ToHashSet();
        foreach (var (nodeId, partitions) in byNode)
        {
            if (!_inFlight.TryAdd(nodeId, true))
                continue;
            var next = partitions.ToDictionary(p => (p.Topic, p.Partition), p => (p.State.Position!.Value, p.Meta.LeaderEpoch));
            int maxWait = draining.Contains(nodeId) ? 0 : (int)_options.FetchMaxWait.TotalMilliseconds;
            _ = SendAsync(metadata.Brokers[nodeId], next, maxWait, metadata);
        }
    }

    private async Task SendAsync(BrokerNode node, Dictionary<(string Topic, int Partition), (long Offset, int LeaderEpoch)> next, int maxWait, ClusterMetadata metadata)
    {
        FetchResponse? response = null;
        ResponseBuffer? buffer = null;
        Exception? error = null;
        var session = _sessions.GetOrAdd(node.Id, _ => new FetchSession());
        var offsets = next.ToDictionary(kv => kv.Key, kv => kv.Value.Offset);
        var names = new Dictionary<Guid, string>();
        try
        {
            var connection = await _cluster.ConnectAsync(node, ConnectionPurpose.Fetch, _closed.Token).ConfigureAwait(false);
            if (!connection.TryGetVersion(ApiKey.Fetch, out short version))
                throw new KafkaException(ErrorCode.UnsupportedVersion, $"{node} speaks no Fetch version this client knows.");
            if (next.Keys.Any(k => metadata.TopicId(k.Topic) == Guid.Empty))
                version = Math.Min(version, (short)12); // v13+ name topics by id only
            var plan = version >= 7 ? session.Plan(next) : FetchSession.Sessionless(next);
            var request = new FetchRequest
            {
                ReplicaId = -1,
                MaxWaitMs = maxWait,
                MinBytes = _options.FetchMinBytes,
                MaxBytes = _options.FetchMaxBytes,
                IsolationLevel = (sbyte)(_options.IsolationLevel == IsolationLevel.ReadCommitted ? 1 : 0),
                SessionId = plan.SessionId,
                SessionEpoch = plan.SessionEpoch,
                RackId = _options.ClientRack ?? "",
            };
            foreach (var topic in plan.Send.GroupBy(p => p.Partition.Topic, StringComparer.Ordinal))
            {
                var id = metadata.TopicId(topic.Key);
                names[id] = topic.Key;
                request.Topics.Add(new FetchRequest.FetchTopic
                {
                    Topic = topic.Key,
                    TopicId = id,
                    Partitions = topic.Select(p => new FetchRequest.FetchPartition
                    {
                        Partition = p.Partition.Partition,
                        CurrentLeaderEpoch = p.LeaderEpoch,
                        FetchOffset = p.Offset,
                        LogStartOffset = -1,
                        PartitionMaxBytes = _options.MaxPartitionFetchBytes,
                    }).ToList(),
                });
            }
            foreach (var topic in plan.Forget.GroupBy(p => p.Topic, StringComparer.Ordinal))
            {
                request.ForgottenTopicsData.Add(new FetchRequest.ForgottenTopic
                {
                    Topic = topic.Key,
                    TopicId = metadata.TopicId(topic.Key),
                    Partitions = topic.Select(p => p.Partition).ToList(),
                });
            }
            // Responses to an incremental fetch may name session partitions this request did not list.
            foreach (var topic in next.Keys.Select(k => k.Topic).Distinct())
                names[metadata.TopicId(topic)] = topic;
            var timeout = _cluster.Options.RequestTimeout + _options.FetchMaxWait;
            (response, buffer) = await connection.SendLeasedAsync<FetchResponse>(request, version, timeout, _closed.Token).ConfigureAwait(false);
            if (version >= 7)
                session.OnResponse(response.ErrorCode, response.SessionId);
        }
        catch (Exception e)
        {
            session.Reset(keepId: true);
            error = e;
        }
        finally
        {
            _completed.Enqueue(new CompletedFetch(node, offsets, names, response, buffer, error));
            _inFlight.TryRemove(node.Id, out _);
            _onCompleted();
        }
    }

    /// <summary>Turns completed fetches into buffered partition records, then hands out up to <paramref name="max"/> records.</summary>
    public int Collect(SubscriptionState subscriptions, List<ConsumeResult<TKey, TValue>> output, int max)
    {
        while (_completed.TryDequeue(out var fetch))
        {
            try
            {
                Absorb(subscriptions, fetch);
            }
            finally
            {
                fetch.Buffer?.Release();
            }
        }
        int added = 0;
        if (_buffered.Count == 0)
            return 0;
        // Start at a different partition each time, so one busy partition does not starve the rest.
        var keys = _buffered.Keys.ToList();
        int start = (int)((uint)_rotation++ % (uint)keys.Count);
        for (int i = 0; i < keys.Count && added < max; i++)
        {
            var key = keys[(start + i) % keys.Count];
            var records = _buffered[key];
            if (!subscriptions.TryGet(key.Topic, key.Partition, out var state) || state.Position is null || state.PendingReset is not null)
            {
                Drop(key);
                continue;
            }
            if (state.Paused)
                continue;
            added += records.Drain(state.Position.Value, output, max - added, _keys, _values);
            if (records.NextFetchOffset > state.Position.Value)
            {
                state.Position = records.NextFetchOffset;
                state.PositionLeaderEpoch = records.LastEpoch ?? state.PositionLeaderEpoch;
            }
            if (records.IsDrained)
                Drop(key);
        }
        return added;
    }

    private void Absorb(SubscriptionState subscriptions, CompletedFetch fetch)
    {
        if (fetch.Error is not null)
        {
            if (fetch.Error is OperationCanceledException && _closed.IsCancellationRequested)
                return;
            _log.LogDebug("Fetch from {Node} failed: {Message}", fetch.Node, fetch.Error.Message);
            MetadataStale = true;
            if (fetch.Error is KafkaException { IsRetriable: false } fatal)
                throw fatal;
            return;
        }
        var response = fetch.Response!;
        if (response.ErrorCode != ErrorCode.None)
        {
            _log.LogDebug("Fetch from {Node}: {Error}", fetch.Node, response.ErrorCode);
            return;
        }
        foreach (var topic in response.Responses)
        {
            string name = topic.Topic.Length > 0 ? topic.Topic : fetch.TopicNames.GetValueOrDefault(topic.TopicId, "");
            foreach (var p in topic.Partitions)
            {
                var key = (name, p.PartitionIndex);
                if (!fetch.FetchOffsets.TryGetValue(key, out long fetchOffset)
                    || !subscriptions.TryGet(name, p.PartitionIndex, out var state)
                    || state.Position != fetchOffset)
                    continue; // stale: sought, revoked or reset since the request went out
                switch (p.ErrorCode)
                {
                    case ErrorCode.None:
                        state.HighWatermark = p.HighWatermark;
                        state.LastStableOffset = p.LastStableOffset >= 0 ? p.LastStableOffset : null;
                        state.LogStartOffset = p.LogStartOffset >= 0 ? p.LogStartOffset : null;
                        if (p.Records is { Length: > 0 } records)
                        {
                            Drop(key);
                            _buffered[key] = new PartitionRecords(name, p.PartitionIndex, fetchOffset, records, fetch.Buffer!.AddReference(), _options.CheckCrcs,
                                _options.IsolationLevel == IsolationLevel.ReadCommitted,
                                p.AbortedTransactions?.Select(a => (a.ProducerId, a.FirstOffset)));
                        }
                        break;
                    case ErrorCode.OffsetOutOfRange:
                        _log.LogInformation("Offset {Offset} is out of range for {Topic}-{Partition}; resetting ({Policy})", fetchOffset, name, p.PartitionIndex, _options.AutoOffsetReset);
                        if (_options.AutoOffsetReset == AutoOffsetReset.None)
                            OutOfRange.Add(new TopicPartition(name, p.PartitionIndex));
                        else
                            subscriptions.RequestReset(name, p.PartitionIndex, _options.AutoOffsetReset == AutoOffsetReset.Earliest ? OffsetResetRequest.Earliest : OffsetResetRequest.Latest);
                        break;
                    case ErrorCode.TopicAuthorizationFailed:
                        throw KafkaException.FromError(p.ErrorCode, $"fetching {name}-{p.PartitionIndex}");
                    default:
                        // NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH,
                        // KAFKA_STORAGE_ERROR...: refresh metadata and fetch again from whoever leads now.
                        _log.LogDebug("Fetch {Topic}-{Partition} from {Node}: {Error}", name, p.PartitionIndex, fetch.Node, p.ErrorCode);
                        MetadataStale = true;
                        break;
                }
            }
        }
    }

    /// <summary>Forgets buffered records of a partition (sought, revoked, paused for good).</summary>
    public void Drop((string Topic, int Partition) partition)
    {
        if (_buffered.Remove(partition, out var records))
            records.Dispose();
    }

    public void DropAll()
    {
        foreach (var records in _buffered.Values)
            records.Dispose();
        _buffered.Clear();
    }

    public void Dispose()
    {
        _closed.Cancel();
        DropAll();
        while (_completed.TryDequeue(out var fetch))
            fetch.Buffer?.Release();
        _closed.Dispose();
    }
}
