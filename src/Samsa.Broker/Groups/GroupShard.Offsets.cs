using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// OffsetCommit v0-10. A commit with a negative generation and no member id is a "simple" commit
    /// (standalone consumers, admin tools), allowed only while the group has no members. Otherwise a
    /// classic group wants the current generation, a consumer group the member's current epoch
    /// (STALE_MEMBER_EPOCH otherwise). The records are appended, then applied through Replay.
    /// </summary>
    public OffsetCommitResponse OffsetCommit(OffsetCommitRequest request, short version) =>
        Run<OffsetCommitResponse>(() =>
        {
            var error = ValidateCommit(request, version);
            var response = new OffsetCommitResponse();
            var records = new List<CoordinatorRecord>();
            long now = Now;
            foreach (var t in request.Topics)
            {
                var tr = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = t.Name, TopicId = t.TopicId };
                response.Topics.Add(tr);
                foreach (var p in t.Partitions)
                {
                    var pr = new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error };
                    tr.Partitions.Add(pr);
                    if (error != ErrorCode.None)
                        continue;
                    string metadata = p.CommittedMetadata ?? "";
                    if (System.Text.Encoding.UTF8.GetByteCount(metadata) > _options.OffsetMetadataMaxBytes)
                    {
                        pr.ErrorCode = ErrorCode.OffsetMetadataTooLarge;
                        continue;
                    }
                    // v1 carried a per-partition commit timestamp; v2-4 a retention time (written as value v1).
                    long expire = version is >= 2 and <= 4 && request.RetentionTimeMs > 0 ? now + request.RetentionTimeMs : -1;
                    var committed = new CommittedOffset(p.CommittedOffset, p.CommittedLeaderEpoch, metadata, version == 1 && p.CommitTimestamp >= 0 ? p.CommitTimestamp : now, expire);
                    records.Add(new(OffsetsTopic.OffsetKey(request.GroupId, t.Name, p.PartitionIndex), OffsetsTopic.OffsetValue(committed)));
                }
            }
            return new CoordinatorResult<OffsetCommitResponse>(response, records, failed: storeError => CommitFailed(request, storeError));
        }, (error, _) => CommitFailed(request, error));

    private static OffsetCommitResponse CommitFailed(OffsetCommitRequest request, ErrorCode error) => new()
    {
        Topics = request.Topics.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
        {
            Name = t.Name,
            TopicId = t.TopicId,
            Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error }).ToList(),
        }).ToList(),
    };

    /// <summary>Kafka's OffsetMetadataManager/ClassicGroup.validateOffsetCommit rules.</summary>
    private ErrorCode ValidateCommit(OffsetCommitRequest request, short version)
    {
        if (request.GroupId.Length == 0)
            return ErrorCode.InvalidGroupId;
        int generation = request.GenerationIdOrMemberEpoch;
        var group = _groups.GetValueOrDefault(request.GroupId);
        if (group is null)
        {
            // A negative generation is a standalone consumer or an admin tool: the group comes into
            // being with the offsets. A member of a group that does not exist is told so.
            if (generation < 0)
                return ErrorCode.None;
            return version >= 9 ? ErrorCode.GroupIdNotFound : ErrorCode.IllegalGeneration;
        }
        if (group is ConsumerGroup consumer)
            return ValidateConsumerCommit(consumer, request.MemberId, generation, version);
        if (group is Share.ShareGroup)
            return ErrorCode.GroupIdNotFound; // as Kafka: the group is not a consumer group
        var classic = (ClassicGroup)group;
        if (classic.State == GroupState.Dead)
            return ErrorCode.CoordinatorNotAvailable;
        if (generation < 0 && classic.State == GroupState.Empty)
            return ErrorCode.None;
        if (generation >= 0 || request.MemberId.Length > 0 || request.GroupInstanceId is not null)
        {
            var error = ValidateMember(request.GroupId, request.MemberId, request.GroupInstanceId, generation, out _, out var member);
            if (error != ErrorCode.None)
                return error;
            if (classic.State == GroupState.CompletingRebalance)
                return ErrorCode.RebalanceInProgress;
            RestartSessionTimer(classic, member!);
            return ErrorCode.None;
        }
        return ErrorCode.UnknownMemberId; // no member id, and the group has members
    }

    /// <summary>
    /// Committed offsets of a group: all of them, or the listed partitions (null for unknown ones).
    /// A member of a consumer group that names itself (OffsetFetch v9+) must be at its current epoch.
    /// </summary>
    public (ErrorCode Error, IReadOnlyList<(string Topic, int Partition, CommittedOffset? Offset)> Offsets) FetchOffsets(
        string groupId, IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)>? topics, string? memberId = null, int memberEpoch = -1)
    {
        lock (_lock)
        {
            // Share groups keep no committed offsets; Kafka refuses OffsetFetch for them.
            if (_groups.GetValueOrDefault(groupId) is Share.ShareGroup { Deleted: false })
                return (ErrorCode.GroupIdNotFound, []);
            if (_groups.GetValueOrDefault(groupId) is ConsumerGroup consumer && (memberId is not null || memberEpoch >= 0))
            {
                var error = ValidateConsumerFetch(consumer, memberId, memberEpoch);
                if (error != ErrorCode.None)
                    return (error, []);
            }
            var offsets = _offsets.GetValueOrDefault(groupId);
            if (topics is null)
            {
                return (ErrorCode.None, offsets is null
                    ? []
                    : offsets.OrderBy(kv => kv.Key.Topic, StringComparer.Ordinal).ThenBy(kv => kv.Key.Partition)
                        .Select(kv => (kv.Key.Topic, kv.Key.Partition, (CommittedOffset?)kv.Value)).ToList());
            }
            var result = new List<(string, int, CommittedOffset?)>();
            foreach (var (topic, partitions) in topics)
            {
                foreach (int p in partitions)
                    result.Add((topic, p, offsets is not null && offsets.TryGetValue((topic, p), out var o) ? o : null));
            }
            return (ErrorCode.None, result);
        }
    }

    public bool GroupExists(string groupId)
    {
        lock (_lock)
            return _groups.ContainsKey(groupId);
    }

    /// <summary>OffsetDelete: only for partitions the group is not consuming (Kafka's rule).</summary>
    public OffsetDeleteResponse OffsetDelete(OffsetDeleteRequest request) =>
        Run<OffsetDeleteResponse>(() =>
        {
            var response = new OffsetDeleteResponse();
            if (!_groups.TryGetValue(request.GroupId, out var group) || group is Share.ShareGroup)
            {
                response.ErrorCode = ErrorCode.GroupIdNotFound;
                return response;
            }
            if (group is ClassicGroup { State: not GroupState.Empty } classic && classic.ProtocolType != "consumer")
            {
                response.ErrorCode = ErrorCode.NonEmptyGroup;
                return response;
            }
            var subscribed = group.IsEmpty ? [] : SubscribedTopics(group);
            var offsets = _offsets.GetValueOrDefault(request.GroupId);
            var records = new List<CoordinatorRecord>();
            foreach (var t in request.Topics)
            {
                var tr = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = t.Name };
                response.Topics.Add(tr);
                foreach (var p in t.Partitions)
                {
                    var pr = new OffsetDeleteResponse.OffsetDeleteResponsePartition { PartitionIndex = p.PartitionIndex };
                    tr.Partitions.Add(pr);
                    if (subscribed.Contains(t.Name))
                        pr.ErrorCode = ErrorCode.GroupSubscribedToTopic;
                    else if (offsets is not null && offsets.ContainsKey((t.Name, p.PartitionIndex)))
                        records.Add(new(OffsetsTopic.OffsetKey(group.GroupId, t.Name, p.PartitionIndex), null));
                }
            }
            return new CoordinatorResult<OffsetDeleteResponse>(response, records);
        }, (error, _) => new OffsetDeleteResponse { ErrorCode = error });

    private static HashSet<string> SubscribedTopics(Group group)
    {
        if (group is ConsumerGroup consumer)
            return consumer.SubscribedTopicNames();
        var classic = (ClassicGroup)group;
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in classic.Members.Values)
        {
            try
            {
                var sub = VersionedData.Read<ConsumerProtocolSubscription>(m.MetadataFor(classic.ProtocolName), out _);
                if (sub is not null)
                    topics.UnionWith(sub.Topics);
            }
            catch (ProtocolException)
            {
                // A member with an unreadable subscription subscribes to nothing we can name.
            }
        }
        return topics;
    }

    /// <summary>
    /// Drops committed offsets past offsets.retention.minutes: for an empty group, counted from when it
    /// became empty (or from the commit, if later); for a v1 value with an explicit expiry, at that time.
    /// A group left with neither members nor offsets is removed, as Kafka does.
    /// </summary>
    public void ExpireOffsets() =>
        Run<bool>(() =>
        {
            long now = Now;
            long retention = (long)_options.OffsetsRetention.TotalMilliseconds;
            var records = new List<CoordinatorRecord>();
            foreach (var (groupId, offsets) in _offsets)
            {
                var group = _groups.GetValueOrDefault(groupId);
                if (group is not null && !group.IsEmpty)
                    continue;
                long emptySince = group is ClassicGroup c ? c.StateTimestamp : group is ConsumerGroup g ? g.StateTimestamp : 0;
                foreach (var ((topic, partition), offset) in offsets)
                {
                    long expiresAt = offset.ExpireTimestamp >= 0 ? offset.ExpireTimestamp : Math.Max(offset.CommitTimestamp, emptySince) + retention;
                    if (now >= expiresAt)
                        records.Add(new(OffsetsTopic.OffsetKey(groupId, topic, partition), null));
                }
            }
            return new CoordinatorResult<bool>(true, records, applied: () =>
            {
                // Share groups do not expire (Kafka's ShareGroup.shouldExpire is false).
                foreach (var group in _groups.Values.Where(g => g.IsEmpty && !g.IsDead && g is not Share.ShareGroup && !_offsets.ContainsKey(g.GroupId)).ToList())
                    DeleteGroupLocked(group);
            });
        }, (_, _) => false);
}
