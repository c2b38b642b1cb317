using System.Buffers.Binary;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// Offsets committed inside a transaction (KIP-98/KIP-447, Kafka's pending transactional offsets in
/// OffsetMetadataManager): written to __consumer_offsets as a transactional batch of the producer,
/// kept per producer id until that producer's marker lands on this partition — COMMIT makes them the
/// group's offsets, ABORT drops them. Loading replays batches and markers the same way.
/// </summary>
internal sealed partial class GroupShard
{
    private readonly Dictionary<long, Dictionary<string, Dictionary<(string Topic, int Partition), PendingOffset>>> _pendingTxnOffsets = [];

    /// <summary>A pending transactional offset; <see cref="Superseded"/> once a plain commit of the partition came after it (Kafka then keeps the plain one).</summary>
    private record struct PendingOffset(CommittedOffset Offset, bool Superseded);

    /// <summary>
    /// TxnOffsetCommit v0-4 (the transaction coordinator has already checked the producer): the
    /// member checks are OffsetCommit's; a group that does not exist is created only for a caller
    /// with no generation (Kafka: ILLEGAL_GENERATION otherwise).
    /// </summary>
    public TxnOffsetCommitResponse TxnOffsetCommit(TxnOffsetCommitRequest request, short version) =>
        Run<TxnOffsetCommitResponse>(() =>
        {
            var error = ValidateCommit(new OffsetCommitRequest
            {
                GroupId = request.GroupId,
                GenerationIdOrMemberEpoch = request.GenerationId,
                MemberId = request.MemberId,
                GroupInstanceId = request.GroupInstanceId,
            }, 8);
            var response = new TxnOffsetCommitResponse();
            var records = new List<CoordinatorRecord>();
            long now = Now;
            foreach (var t in request.Topics)
            {
                var tr = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic { Name = t.Name };
                response.Topics.Add(tr);
                foreach (var p in t.Partitions)
                {
                    var pr = new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error };
                    tr.Partitions.Add(pr);
                    if (error != ErrorCode.None)
                        continue;
                    string metadata = p.CommittedMetadata ?? "";
                    if (System.Text.Encoding.UTF8.GetByteCount(metadata) > _options.OffsetMetadataMaxBytes)
                    {
                        pr.ErrorCode = ErrorCode.OffsetMetadataTooLarge;
                        continue;
                    }
                    var committed = new CommittedOffset(p.CommittedOffset, p.CommittedLeaderEpoch, metadata, now, -1);
                    records.Add(new(OffsetsTopic.OffsetKey(request.GroupId, t.Name, p.PartitionIndex), OffsetsTopic.OffsetValue(committed)));
                }
            }
            if (records.Count > 0)
            {
                ErrorCode appended;
                try
                {
                    appended = _log.AppendTransactional(Partition, records, request.ProducerId, request.ProducerEpoch);
                }
                catch (Exception e)
                {
                    throw new CoordinatorAppendException(e);
                }
                // Fenced between the coordinator's check and this append (a timeout abort or a new
                // producer's marker came first): nothing was written, and the producer is told so.
                if (appended == ErrorCode.InvalidProducerEpoch)
                    return TxnCommitFailed(request, version >= 2 ? ErrorCode.ProducerFenced : ErrorCode.InvalidProducerEpoch);
                foreach (var record in records)
                    ReplayTransactionalLocked(request.ProducerId, record.Key, record.Value);
            }
            return response;
        }, (error, _) => TxnCommitFailed(request, error));

    private static TxnOffsetCommitResponse TxnCommitFailed(TxnOffsetCommitRequest request, ErrorCode error) => new()
    {
        Topics = request.Topics.Select(t => new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error }).ToList(),
        }).ToList(),
    };

    /// <summary>
    /// A transaction marker for this __consumer_offsets partition (from the transaction coordinator):
    /// appended, then applied to the producer's pending offsets. Returns the log's refusal, if any.
    /// </summary>
    public ErrorCode WriteTxnMarker(long producerId, short producerEpoch, bool commit)
    {
        lock (_lock)
        {
            if (_closed)
                return ErrorCode.CoordinatorNotAvailable;
            try
            {
                var error = _log.AppendMarker(Partition, producerId, producerEpoch, commit);
                if (error != ErrorCode.None)
                    return error;
                ReplayTxnMarkerLocked(producerId, commit);
                return ErrorCode.None;
            }
            finally
            {
                PublishChanges();
            }
        }
    }

    /// <summary>Loading: an offset record of a transactional batch.</summary>
    public void ReplayTransactional(long producerId, byte[] key, byte[]? value)
    {
        lock (_lock)
            ReplayTransactionalLocked(producerId, key, value);
    }

    /// <summary>Loading: a marker.</summary>
    public void ReplayTxnMarker(long producerId, bool commit)
    {
        lock (_lock)
            ReplayTxnMarkerLocked(producerId, commit);
    }

    private void ReplayTransactionalLocked(long producerId, byte[] key, byte[]? value)
    {
        if (key.Length < 2 || BinaryPrimitives.ReadInt16BigEndian(key) is not (0 or 1) || value is null)
        {
            ReplayLocked(key, value); // only offsets are ever transactional; anything else applies at once
            return;
        }
        var k = VersionedData.Read<OffsetCommitKey>(key, out _)!;
        var v = VersionedData.Read<OffsetCommitValue>(value, out _)!;
        if (!_pendingTxnOffsets.TryGetValue(producerId, out var groups))
            _pendingTxnOffsets[producerId] = groups = new(StringComparer.Ordinal);
        if (!groups.TryGetValue(k.Group, out var offsets))
            groups[k.Group] = offsets = [];
        offsets[(k.Topic, k.Partition)] = new PendingOffset(new CommittedOffset(v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, v.ExpireTimestamp), false);
    }

    /// <summary>
    /// A plain commit (or deletion) of a partition replayed after transactional offsets for it: when
    /// their transaction commits, the later plain offset stays, as Kafka keeps the offset written last.
    /// </summary>
    private void SupersedePendingLocked(string groupId, string topic, int partition)
    {
        if (_pendingTxnOffsets.Count == 0)
            return;
        foreach (var groups in _pendingTxnOffsets.Values)
        {
            if (groups.TryGetValue(groupId, out var offsets) && offsets.TryGetValue((topic, partition), out var pending))
                offsets[(topic, partition)] = pending with { Superseded = true };
        }
    }

    private void ReplayTxnMarkerLocked(long producerId, bool commit)
    {
        if (!_pendingTxnOffsets.Remove(producerId, out var groups) || !commit)
            return;
        foreach (var (groupId, offsets) in groups)
        {
            if (offsets.Values.All(p => p.Superseded))
                continue;
            // As a plain commit's replay: offsets of a group that does not exist make an empty classic group.
            if (!_groups.ContainsKey(groupId))
                Track(new ClassicGroup(groupId, Now));
            var committed = OffsetsOf(groupId);
            foreach (var (partition, pending) in offsets)
            {
                if (!pending.Superseded)
                    committed[partition] = pending.Offset;
            }
        }
    }

    /// <summary>Partitions of a group with transactional offsets not yet committed or aborted (OffsetFetch require_stable).</summary>
    public HashSet<(string Topic, int Partition)> PendingTransactionalPartitions(string groupId)
    {
        lock (_lock)
        {
            var result = new HashSet<(string, int)>();
            foreach (var groups in _pendingTxnOffsets.Values)
            {
                if (groups.TryGetValue(groupId, out var offsets))
                    result.UnionWith(offsets.Keys);
            }
            return result;
        }
    }
}
