using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

internal static class TaskGuard
{
    /// <summary>A parked join or sync that never completes fails the test instead of hanging the run.</summary>
    public static Task<T> Done<T>(this Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(10));
}

/// <summary>An in-memory __consumer_offsets: records in append order per partition; appends can be made to fail.</summary>
internal sealed class MemoryOffsetsLog : IOffsetsLog
{
    public Dictionary<int, List<(byte[] Key, byte[]? Value)>> Partitions { get; } = [];

    /// <summary>While set, every append fails as a full disk would, writing nothing.</summary>
    public bool Failing { get; set; }

    /// <summary>Fails, as <see cref="Failing"/> does, the appends that hold a record of this key type.</summary>
    public short? FailingKeyType { get; set; }

    public int Appends { get; private set; }

    public void Append(int partition, IReadOnlyList<CoordinatorRecord> records)
    {
        if (Failing || (FailingKeyType is { } type && records.Any(r => System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(r.Key) == type)))
            throw new IOException("No space left on device (test)");
        Appends++;
        if (!Partitions.TryGetValue(partition, out var list))
            Partitions[partition] = list = [];
        list.AddRange(records.Select(r => (r.Key, r.Value)));
        EntriesOf(partition).AddRange(records.Select(r => new OffsetsLogEntry(r.Key, r.Value)));
    }

    public IEnumerable<(byte[] Key, byte[]? Value)> Read(int partition) =>
        Partitions.TryGetValue(partition, out var list) ? list : [];

    /// <summary>Every entry with its transaction, in append order (plain records, transactional offsets, markers).</summary>
    public Dictionary<int, List<OffsetsLogEntry>> Entries { get; } = [];

    /// <summary>A marker append answers this instead of writing (as a log refusing an old epoch would).</summary>
    public ErrorCode MarkerError { get; set; }

    public ErrorCode AppendTransactional(int partition, IReadOnlyList<CoordinatorRecord> records, long producerId, short producerEpoch)
    {
        if (Failing)
            throw new IOException("No space left on device (test)");
        Appends++;
        EntriesOf(partition).AddRange(records.Select(r => new OffsetsLogEntry(r.Key, r.Value, producerId)));
        return ErrorCode.None;
    }

    public ErrorCode AppendMarker(int partition, long producerId, short producerEpoch, bool commit)
    {
        if (Failing)
            throw new IOException("No space left on device (test)");
        if (MarkerError != ErrorCode.None)
            return MarkerError;
        EntriesOf(partition).Add(new OffsetsLogEntry([], null, producerId, commit ? Samsa.Protocol.Records.ControlRecordType.Commit : Samsa.Protocol.Records.ControlRecordType.Abort));
        return ErrorCode.None;
    }

    /// <summary>Plain and transactional entries in append order, for <see cref="GroupCoordinator.LoadEntries"/>.</summary>
    public IEnumerable<OffsetsLogEntry> ReadEntries(int partition) => EntriesOf(partition);

    private List<OffsetsLogEntry> EntriesOf(int partition)
    {
        if (!Entries.TryGetValue(partition, out var list))
            Entries[partition] = list = [];
        return list;
    }
}

/// <summary>A shard on fake time with helpers that speak the protocol like a consumer would.</summary>
internal sealed class GroupHarness
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public MemoryOffsetsLog Log { get; } = new();

    public GroupCoordinator Coordinator { get; }

    public GroupHarness(GroupCoordinatorOptions? options = null) =>
        Coordinator = new GroupCoordinator(options ?? new GroupCoordinatorOptions { OffsetsTopicPartitions = 3 }, Time, Log, NullLogger.Instance);

    public GroupShard Shard(string group) => Coordinator.ShardFor(group);

    public static JoinGroupRequest JoinRequest(string group, string memberId = "", string? instanceId = null, string protocol = "range", byte[]? metadata = null, int sessionMs = 10_000, int rebalanceMs = 30_000) => new()
    {
        GroupId = group,
        MemberId = memberId,
        GroupInstanceId = instanceId,
        SessionTimeoutMs = sessionMs,
        RebalanceTimeoutMs = rebalanceMs,
        ProtocolType = "consumer",
        Protocols = [new() { Name = protocol, Metadata = metadata ?? [0, 3, 0, 0, 0, 1, 0, 1, (byte)'t', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] }],
    };

    /// <summary>A v5+ join: first MEMBER_ID_REQUIRED, then the real (parked) join.</summary>
    public Task<JoinGroupResponse> Join(string group, string? instanceId = null, short version = 7, string protocol = "range")
    {
        var shard = Shard(group);
        if (instanceId is null && version >= 4)
        {
            var first = shard.JoinGroup(JoinRequest(group, protocol: protocol), version, "client", "/127.0.0.1").Result;
            Assert.Equal(ErrorCode.MemberIdRequired, first.ErrorCode);
            return shard.JoinGroup(JoinRequest(group, first.MemberId, protocol: protocol), version, "client", "/127.0.0.1");
        }
        return shard.JoinGroup(JoinRequest(group, "", instanceId, protocol), version, "client", "/127.0.0.1");
    }

    public Task<JoinGroupResponse> Rejoin(string group, string memberId, string? instanceId = null, short version = 7) =>
        Shard(group).JoinGroup(JoinRequest(group, memberId, instanceId), version, "client", "/127.0.0.1");

    public Task<SyncGroupResponse> Sync(string group, JoinGroupResponse joined, Dictionary<string, byte[]>? assignments = null, string? instanceId = null) =>
        Shard(group).SyncGroup(new SyncGroupRequest
        {
            GroupId = group,
            GenerationId = joined.GenerationId,
            MemberId = joined.MemberId,
            GroupInstanceId = instanceId,
            Assignments = assignments?.Select(a => new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = a.Key, Assignment = a.Value }).ToList() ?? [],
        }, 5);

    public ErrorCode Heartbeat(string group, JoinGroupResponse joined, string? instanceId = null) =>
        Shard(group).Heartbeat(new HeartbeatRequest { GroupId = group, GenerationId = joined.GenerationId, MemberId = joined.MemberId, GroupInstanceId = instanceId }).ErrorCode;

    /// <summary>The group's state as its published view says (Dead when there is none).</summary>
    public GroupState State(string group) => Coordinator.View(group) is { } view ? Enum.Parse<GroupState>(view.State) : GroupState.Dead;

    public GroupView? Group(string group) => Coordinator.View(group);
}
