using Samsa.Client.Internal;
using Microsoft.Extensions.Logging;
using Samsa.Client.Internal.Consumer;
using Samsa.Client.Internal.Group;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Consumer;

/// <summary>An offset found by timestamp (<see cref="KafkaConsumer{TKey,TValue}.OffsetsForTimes"/>).</summary>
public sealed record OffsetAndTimestamp(long Offset, long TimestampMs, int? LeaderEpoch);

public sealed partial class KafkaConsumer<TKey, TValue>
{
    private Task _commitChain = Task.CompletedTask;

    /// <summary>
    /// Kafka's commitSync: commits the positions of every assigned partition (the offsets after
    /// the records poll returned), or the given offsets, and waits; retriable errors are retried
    /// until default.api.timeout.ms. Throws <see cref="CommitFailedException"/> when the group has
    /// moved on without this member.
    /// </summary>
    public void CommitSync(IEnumerable<TopicPartitionOffset>? offsets = null) => RunSync(CommitSyncAsync(offsets));

    /// <summary>The awaitable form of <see cref="CommitSync"/>: the same retries and errors.</summary>
    public async ValueTask CommitSyncAsync(IEnumerable<TopicPartitionOffset>? offsets = null, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        await CommitCoreAsync(offsets?.ToList() ?? ConsumedOffsets(), retry: true, cancellationToken).ConfigureAwait(false);
        RunCommitCallbacks();
    }

    /// <summary>
    /// Kafka's commitAsync: sends the commit and returns at once. It is not retried (a retry could
    /// land after a later commit and move the offset back); commits reach the coordinator in call
    /// order. <paramref name="onComplete"/> runs on the poll thread during a later Poll, CommitSync
    /// or Close; the returned task completes (or fails) when the coordinator answered.
    /// </summary>
    public Task CommitAsync(IEnumerable<TopicPartitionOffset>? offsets = null, Action<IReadOnlyList<TopicPartitionOffset>, Exception?>? onComplete = null)
    {
        ThrowIfClosed();
        var list = offsets?.ToList() ?? ConsumedOffsets();
        var commit = CommitAfterAsync(_commitChain, list, onComplete);
        _commitChain = commit.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return commit;
    }

    /// <summary>
    /// Waits for the previous commit, sends this one, and queues its callback before completing,
    /// so the next commit cannot start (or report) first: callbacks run in commit order.
    /// </summary>
    private async Task CommitAfterAsync(Task previous, List<TopicPartitionOffset> offsets, Action<IReadOnlyList<TopicPartitionOffset>, Exception?>? onComplete)
    {
        await previous.ConfigureAwait(false);
        Exception? error = null;
        try
        {
            await CommitCoreAsync(offsets, retry: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            error = e;
        }
        if (onComplete is not null)
            _completedCommits.Enqueue(() => onComplete(offsets, error));
        _signal.Set();
        if (error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    private void RunCommitCallbacks()
    {
        while (_completedCommits.TryDequeue(out var callback))
        {
            try
            {
                callback();
            }
            catch (Exception e)
            {
                _log.LogError(e, "A commit callback threw");
            }
        }
    }

    private List<TopicPartitionOffset> ConsumedOffsets() =>
        _subscriptions.ConsumedPositions().Select(p => new TopicPartitionOffset(p.Topic, p.Partition, p.Offset, p.LeaderEpoch)).ToList();

    private async Task CommitCoreAsync(List<TopicPartitionOffset> offsets, bool retry, CancellationToken cancellationToken)
    {
        if (_coordinator is null)
            throw new KafkaConfigException("group.id", "Committing offsets needs group.id: offsets are stored per group.");
        if (offsets.Count == 0)
            return;
        long deadline = _time.GetTimestamp() + (long)(_options.DefaultApiTimeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            ErrorCode error;
            try
            {
                error = await SendCommitAsync(offsets, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaConnectionException e)
            {
                _coordinator.ForgetCoordinator();
                if (!retry || _time.GetTimestamp() >= deadline)
                    throw new Errors.RetriableKafkaException(ErrorCode.NetworkException, $"Commit failed: {e.Message}", e);
                await Task.Delay(_options.RetryBackoff, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            switch (error)
            {
                case ErrorCode.None:
                    return;
                case ErrorCode.FencedInstanceId:
                    // Kafka's FencedInstanceIdException: fatal, unlike a lost generation.
                    throw new KafkaException(error, $"Commit refused: another consumer joined with group.instance.id '{_options.GroupInstanceId}' and fenced this one. Give every instance its own id.");
                case ErrorCode.UnknownMemberId or ErrorCode.IllegalGeneration:
                    throw new CommitFailedException(error,
                        $"Commit failed with {error}: this member is no longer part of the group's current generation (it was rebalanced away, " +
                        "probably because poll was not called within max.poll.interval.ms). Poll again to rejoin; uncommitted records may be delivered again.");
                case ErrorCode.FencedMemberEpoch:
                    throw new CommitFailedException(error,
                        "Commit failed with FENCED_MEMBER_EPOCH: the group fenced this member and gave its partitions to others. Poll again to rejoin; uncommitted records may be delivered again.");
                case ErrorCode.StaleMemberEpoch:
                    // The consumer protocol: the epoch moved on between the heartbeat and the commit;
                    // the next attempt carries the new one.
                    if (!retry || _time.GetTimestamp() >= deadline)
                        throw new CommitFailedException(error, "Commit failed with STALE_MEMBER_EPOCH: the member's epoch moved on while committing. Poll again and commit again.");
                    break;
                case ErrorCode.RebalanceInProgress:
                    throw new KafkaException(error, "Commit refused: the group is rebalancing. Poll to complete the rebalance, then commit again.");
                case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.RequestTimedOut:
                    _coordinator.ForgetCoordinator();
                    break;
                case ErrorCode.CoordinatorLoadInProgress or ErrorCode.UnknownTopicOrPartition:
                    break;
                default:
                    throw KafkaException.FromError(error, "offset commit");
            }
            if (!retry || _time.GetTimestamp() >= deadline)
                throw KafkaException.FromError(error, "offset commit");
            await Task.Delay(_options.RetryBackoff, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ErrorCode> SendCommitAsync(List<TopicPartitionOffset> offsets, CancellationToken cancellationToken)
    {
        var coordinator = await _coordinator!.CoordinatorForOffsetsAsync(cancellationToken).ConfigureAwait(false);
        // A member commits in its generation; a standalone consumer (Assign) with generation -1.
        var generation = _subscriptions.Kind is SubscriptionKind.Topics or SubscriptionKind.Pattern ? _coordinator.Generation : GenerationInfo.None;
        var metadata = _cluster.Metadata;
        var request = new OffsetCommitRequest
        {
            GroupId = _options.GroupId!,
            GenerationIdOrMemberEpoch = generation.GenerationId,
            MemberId = generation.MemberId,
            GroupInstanceId = generation.GenerationId >= 0 ? _options.GroupInstanceId : null,
            Topics = offsets.GroupBy(o => o.Topic, StringComparer.Ordinal).Select(g => new OffsetCommitRequest.OffsetCommitRequestTopic
            {
                Name = g.Key,
                TopicId = metadata.TopicId(g.Key),
                Partitions = g.Select(o => new OffsetCommitRequest.OffsetCommitRequestPartition
                {
                    PartitionIndex = o.Partition,
                    CommittedOffset = o.Offset,
                    CommittedLeaderEpoch = o.LeaderEpoch ?? -1,
                    CommittedMetadata = o.Metadata ?? "",
                }).ToList(),
            }).ToList(),
        };
        var connection = await _cluster.ConnectAsync(coordinator, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
        if (!connection.TryGetVersion(ApiKey.OffsetCommit, out short version))
            throw new Errors.UnsupportedVersionException($"{coordinator} speaks no OffsetCommit version this client knows.");
        if (request.Topics.Any(t => t.TopicId == Guid.Empty))
            version = Math.Min(version, (short)9); // v10 names topics by id only
        var response = await connection.SendAsync<OffsetCommitResponse>(request, version, cancellationToken).ConfigureAwait(false);
        return response.Topics.SelectMany(t => t.Partitions).Select(p => p.ErrorCode).FirstOrDefault(e => e != ErrorCode.None);
    }

    /// <summary>The group's committed offsets for these partitions (null where none).</summary>
    public IReadOnlyDictionary<TopicPartition, TopicPartitionOffset?> Committed(IEnumerable<TopicPartition> partitions) =>
        RunSync(CommittedAsync(partitions));

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<TopicPartition, TopicPartitionOffset?>> CommittedAsync(IEnumerable<TopicPartition> partitions, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (_coordinator is null)
            throw new KafkaConfigException("group.id", "Reading committed offsets needs group.id.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DefaultApiTimeout);
        var list = partitions.ToList();
        var found = await FetchCommittedAsync(list, timeout.Token).ConfigureAwait(false);
        return list.ToDictionary(tp => tp, tp => found.TryGetValue(tp, out var o) ? o : null);
    }

    /// <summary>OffsetFetch, retried while the coordinator moves, loads or has unstable (transactional) offsets.</summary>
    private async Task<Dictionary<TopicPartition, TopicPartitionOffset?>> FetchCommittedAsync(IReadOnlyCollection<TopicPartition> partitions, CancellationToken cancellationToken)
    {
        var topics = partitions.GroupBy(p => p.Topic, StringComparer.Ordinal).ToList();
        while (true)
        {
            var request = new OffsetFetchRequest
            {
                GroupId = _options.GroupId!,
                Topics = topics.Select(g => new OffsetFetchRequest.OffsetFetchRequestTopic { Name = g.Key, PartitionIndexes = g.Select(p => p.Partition).ToList() }).ToList(),
                Groups =
                [
                    new OffsetFetchRequest.OffsetFetchRequestGroup
                    {
                        GroupId = _options.GroupId!,
                        Topics = topics.Select(g => new OffsetFetchRequest.OffsetFetchRequestTopics { Name = g.Key, TopicId = _cluster.Metadata.TopicId(g.Key), PartitionIndexes = g.Select(p => p.Partition).ToList() }).ToList(),
                    },
                ],
                RequireStable = true,
            };
            ErrorCode error;
            var result = new Dictionary<TopicPartition, TopicPartitionOffset?>();
            try
            {
                var coordinator = await _coordinator!.CoordinatorForOffsetsAsync(cancellationToken).ConfigureAwait(false);
                var connection = await _cluster.ConnectAsync(coordinator, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
                if (!connection.TryGetVersion(ApiKey.OffsetFetch, out short version))
                    throw new Errors.UnsupportedVersionException($"{coordinator} speaks no OffsetFetch version this client knows.");
                if (request.Groups[0].Topics!.Any(t => t.TopicId == Guid.Empty))
                    version = Math.Min(version, (short)9); // v10 names topics by id only
                var response = await connection.SendAsync<OffsetFetchResponse>(request, version, cancellationToken).ConfigureAwait(false);
                error = OffsetLookup.ReadCommitted(response, _cluster.Metadata, result);
            }
            catch (KafkaConnectionException)
            {
                _coordinator!.ForgetCoordinator();
                error = ErrorCode.NetworkException;
            }
            switch (error)
            {
                case ErrorCode.None:
                    return result;
                case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.NetworkException:
                    _coordinator!.ForgetCoordinator();
                    break;
                case ErrorCode.CoordinatorLoadInProgress or ErrorCode.UnstableOffsetCommit:
                    break;
                case ErrorCode.UnknownTopicOrPartition:
                    return result; // nothing committed for a partition the broker does not know
                default:
                    throw KafkaException.FromError(error, $"fetching committed offsets of group {_options.GroupId}");
            }
            await Task.Delay(_options.RetryBackoff, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
