using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Share;

/// <summary>A share-partition: one partition of a topic as one share group consumes it.</summary>
internal readonly record struct ShareKey(string GroupId, Guid TopicId, int Partition)
{
    public TopicIdPartition TopicPartition => new(TopicId, Partition);
}

/// <summary>A share-partition's persisted state with the bookkeeping of its snapshots.</summary>
internal sealed record StoredShareState(ShareState State, int SnapshotEpoch, long CreateTimestamp);

/// <summary>Where share-partition state is kept (Kafka's share coordinator and its persister).</summary>
internal interface IShareStateStore
{
    /// <summary>Every share-partition with state, as last written.</summary>
    IReadOnlyDictionary<ShareKey, StoredShareState> Load();

    /// <summary>Durably writes a share-partition's whole state (a snapshot); throws when it cannot.</summary>
    void Write(ShareKey key, StoredShareState state);

    /// <summary>Forgets a share-partition's state (a tombstone).</summary>
    void Delete(ShareKey key);

    /// <summary>
    /// Makes the store ready for writes (creates __share_group_state). Called before the first
    /// write and outside every lock: creating a topic tells the group coordinator, which takes
    /// its shard locks, so doing it under a share-partition's lock could deadlock with a member
    /// leaving (shard lock, then share-partition lock).
    /// </summary>
    void Prepare();
}

/// <summary>
/// __share_group_state: share-partition state as Kafka's share coordinator writes it, a compacted
/// internal topic whose records are keyed by (group, topic id, partition). This broker writes only
/// ShareSnapshot records (key type 0), each holding the whole state, so the newest record of a key
/// is its state and compaction keeps exactly that; ShareUpdate records (type 1), which Kafka writes
/// between snapshots, are never written, and on loading one (a log from elsewhere) is skipped. A
/// key's partition is Kafka's: abs(hash("group:topicId:partition")) % partitions, with the topic id
/// in Kafka's base64 form. The topic is created when the first state is written.
/// </summary>
internal sealed class ShareStateLog(TopicManager topics, int partitions, TimeProvider time, ILogger logger) : IShareStateStore
{
    public const string TopicName = "__share_group_state";
    private const short SnapshotKeyType = 0;

    private readonly Lock _createLock = new();
    private Topic? _topic;

    public IReadOnlyDictionary<ShareKey, StoredShareState> Load()
    {
        var result = new Dictionary<ShareKey, StoredShareState>();
        if (!topics.TryGet(TopicName, out var topic))
            return result;
        _topic = topic;
        using var scratch = new PooledBufferWriter();
        int skipped = 0;
        foreach (var log in topic.Partitions)
        {
            long offset = log.LogStartOffset;
            while (offset < log.LogEndOffset)
            {
                using var read = log.Read(offset, 1 << 20);
                if (read.Length == 0)
                    break;
                ReadOnlyMemory<byte> buffer = read.Memory;
                while (RecordBatch.TryReadNext(ref buffer, out var batch))
                {
                    foreach (var record in batch.GetRecords(scratch))
                    {
                        if (record.Offset < offset || record.Key is not { } key || key.Length < 2)
                            continue;
                        try
                        {
                            if (System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(key.Span) != SnapshotKeyType)
                            {
                                skipped++;
                                continue;
                            }
                            var k = VersionedData.Read<ShareSnapshotKey>(key, out _)!;
                            var shareKey = new ShareKey(k.GroupId, k.TopicId, k.Partition);
                            if (record.Value is not { } value)
                            {
                                result.Remove(shareKey);
                                continue;
                            }
                            var v = VersionedData.Read<ShareSnapshotValue>(value, out _)!;
                            result[shareKey] = new StoredShareState(ShareState.FromSnapshotValue(v), v.SnapshotEpoch, v.CreateTimestamp);
                        }
                        catch (Exception e) when (e is ProtocolException or InvalidDataException)
                        {
                            skipped++;
                        }
                    }
                    offset = batch.Header.LastOffset + 1;
                }
            }
        }
        logger.LogInformation("Loaded the state of {Count} share-partition(s) from {Topic}{Skipped}", result.Count, TopicName,
            skipped > 0 ? $" ({skipped} record(s) skipped)" : "");
        return result;
    }

    public void Write(ShareKey key, StoredShareState state)
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var value = VersionedData.Write(state.State.ToSnapshotValue(state.SnapshotEpoch, 0, state.CreateTimestamp, now), 0);
        Append(key, value);
    }

    public void Delete(ShareKey key)
    {
        // Nothing was ever written if the topic does not exist.
        if (_topic is not null || topics.TryGet(TopicName, out _))
            Append(key, null);
    }

    public void Prepare() => TopicFor();

    private void Append(ShareKey key, byte[]? value)
    {
        var topic = TopicFor();
        byte[] recordKey = VersionedData.Write(new ShareSnapshotKey { GroupId = key.GroupId, TopicId = key.TopicId, Partition = key.Partition }, SnapshotKeyType);
        using var builder = new RecordBatchBuilder();
        builder.Add(time.GetUtcNow().ToUnixTimeMilliseconds(), recordKey, false, value, value is null);
        using var output = new PooledBufferWriter(builder.EstimatedSize + 64);
        builder.Build(output);
        topic.Partitions[PartitionFor(key, topic.Partitions.Length)].Append(output.WrittenSpanForUpdate);
    }

    private Topic TopicFor()
    {
        if (_topic is { } known)
            return known;
        lock (_createLock)
        {
            if (_topic is { } raced)
                return raced;
            if (!topics.TryGet(TopicName, out var topic))
            {
                var (error, message, created) = topics.Create(TopicName, partitions,
                    configs: new Dictionary<string, string?> { ["cleanup.policy"] = "compact" });
                topic = created ?? (topics.TryGet(TopicName, out var other) ? other
                    : throw new Samsa.Storage.StorageException($"{TopicName} could not be created ({error}): {message}"));
            }
            return _topic = topic;
        }
    }

    /// <summary>Kafka's share coordinator partition: the Java hash of "group:topicId:partition".</summary>
    public static int PartitionFor(ShareKey key, int partitions) =>
        OffsetsTopic.PartitionFor($"{key.GroupId}:{KafkaUuid(key.TopicId)}:{key.Partition}", partitions);

    /// <summary>A topic id as Kafka prints it: its 16 bytes, most significant first, in unpadded base64url.</summary>
    public static string KafkaUuid(Guid id) =>
        Convert.ToBase64String(id.ToByteArray(bigEndian: true)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Share-partition state in memory only: for tests, and what a broker without a data directory would use.</summary>
internal sealed class MemoryShareStateStore : IShareStateStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ShareKey, StoredShareState> _states = [];

    public int Writes { get; private set; }

    public IReadOnlyDictionary<ShareKey, StoredShareState> Load()
    {
        lock (_lock)
            return new Dictionary<ShareKey, StoredShareState>(_states);
    }

    public void Write(ShareKey key, StoredShareState state)
    {
        lock (_lock)
        {
            _states[key] = state;
            Writes++;
        }
    }

    public void Delete(ShareKey key)
    {
        lock (_lock)
            _states.Remove(key);
    }

    public void Prepare()
    {
    }
}
