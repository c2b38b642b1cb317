using Samsa.Client.Internal;
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

    /// <inheritdoc />
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

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<TopicPartition, OffsetAndTimestamp?>> OffsetsForTimesAsync(IReadOnlyDictionary<TopicPartition, DateTimeOffset> timestamps, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DefaultApiTimeout);
        return await ListOffsetsAsync(timestamps.Select(t => (t.Key, t.Value.ToUnixTimeMilliseconds())), timeout.Token).ConfigureAwait(false);
    }

    /// <inheritdoc />
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

    private Task<Dictionary<TopicPartition, OffsetAndTimestamp?>> ListOffsetsAsync(IEnumerable<(TopicPartition Partition, long Timestamp)> query, CancellationToken cancellationToken) =>
        OffsetLookup.ListOffsetsAsync(_cluster, _options.IsolationLevel == IsolationLevel.ReadCommitted, _options.RequestTimeout, _options.RetryBackoff, query, cancellationToken);
}
