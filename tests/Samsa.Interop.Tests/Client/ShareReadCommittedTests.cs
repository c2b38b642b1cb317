using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Client.Share;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;
using SamsaErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// share.isolation.level=read_committed (a group config): share fetches stop at the last stable
/// offset, and records of aborted transactions are archived rather than delivered, so our share
/// consumer sees exactly what a read_committed consumer would. Transactions are written in process
/// as the coordinator writes them (data batches, then markers).
/// </summary>
public sealed class ShareReadCommittedTests
{
    private const string Topic = "share-txn";
    private const string Group = "share-committed";

    private static void Append(TempBroker broker, long producerId, int sequence, bool transactional, params string[] values)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = sequence, IsTransactional = transactional };
        foreach (var v in values)
            builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8, false, System.Text.Encoding.UTF8.GetBytes(v), false);
        Write(broker, builder);
    }

    private static void Marker(TempBroker broker, long producerId, ControlRecordType type)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = -1, IsTransactional = true, IsControl = true };
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ControlRecord.Key(type), false, ControlRecord.EndTransactionValue(0), false);
        Write(broker, builder);
    }

    private static void Write(TempBroker broker, RecordBatchBuilder builder)
    {
        using var output = new PooledBufferWriter();
        builder.Build(output);
        Assert.True(broker.Broker.Topics.TryGet(Topic, out var topic));
        Assert.Equal(SamsaErrorCode.None, topic.Partitions[0].AppendChecked(output.WrittenSpan.ToArray()).Error);
    }

    [Fact]
    public async Task A_read_committed_share_group_never_gets_aborted_or_open_transactions()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            ShareAutoOffsetReset = "earliest",
            ShareGroupHeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ShareGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(250),
        });
        Assert.Equal(SamsaErrorCode.None, broker.Broker.Topics.Create(Topic, 1).Error);
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [new ConfigResource { Type = ResourceType.Group, Name = Group }] =
                    [new ConfigEntry { Name = "share.isolation.level", Value = "read_committed", IncrementalOperation = AlterConfigOpType.Set }],
            });
        }
        Append(broker, -1, -1, false, "p0");             // 0
        Append(broker, 10, 0, true, "a0", "a1");         // 1-2, aborted at 3
        Marker(broker, 10, ControlRecordType.Abort);     // 3
        Append(broker, 20, 0, true, "c0", "c1");         // 4-5, committed at 6
        Marker(broker, 20, ControlRecordType.Commit);    // 6
        Append(broker, -1, -1, false, "p1");             // 7
        Append(broker, 30, 0, true, "o0");               // 8: still open, the last stable offset
        Append(broker, -1, -1, false, "p2");             // 9: above it

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var consumer = new KafkaShareConsumer<string, string>(new ShareConsumerOptions
        {
            BootstrapServers = broker.Bootstrap,
            GroupId = Group,
            FetchMaxWait = TimeSpan.FromMilliseconds(200),
        }, loggerFactory: TestLogging.Factory);
        consumer.Subscribe(Topic);
        var received = new List<string>();
        while (received.Count < 4)
            received.AddRange((await consumer.PollAsync(TimeSpan.FromMilliseconds(200), bound.Token)).Select(r => r.Value));
        Assert.Equal(["p0", "c0", "c1", "p1"], received);
        await consumer.CommitSyncAsync(TimeSpan.FromSeconds(30), bound.Token);

        // Everything below the open transaction is done with (the aborted records archived): the
        // share-partition start offset waits at the last stable offset.
        await using (var samsaAdmin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap }))
        {
            long? start = null;
            while (start != 8)
            {
                start = (await samsaAdmin.ListShareGroupOffsetsAsync(Group, bound.Token)).Single().StartOffset;
                if (start != 8)
                    received.AddRange((await consumer.PollAsync(TimeSpan.FromMilliseconds(200), bound.Token)).Select(r => r.Value));
            }
        }
        Assert.Equal(4, received.Count);

        // The open transaction aborts: the record behind it is delivered, its own never.
        Marker(broker, 30, ControlRecordType.Abort);     // 10
        while (received.Count < 5)
            received.AddRange((await consumer.PollAsync(TimeSpan.FromMilliseconds(200), bound.Token)).Select(r => r.Value));
        Assert.Equal(["p0", "c0", "c1", "p1", "p2"], received);
    }
}
