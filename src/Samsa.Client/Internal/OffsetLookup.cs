using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal;

/// <summary>ListOffsets for the consumer (positions, offsets for times) and the admin client (log-end offsets, resets).</summary>
internal static class OffsetLookup
{
    /// <summary>
    /// ListOffsets sent to each partition's leader (-2 earliest, -1 latest, or a timestamp), retried
    /// after a metadata refresh while leaders move or a partition is not yet known.
    /// </summary>
    public static async Task<Dictionary<TopicPartition, OffsetAndTimestamp?>> ListOffsetsAsync(ClusterClient cluster, bool readCommitted, TimeSpan requestTimeout, TimeSpan retryBackoff,
        IEnumerable<(TopicPartition Partition, long Timestamp)> query, CancellationToken cancellationToken)
    {
        var pending = query.ToDictionary(q => q.Partition, q => q.Timestamp);
        var result = new Dictionary<TopicPartition, OffsetAndTimestamp?>();
        bool refreshed = false;
        while (pending.Count > 0)
        {
            var metadata = cluster.Metadata;
            if (!refreshed && pending.Keys.Any(tp => metadata.Partition(tp.Topic, tp.Partition) is not { Leader: >= 0 }))
            {
                metadata = await cluster.RefreshMetadataAsync(pending.Keys.Select(p => p.Topic).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
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
                    IsolationLevel = (sbyte)(readCommitted ? 1 : 0),
                    TimeoutMs = (int)requestTimeout.TotalMilliseconds,
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
                    response = await cluster.SendAsync<ListOffsetsResponse>(node, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
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
                await Task.Delay(retryBackoff, cluster.Time, cancellationToken).ConfigureAwait(false);
                metadata = await cluster.RefreshMetadataAsync(pending.Keys.Select(p => p.Topic).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
                // A topic the cluster does not have will not appear by retrying.
                var missing = pending.Keys.Where(tp => !metadata.Topics.TryGetValue(tp.Topic, out var t) || tp.Partition >= t.Partitions.Count).ToList();
                if (missing.Count > 0)
                    throw new Errors.UnknownTopicException($"No such topic or partition: {string.Join(", ", missing)}.");
            }
        }
        return result;
    }

    /// <summary>
    /// Reads an OffsetFetch response of any version (one group at the top level before v8, in
    /// Groups from v8; v10 names topics by id) into <paramref name="into"/>, null where nothing is
    /// committed. Returns the group's error, else the first partition error.
    /// </summary>
    public static ErrorCode ReadCommitted(OffsetFetchResponse response, ClusterMetadata metadata, Dictionary<TopicPartition, TopicPartitionOffset?> into)
    {
        void Add(string topic, int partition, long offset, int epoch, string? committedMetadata) =>
            into[new TopicPartition(topic, partition)] = offset >= 0
                ? new TopicPartitionOffset(topic, partition, offset, epoch >= 0 ? epoch : null, committedMetadata)
                : null;

        var error = ErrorCode.None;
        if (response.Groups.Count > 0)
        {
            var group = response.Groups[0];
            error = group.ErrorCode;
            foreach (var t in group.Topics)
            {
                string name = t.Name.Length > 0 ? t.Name : metadata.TopicName(t.TopicId) ?? "";
                foreach (var p in t.Partitions)
                {
                    error = error == ErrorCode.None ? p.ErrorCode : error;
                    Add(name, p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.Metadata);
                }
            }
            return error;
        }
        error = response.ErrorCode;
        foreach (var t in response.Topics)
        {
            foreach (var p in t.Partitions)
            {
                error = error == ErrorCode.None ? p.ErrorCode : error;
                Add(t.Name, p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.Metadata);
            }
        }
        return error;
    }
}
