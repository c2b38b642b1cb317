using Samsa.Client.Internal.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Consumer;

public sealed partial class KafkaConsumer<TKey, TValue>
{
    /// <summary>The next poll returns records of this partition from <paramref name="offset"/>.</summary>
    public void Seek(TopicPartitionOffset offset)
    {
        ThrowIfClosed();
        _subscriptions.Seek(offset.Topic, offset.Partition, offset.Offset);
        _subscriptions.Get(offset.Topic, offset.Partition).PositionLeaderEpoch = offset.LeaderEpoch;
        _fetcher.Drop((offset.Topic, offset.Partition));
    }

    /// <summary>Resolved lazily (on the next poll or Position): the log start offset of each partition.</summary>
    public void SeekToBeginning(IEnumerable<TopicPartition> partitions) => Reset(partitions, OffsetResetRequest.Earliest);

    /// <summary>Resolved lazily: the log end offset (the next record to be written).</summary>
    public void SeekToEnd(IEnumerable<TopicPartition> partitions) => Reset(partitions, OffsetResetRequest.Latest);

    private void Reset(IEnumerable<TopicPartition> partitions, OffsetResetRequest reset)
    {
        ThrowIfClosed();
        foreach (var tp in partitions)
        {
            _subscriptions.RequestReset(tp.Topic, tp.Partition, reset);
            _fetcher.Drop(tp.ToTuple());
        }
    }

    /// <summary>The offset of the next record poll will return for an assigned partition, resolving it first if needed.</summary>
    public long Position(TopicPartition partition) => RunSync(PositionAsync(partition));

    public async ValueTask<long> PositionAsync(TopicPartition partition, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var state = _subscriptions.Get(partition.Topic, partition.Partition);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DefaultApiTimeout);
        while (state.Position is null)
        {
            try
            {
                await ResolvePositionsAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (KafkaException e) when (e.IsRetriable)
            {
                await Task.Delay(_options.RetryBackoff, _time, timeout.Token).ConfigureAwait(false);
            }
        }
        return state.Position.Value;
    }

    /// <summary>For each partition, the earliest offset whose timestamp is at or after the given one (null if none).</summary>
    public IReadOnlyDictionary<TopicPartition, OffsetAndTimestamp?> OffsetsForTimes(IReadOnlyDictionary<TopicPartition, DateTimeOffset> timestamps) =>
        RunSync(OffsetsForTimesAsync(timestamps));

    public async ValueTask<IReadOnlyDictionary<TopicPartition, OffsetAndTimestamp?>> OffsetsForTimesAsync(IReadOnlyDictionary<TopicPartition, DateTimeOffset> timestamps, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DefaultApiTimeout);
        return await ListOffsetsAsync(timestamps.Select(t => (t.Key, t.Value.ToUnixTimeMilliseconds())), timeout.Token).ConfigureAwait(false);
    }

    public IReadOnlyDictionary<TopicPartition, long> BeginningOffsets(IEnumerable<TopicPartition> partitions) => RunSync(EdgeOffsetsAsync(partitions, -2, CancellationToken.None));

    /// <summary>The log end offsets (with read_committed, the last stable offsets).</summary>
    public IReadOnlyDictionary<TopicPartition, long> EndOffsets(IEnumerable<TopicPartition> partitions) => RunSync(EdgeOffsetsAsync(partitions, -1, CancellationToken.None));

    private async ValueTask<IReadOnlyDictionary<TopicPartition, long>> EdgeOffsetsAsync(IEnumerable<TopicPartition> partitions, long which, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DefaultApiTimeout);
        var found = await ListOffsetsAsync(partitions.Select(p => (p, which)), timeout.Token).ConfigureAwait(false);
        return found.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value!.Offset);
    }

    /// <summary>
    /// ListOffsets sent to each partition's leader (-2 earliest, -1 latest, or a timestamp), retried
    /// after a metadata refresh while leaders move or a partition is not yet known.
    /// </summary>
    private async Task<Dictionary<TopicPartition, OffsetAndTimestamp?>> ListOffsetsAsync(IEnumerable<(TopicPartition Partition, long Timestamp)> query, CancellationToken cancellationToken)
    {
        var pending = query.ToDictionary(q => q.Partition, q => q.Timestamp);
        var result = new Dictionary<TopicPartition, OffsetAndTimestamp?>();
        bool refreshed = false;
        while (pending.Count > 0)
        {
            var metadata = _cluster.Metadata;
            if (!refreshed && pending.Keys.Any(tp => metadata.Partition(tp.Topic, tp.Partition) is not { Leader: >= 0 }))
            {
                metadata = await _cluster.RefreshMetadataAsync(pending.Keys.Select(p => p.Topic).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
                refreshed = true;
            }
            foreach (var byLeader in pending.GroupBy(p => metadata.Partition(p.Key.Topic, p.Key.Partition)?.Leader ?? -1).ToList())
            {
                if (byLeader.Key < 0 || metadata.Brokers.GetValueOrDefault(byLeader.Key) is not { } node)
                {
                    continue;
                }
                var request = new ListOffsetsRequest
                {
                    ReplicaId = -1,
                    IsolationLevel = (sbyte)(_options.IsolationLevel == IsolationLevel.ReadCommitted ? 1 : 0),
                    TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
                    Topics = byLeader.GroupBy(p => p.Key.Topic, StringComparer.Ordinal).Select(t => new ListOffsetsRequest.ListOffsetsTopic
                    {
                        Name = t.Key,
                        Partitions = t.Select(p => new ListOffsetsRequest.ListOffsetsPartition
                        {
                            PartitionIndex = p.Key.Partition,
                            CurrentLeaderEpoch = metadata.Partition(p.Key.Topic, p.Key.Partition)?.LeaderEpoch ?? -1,
                            Timestamp = p.Value,
                            MaxNumOffsets = 1,
                        }).ToList(),
                    }).ToList(),
                };
                ListOffsetsResponse response;
                try
                {
                    response = await _cluster.SendAsync<ListOffsetsResponse>(node, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
                }
                catch (KafkaConnectionException)
                {
                    continue;
                }
                foreach (var t in response.Topics)
                {
                    foreach (var p in t.Partitions)
                    {
                        var tp = new TopicPartition(t.Name, p.PartitionIndex);
                        if (p.ErrorCode == ErrorCode.None)
                        {
                            long offset = p.OldStyleOffsets.Count > 0 ? p.OldStyleOffsets[0] : p.Offset;
                            result[tp] = offset >= 0 ? new OffsetAndTimestamp(offset, p.Timestamp, p.LeaderEpoch >= 0 ? p.LeaderEpoch : null) : null;
                            pending.Remove(tp);
                        }
                        else if (!p.ErrorCode.IsRetriable())
                        {
                            throw KafkaException.FromError(p.ErrorCode, $"listing offsets of {tp}");
                        }
                    }
                }
            }
            if (pending.Count > 0) // retriable errors, or partitions the broker left out
            {
                await Task.Delay(_options.RetryBackoff, _time, cancellationToken).ConfigureAwait(false);
                await _cluster.RefreshMetadataAsync(pending.Keys.Select(p => p.Topic).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
            }
        }
        return result;
    }
}
