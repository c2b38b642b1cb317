using Samsa.Broker;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// A share consumer spoken in raw protocol, one connection per member, as KIP-932 lays it out: a
/// ShareGroupHeartbeat to join, then ShareFetch with the session epoch counted up, acknowledgements
/// piggybacked or sent with ShareAcknowledge.
/// </summary>
internal sealed class ShareWireMember(RawConnection connection, string group, string memberId, Guid topicId) : IDisposable
{
    public string MemberId => memberId;

    public int MemberEpoch { get; private set; }

    /// <summary>The epoch the next share request carries (0: a new session).</summary>
    public int SessionEpoch { get; set; }

    public RawConnection Connection => connection;

    public static async Task<ShareWireMember> JoinAsync(string bootstrap, string group, string memberId, string topic, Guid topicId)
    {
        var member = new ShareWireMember(await RawConnection.ConnectAsync(bootstrap), group, memberId, topicId);
        var r = await member.HeartbeatAsync(0, [topic]);
        Assert.Equal(ErrorCode.None, r.ErrorCode);
        return member;
    }

    public async Task<ShareGroupHeartbeatResponse> HeartbeatAsync(int? epoch = null, List<string>? topics = null)
    {
        var r = await connection.SendAsync<ShareGroupHeartbeatResponse>(new ShareGroupHeartbeatRequest
        {
            GroupId = group,
            MemberId = memberId,
            MemberEpoch = epoch ?? MemberEpoch,
            SubscribedTopicNames = topics,
        }, 1);
        if (r.ErrorCode == ErrorCode.None)
            MemberEpoch = r.MemberEpoch;
        return r;
    }

    public Task<ShareGroupHeartbeatResponse> LeaveAsync() => HeartbeatAsync(-1);

    /// <summary>One ShareFetch of partition 0, with acknowledgements; moves the session epoch on when it succeeds.</summary>
    public async Task<ShareFetchResponse> FetchAsync(int maxRecords = 500, int maxWaitMs = 0, IEnumerable<(long First, long Last, AcknowledgeTypeByte Type)>? acks = null,
        short version = 1, sbyte acquireMode = 0, int minBytes = 1, int? epoch = null)
    {
        var r = await connection.SendAsync<ShareFetchResponse>(new ShareFetchRequest
        {
            GroupId = group,
            MemberId = memberId,
            ShareSessionEpoch = epoch ?? SessionEpoch,
            MaxWaitMs = maxWaitMs,
            MinBytes = minBytes,
            MaxBytes = 1 << 20,
            MaxRecords = maxRecords,
            BatchSize = maxRecords,
            ShareAcquireMode = acquireMode,
            Topics = [new()
            {
                TopicId = topicId,
                Partitions = [new()
                {
                    PartitionIndex = 0,
                    AcknowledgementBatches = (acks ?? []).Select(a => new ShareFetchRequest.AcknowledgementBatch
                    {
                        FirstOffset = a.First,
                        LastOffset = a.Last,
                        AcknowledgeTypes = [(sbyte)a.Type],
                    }).ToList(),
                }],
            }],
        }, version);
        if (r.ErrorCode == ErrorCode.None && epoch is null)
            SessionEpoch = SessionEpoch == -1 ? 0 : SessionEpoch + 1;
        return r;
    }

    public async Task<ShareAcknowledgeResponse> AcknowledgeAsync(long first, long last, AcknowledgeTypeByte type, int? epoch = null, short version = 1)
    {
        var r = await connection.SendAsync<ShareAcknowledgeResponse>(new ShareAcknowledgeRequest
        {
            GroupId = group,
            MemberId = memberId,
            ShareSessionEpoch = epoch ?? SessionEpoch,
            Topics = [new()
            {
                TopicId = topicId,
                Partitions = [new() { PartitionIndex = 0, AcknowledgementBatches = [new() { FirstOffset = first, LastOffset = last, AcknowledgeTypes = [(sbyte)type] }] }],
            }],
        }, version);
        if (r.ErrorCode == ErrorCode.None && epoch is null)
            SessionEpoch++;
        return r;
    }

    public void Dispose() => connection.Dispose();
}

/// <summary>The wire's acknowledgement types.</summary>
internal enum AcknowledgeTypeByte : sbyte
{
    Gap = 0,
    Accept = 1,
    Release = 2,
    Reject = 3,
    Renew = 4,
}

internal static class ShareWire
{
    /// <summary>A broker for share tests: share.auto.offset.reset=earliest so records written before the first fetch count.</summary>
    public static Task<TempBroker> StartAsync(Func<BrokerOptions, BrokerOptions>? configure = null) =>
        TempBroker.StartAsync(o =>
        {
            o = o with { ShareAutoOffsetReset = "earliest", OffsetsTopicPartitions = 3, ShareStateTopicPartitions = 3 };
            return configure?.Invoke(o) ?? o;
        });

    public static async Task<Guid> CreateTopicAsync(string bootstrap, string name, int partitions = 1)
    {
        using var connection = await RawConnection.ConnectAsync(bootstrap);
        var r = await connection.SendAsync<CreateTopicsResponse>(new CreateTopicsRequest
        {
            Topics = [new() { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }],
            timeoutMs = 10_000,
        }, 7);
        var topic = r.Topics.Single();
        Assert.Equal(ErrorCode.None, topic.ErrorCode);
        return topic.TopicId;
    }

    /// <summary>Writes values v{first}..v{first+count-1}, <paramref name="perBatch"/> records per batch, to one partition.</summary>
    public static async Task ProduceAsync(string bootstrap, string topic, int first, int count, int perBatch = 1, int partition = 0)
    {
        using var connection = await RawConnection.ConnectAsync(bootstrap);
        for (int at = first; at < first + count; at += perBatch)
        {
            using var builder = new RecordBatchBuilder();
            for (int i = at; i < Math.Min(at + perBatch, first + count); i++)
                builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), [], true, System.Text.Encoding.UTF8.GetBytes($"v{i}"), false);
            using var output = new PooledBufferWriter();
            builder.Build(output);
            var r = await connection.SendAsync<ProduceResponse>(new ProduceRequest
            {
                Acks = -1,
                TimeoutMs = 5000,
                TopicData = [new() { Name = topic, PartitionData = [new() { Index = partition, Records = output.WrittenSpan.ToArray() }] }],
            }, 9);
            Assert.Equal(ErrorCode.None, r.Responses.Single().PartitionResponses.Single().ErrorCode);
        }
    }

    /// <summary>The acquired records of a fetch response: (offset, value, delivery count), only those the AcquiredRecords name.</summary>
    public static List<(long Offset, string Value, short DeliveryCount)> Acquired(ShareFetchResponse response)
    {
        var result = new List<(long, string, short)>();
        using var scratch = new PooledBufferWriter();
        foreach (var topic in response.Responses)
        {
            foreach (var p in topic.Partitions)
            {
                var values = new Dictionary<long, string>();
                ReadOnlyMemory<byte> buffer = p.Records ?? ReadOnlyMemory<byte>.Empty;
                while (RecordBatch.TryReadNext(ref buffer, out var batch))
                {
                    foreach (var record in batch.GetRecords(scratch))
                        values[record.Offset] = System.Text.Encoding.UTF8.GetString(record.Value!.Value.Span);
                }
                foreach (var range in p.AcquiredRecords)
                {
                    for (long o = range.FirstOffset; o <= range.LastOffset; o++)
                        result.Add((o, values[o], range.DeliveryCount));
                }
            }
        }
        return result;
    }

    public static ShareFetchResponse.PartitionData Partition(ShareFetchResponse response) => response.Responses.Single().Partitions.Single();
}
