using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// OffsetCommit v0-10. Members must be in the current generation; a commit with generation -1
    /// and no member id is a "simple" commit (standalone consumers, admin tools), allowed only while
    /// the group has no members. Records are appended, then applied through <see cref="Replay"/>.
    /// </summary>
    public OffsetCommitResponse OffsetCommit(OffsetCommitRequest request, short version)
    {
        lock (_lock)
        {
            var error = ValidateCommit(request);
            var response = new OffsetCommitResponse();
            var records = new List<(byte[] Key, byte[]? Value)>();
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
                    records.Add((OffsetsTopic.OffsetKey(request.GroupId, t.Name, p.PartitionIndex), OffsetsTopic.OffsetValue(committed)));
                }
            }
            if (records.Count > 0)
            {
                _log.Append(Partition, records);
                foreach (var (key, value) in records)
                    Replay(key, value);
            }
            return response;
        }
    }

    private ErrorCode ValidateCommit(OffsetCommitRequest request)
    {
        if (request.GroupId.Length == 0)
            return ErrorCode.InvalidGroupId;
        bool simple = request.GenerationIdOrMemberEpoch < 0 && request.MemberId.Length == 0 && request.GroupInstanceId is null;
        _groups.TryGetValue(request.GroupId, out var group);
        if (group?.State == GroupState.Dead)
            return ErrorCode.CoordinatorNotAvailable;
        if (simple)
            return group is null || group.State == GroupState.Empty ? ErrorCode.None : ErrorCode.UnknownMemberId;
        var error = ValidateMember(request.GroupId, request.MemberId, request.GroupInstanceId, request.GenerationIdOrMemberEpoch, out group, out var member);
        if (error != ErrorCode.None)
            return error;
        if (group!.State == GroupState.CompletingRebalance)
            return ErrorCode.RebalanceInProgress;
        RestartSessionTimer(group, member!);
        return ErrorCode.None;
    }

    /// <summary>Committed offsets of a group: all of them, or the listed partitions (-1 for unknown ones).</summary>
    public IReadOnlyList<(string Topic, int Partition, CommittedOffset? Offset)> FetchOffsets(string groupId, IReadOnlyList<(string Topic, IReadOnlyList<int> Partitions)>? topics)
    {
        lock (_lock)
        {
            _groups.TryGetValue(groupId, out var group);
            if (topics is null)
            {
                return group is null
                    ? []
                    : group.Offsets.OrderBy(kv => kv.Key.Topic, StringComparer.Ordinal).ThenBy(kv => kv.Key.Partition)
                        .Select(kv => (kv.Key.Topic, kv.Key.Partition, (CommittedOffset?)kv.Value)).ToList();
            }
            var result = new List<(string, int, CommittedOffset?)>();
            foreach (var (topic, partitions) in topics)
            {
                foreach (int p in partitions)
                    result.Add((topic, p, group is not null && group.Offsets.TryGetValue((topic, p), out var o) ? o : null));
            }
            return result;
        }
    }

    public bool GroupExists(string groupId)
    {
        lock (_lock)
            return _groups.ContainsKey(groupId);
    }

    /// <summary>OffsetDelete: only for partitions the group is not consuming (Kafka's rule).</summary>
    public OffsetDeleteResponse OffsetDelete(OffsetDeleteRequest request)
    {
        lock (_lock)
        {
            var response = new OffsetDeleteResponse();
            if (!_groups.TryGetValue(request.GroupId, out var group))
            {
                response.ErrorCode = ErrorCode.GroupIdNotFound;
                return response;
            }
            if (group.State is not GroupState.Empty && group.ProtocolType != "consumer")
            {
                response.ErrorCode = ErrorCode.NonEmptyGroup;
                return response;
            }
            var subscribed = group.State == GroupState.Empty ? [] : SubscribedTopics(group);
            var records = new List<(byte[], byte[]?)>();
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
                    else if (group.Offsets.ContainsKey((t.Name, p.PartitionIndex)))
                        records.Add((OffsetsTopic.OffsetKey(group.GroupId, t.Name, p.PartitionIndex), null));
                }
            }
            if (records.Count > 0)
            {
                _log.Append(Partition, records);
                foreach (var (key, value) in records)
                    Replay(key, value);
            }
            return response;
        }
    }

    private static HashSet<string> SubscribedTopics(ClassicGroup group)
    {
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in group.Members.Values)
        {
            try
            {
                var sub = VersionedData.Read<ConsumerProtocolSubscription>(m.MetadataFor(group.ProtocolName), out _);
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
    /// A group left with neither members nor offsets is removed.
    /// </summary>
    public void ExpireOffsets()
    {
        lock (_lock)
        {
            if (_closed)
                return;
            long now = Now;
            long retention = (long)_options.OffsetsRetention.TotalMilliseconds;
            var records = new List<(byte[], byte[]?)>();
            foreach (var group in _groups.Values)
            {
                if (group.State != GroupState.Empty)
                    continue;
                foreach (var ((topic, partition), offset) in group.Offsets)
                {
                    long expiresAt = offset.ExpireTimestamp >= 0 ? offset.ExpireTimestamp : Math.Max(offset.CommitTimestamp, group.StateTimestamp) + retention;
                    if (now >= expiresAt)
                        records.Add((OffsetsTopic.OffsetKey(group.GroupId, topic, partition), null));
                }
            }
            if (records.Count > 0)
            {
                _log.Append(Partition, records);
                foreach (var (key, value) in records)
                    Replay(key, value);
            }
            foreach (var group in _groups.Values.Where(g => g.State == GroupState.Empty && g.Offsets.Count == 0 && g.Members.Count == 0).ToList())
                DeleteGroupLocked(group);
        }
    }
}
