using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Samsa.Client.Internal.Consumer;
using Samsa.Client.Internal.Group;

namespace Samsa.Client.Consumer;

public sealed partial class KafkaConsumer<TKey, TValue>
{
    private static readonly IReadOnlyList<ConsumeResult<TKey, TValue>> NoRecords = [];
    private long _nextAutoCommit;
    private long _positionsRetryAt;
    private Task? _metadataRefresh;

    /// <summary>Blocks up to <paramref name="timeout"/> for records; returns at most max.poll.records.</summary>
    public IReadOnlyList<ConsumeResult<TKey, TValue>> Poll(TimeSpan timeout) => RunSync(PollAsync(timeout, CancellationToken.None));

    /// <summary>
    /// Kafka's poll: takes part in rebalances (listeners run here), commits on the auto-commit
    /// schedule, resolves positions (committed offset or auto.offset.reset), returns what has
    /// been fetched (up to max.poll.records) and sends the next fetches before returning, so they
    /// are under way while the records are processed. Returns an empty list after
    /// <paramref name="timeout"/>; throws <see cref="WakeupException"/> after <see cref="Wakeup"/>.
    /// </summary>
    public async ValueTask<IReadOnlyList<ConsumeResult<TKey, TValue>>> PollAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (_subscriptions.Kind == SubscriptionKind.None)
            throw new InvalidOperationException("The consumer is not subscribed to any topic and has no assigned partitions: call Subscribe or Assign first.");
        if (Interlocked.Exchange(ref _wakeupPending, 0) == 1)
            throw new WakeupException();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Volatile.Write(ref _pollCancellation, cancellation);
        // Closes the race with a Wakeup() that read the previous (null) source.
        if (Volatile.Read(ref _wakeupPending) == 1)
            await cancellation.CancelAsync().ConfigureAwait(false);
        var token = cancellation.Token;
        long start = _time.GetTimestamp();
        long started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                _coordinator?.OnPoll();
                ThrowIfFatal();
                ApplyRebalances();
                RunCommitCallbacks();
                MaybeAutoCommit();
                if (_fetcher.OutOfRange.Count > 0)
                {
                    var partitions = _fetcher.OutOfRange.ToList();
                    _fetcher.OutOfRange.Clear();
                    throw new NoOffsetForPartitionException(partitions);
                }
                var left = timeout - _time.GetElapsedTime(start);
                await UpdatePositionsAsync(left, token).ConfigureAwait(false);
                var records = new List<ConsumeResult<TKey, TValue>>();
                _fetcher.Collect(_subscriptions, records, _options.MaxPollRecords);
                MaybeRefreshMetadata();
                _fetcher.SendFetches(_subscriptions);
                if (records.Count > 0)
                {
                    ConsumerTelemetry.Polled(records, _options.GroupId, _options.ClientId, started);
                    return records;
                }
                left = timeout - _time.GetElapsedTime(start);
                if (left <= TimeSpan.Zero)
                    return NoRecords;
                await _signal.WaitAsync(left, _time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (Interlocked.Exchange(ref _wakeupPending, 0) == 1)
        {
            throw new WakeupException();
        }
        finally
        {
            Volatile.Write(ref _pollCancellation, null);
        }
    }

    /// <summary>
    /// Records one at a time until <paramref name="cancellationToken"/> is cancelled (then
    /// OperationCanceledException, as every async stream). Equivalent to a Poll loop.
    /// </summary>
    public async IAsyncEnumerable<ConsumeResult<TKey, TValue>> ConsumeAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var records = await PollAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            foreach (var record in records)
                yield return record;
        }
    }

    private void ThrowIfFatal()
    {
        if (_coordinator?.FatalError is { } fatal)
            throw fatal;
        if (_coordinator?.TakeReportedError() is { } reported)
            throw reported;
    }

    /// <summary>Carries out the rebalance steps the group loop handed over, on this (the poll) thread.</summary>
    private void ApplyRebalances()
    {
        if (_coordinator is null)
            return;
        Exception? listenerError = null;
        while (_coordinator.TryTakeRebalance(out var step))
        {
            try
            {
                var plan = step.Plan;
                if (plan.Lost.Count > 0)
                {
                    Forget(plan.Lost);
                    Notify(ref listenerError, l => l.OnPartitionsLost(plan.Lost.Select(TopicPartition.From).ToList()));
                }
                if (plan.Revoked.Count > 0)
                {
                    if (_options.EnableAutoCommit)
                        CommitBeforeRevoke(plan.Revoked);
                    Notify(ref listenerError, l => l.OnPartitionsRevoked(plan.Revoked.Select(TopicPartition.From).ToList()));
                    Forget(plan.Revoked);
                }
                if (step.SetsAssignment)
                {
                    // Subscription reports the topics a pattern matches now.
                    _subscriptions.UpdateMatchedTopics(_cluster.Metadata.Topics.Keys);
                    _subscriptions.SetAssignment(plan.Owned);
                    Notify(ref listenerError, l => l.OnPartitionsAssigned(plan.Assigned.Select(TopicPartition.From).ToList()));
                }
            }
            finally
            {
                step.Done.TrySetResult();
            }
        }
        if (listenerError is not null)
            throw new KafkaException(Protocol.ErrorCode.UnknownServerError, $"The rebalance listener threw: {listenerError.Message}", listenerError);
    }

    private void Notify(ref Exception? error, Action<IConsumerRebalanceListener> call)
    {
        if (_listener is null)
            return;
        try
        {
            call(_listener);
        }
        catch (Exception e) when (e is not WakeupException)
        {
            _log.LogError(e, "The rebalance listener threw");
            error ??= e;
        }
    }

    private void CommitBeforeRevoke(IReadOnlyList<(string Topic, int Partition)> revoked)
    {
        var offsets = revoked
            .Where(tp => _subscriptions.TryGet(tp.Topic, tp.Partition, out var s) && s.Position is not null)
            .Select(tp =>
            {
                var state = _subscriptions.Get(tp.Topic, tp.Partition);
                return new TopicPartitionOffset(tp.Topic, tp.Partition, state.Position!.Value, state.PositionLeaderEpoch);
            })
            .ToList();
        if (offsets.Count == 0)
            return;
        try
        {
            RunSync(new ValueTask(CommitCoreAsync(offsets, retry: true, CancellationToken.None)));
        }
        catch (KafkaException e)
        {
            _log.LogWarning("Auto-commit before revoking partitions failed: {Message}", e.Message);
        }
    }

    private void Forget(IEnumerable<(string Topic, int Partition)> partitions)
    {
        foreach (var tp in partitions)
            _fetcher.Drop(tp);
        _subscriptions.RemoveFromAssignment(partitions);
    }

    private void MaybeAutoCommit()
    {
        if (!_options.EnableAutoCommit || _coordinator is null || _subscriptions.AssignedCount == 0)
            return;
        long now = _time.GetTimestamp();
        if (_nextAutoCommit == 0)
        {
            _nextAutoCommit = now + (long)(_options.AutoCommitInterval.TotalSeconds * _time.TimestampFrequency);
            return;
        }
        if (now < _nextAutoCommit)
            return;
        _nextAutoCommit = now + (long)(_options.AutoCommitInterval.TotalSeconds * _time.TimestampFrequency);
        var offsets = ConsumedOffsets();
        if (offsets.Count > 0)
            _ = CommitAsync(offsets, (_, error) =>
            {
                if (error is not null)
                    _log.LogInformation("Auto-commit failed: {Message}", error.Message);
            });
    }

    /// <summary>Committed offset (or auto.offset.reset) for partitions without a position; ListOffsets for pending resets.</summary>
    private async Task UpdatePositionsAsync(TimeSpan budget, CancellationToken token)
    {
        var missing = _subscriptions.Partitions().Where(p => p.State.Position is null).ToList();
        if (missing.Count == 0 || _time.GetTimestamp() < _positionsRetryAt)
            return;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token);
        bounded.CancelAfter(budget > TimeSpan.Zero ? budget : TimeSpan.FromMilliseconds(1));
        try
        {
            await ResolvePositionsAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            // The poll's time is up; the next poll carries on.
        }
        catch (KafkaException e) when (e.IsRetriable)
        {
            _log.LogDebug("Resolving positions failed: {Message}; retrying", e.Message);
            _positionsRetryAt = _time.GetTimestamp() + (long)(_options.RetryBackoff.TotalSeconds * _time.TimestampFrequency);
            _fetcher.MetadataStale = true;
        }
    }

    private async Task ResolvePositionsAsync(CancellationToken token)
    {
        var unknown = _subscriptions.Partitions()
            .Where(p => p.State.Position is null && p.State.PendingReset is null)
            .Select(p => new TopicPartition(p.Topic, p.Partition))
            .ToList();
        if (unknown.Count > 0)
        {
            var committed = _coordinator is null ? [] : await FetchCommittedAsync(unknown, token).ConfigureAwait(false);
            var noOffset = new List<TopicPartition>();
            foreach (var tp in unknown)
            {
                if (!_subscriptions.TryGet(tp.Topic, tp.Partition, out var state) || state.Position is not null || state.PendingReset is not null)
                    continue;
                if (committed.TryGetValue(tp, out var offset) && offset is { } o)
                {
                    state.Position = o.Offset;
                    state.PositionLeaderEpoch = o.LeaderEpoch;
                }
                else if (_options.AutoOffsetReset == AutoOffsetReset.None)
                {
                    noOffset.Add(tp);
                }
                else
                {
                    state.PendingReset = _options.AutoOffsetReset == AutoOffsetReset.Earliest ? OffsetResetRequest.Earliest : OffsetResetRequest.Latest;
                }
            }
            if (noOffset.Count > 0)
                throw new NoOffsetForPartitionException(noOffset);
        }
        var resets = _subscriptions.Partitions().Where(p => p.State.PendingReset is not null).ToList();
        if (resets.Count == 0)
            return;
        var found = await ListOffsetsAsync(resets.Select(p => (new TopicPartition(p.Topic, p.Partition), p.State.PendingReset!.Value.Timestamp)), token).ConfigureAwait(false);
        foreach (var (topic, partition, state) in resets)
        {
            if (state.PendingReset is not { } reset)
                continue;
            if (found.TryGetValue(new TopicPartition(topic, partition), out var result) && result is { } r)
            {
                state.Position = r.Offset;
                state.PositionLeaderEpoch = r.LeaderEpoch;
                state.PendingReset = null;
                _log.LogDebug("Position of {Topic}-{Partition} reset to {Offset} ({Reset})", topic, partition, r.Offset, reset.Timestamp);
            }
        }
    }

    /// <summary>Refreshes metadata in the background when a fetch found it stale or a partition has no known leader.</summary>
    private void MaybeRefreshMetadata()
    {
        if (!_fetcher.MetadataStale || _metadataRefresh is { IsCompleted: false })
            return;
        _fetcher.MetadataStale = false;
        var topics = _subscriptions.Partitions().Select(p => p.Topic).Distinct().ToList();
        _metadataRefresh = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(_options.RetryBackoff, _time).ConfigureAwait(false);
                await _cluster.RefreshMetadataAsync(topics, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException)
            {
                _fetcher.MetadataStale = true;
                _log.LogDebug("Metadata refresh failed: {Message}", e.Message);
            }
            _signal.Set();
        });
    }
}
