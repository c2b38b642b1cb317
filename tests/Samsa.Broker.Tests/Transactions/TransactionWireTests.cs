using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests.Transactions;

/// <summary>
/// The partition side of transactions on the wire: transactional batches in Produce, markers
/// appended in-process as the transaction coordinator does, then Fetch and ListOffsets under
/// read_committed and read_uncommitted (last stable offset, aborted transactions, the wait).
/// </summary>
public sealed class TransactionWireTests : IAsyncLifetime
{
    private const string Topic = "txn";
    private const long Pid = 5000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-txnwire-" + Guid.NewGuid().ToString("N"));
    private SamsaBroker _broker = null!;
    private int _correlation;

    public async Task InitializeAsync()
    {
        _broker = await SamsaBroker.StartAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, OffsetsTopicPartitions = 1 });
        Assert.Equal(ErrorCode.None, _broker.Topics.Create(Topic, 1).Error);
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Samsa.Storage.PartitionLog Log => _broker.Topics.TryGet(Topic, out var topic) ? topic.Partitions[0] : throw new InvalidOperationException("no topic");

    private static byte[] Batch(long producerId, int sequence, int records = 3, short epoch = 0, bool transactional = true, bool control = false)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = sequence, IsTransactional = transactional, IsControl = control };
        if (control)
            builder.Add(now, ControlRecord.Key(ControlRecordType.Abort), false, ControlRecord.EndTransactionValue(0), false);
        else
        {
            for (int i = 0; i < records; i++)
                builder.Add(now, [(byte)i], false, System.Text.Encoding.UTF8.GetBytes($"v{sequence + i}"), false);
        }
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>What the transaction coordinator does: a marker appended straight to the partition.</summary>
    private void Marker(ControlRecordType type, long producerId = Pid, short epoch = 0)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = -1, IsTransactional = true, IsControl = true };
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ControlRecord.Key(type), false, ControlRecord.EndTransactionValue(0), false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        Assert.Equal(ErrorCode.None, Log.AppendChecked(output.WrittenSpan.ToArray()).Error);
    }

    private async Task<TcpClient> Connect()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _broker.Port);
        return client;
    }

    private async Task Write(TcpClient client, IRequest request, short version)
    {
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, request, version, ++_correlation, "txn-wire-test");
        await client.GetStream().WriteAsync(buffer.WrittenMemory);
    }

    private static async Task<TResponse> Read<TResponse>(TcpClient client, short version)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var stream = client.GetStream();
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return KafkaFrame.ReadResponse<TResponse>(body, version, out _);
    }

    private async Task<TResponse> Send<TResponse>(IRequest request, short version)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        using var client = await Connect();
        await Write(client, request, version);
        return await Read<TResponse>(client, version);
    }

    private async Task<ProduceResponse.PartitionProduceResponse> Produce(byte[] batch) =>
        (await Send<ProduceResponse>(new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = Topic, PartitionData = [new() { Index = 0, Records = batch }] }],
        }, 9)).Responses.Single().PartitionResponses.Single();

    private static FetchRequest FetchOf(long offset, sbyte isolation, int maxWaitMs = 0, int minBytes = 1) => new()
    {
        ReplicaId = -1,
        MaxWaitMs = maxWaitMs,
        MinBytes = minBytes,
        MaxBytes = 1 << 20,
        IsolationLevel = isolation,
        SessionEpoch = -1,
        Topics = [new() { Topic = Topic, Partitions = [new() { Partition = 0, FetchOffset = offset, PartitionMaxBytes = 1 << 20 }] }],
    };

    private async Task<FetchResponse.PartitionData> Fetch(long offset, sbyte isolation, short version = 12) =>
        (await Send<FetchResponse>(FetchOf(offset, isolation), version)).Responses.Single().Partitions.Single();

    private static List<long> BatchOffsets(FetchResponse.PartitionData data)
    {
        var offsets = new List<long>();
        ReadOnlyMemory<byte> records = data.Records ?? default;
        while (RecordBatch.TryReadNext(ref records, out var batch))
            offsets.Add(batch.Header.BaseOffset);
        return offsets;
    }

    private async Task<long> ListOffset(long timestamp, sbyte isolation, short version = 7) =>
        (await Send<ListOffsetsResponse>(new ListOffsetsRequest
        {
            ReplicaId = -1,
            IsolationLevel = isolation,
            Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, Timestamp = timestamp }] }],
        }, version)).Topics.Single().Partitions.Single().Offset;

    [Fact]
    public async Task Read_committed_sees_nothing_of_an_open_transaction_and_gets_the_aborted_list_once_it_ends()
    {
        Assert.Equal(ErrorCode.None, (await Produce(Batch(7, 0, transactional: false))).ErrorCode); // 0-2
        var produced = await Produce(Batch(Pid, 0));                                                // 3-5
        Assert.Equal((ErrorCode.None, 3L), (produced.ErrorCode, produced.BaseOffset));

        var uncommitted = await Fetch(0, 0);
        Assert.Equal([0L, 3L], BatchOffsets(uncommitted));
        Assert.Equal((6L, 3L), (uncommitted.HighWatermark, uncommitted.LastStableOffset));
        Assert.Null(uncommitted.AbortedTransactions);

        var committed = await Fetch(0, 1);
        Assert.Equal([0L], BatchOffsets(committed));
        Assert.Equal((6L, 3L), (committed.HighWatermark, committed.LastStableOffset));
        Assert.Empty(committed.AbortedTransactions!);
        Assert.Empty(BatchOffsets(await Fetch(3, 1)));

        Assert.Equal(6, await ListOffset(-1, 0));
        Assert.Equal(3, await ListOffset(-1, 1));
        Assert.Equal(0, await ListOffset(DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), 1));

        Marker(ControlRecordType.Abort); // 6
        var after = await Fetch(3, 1);
        Assert.Equal([3L, 6L], BatchOffsets(after));
        Assert.Equal((7L, 7L), (after.HighWatermark, after.LastStableOffset));
        var aborted = Assert.Single(after.AbortedTransactions!);
        Assert.Equal((Pid, 3L), (aborted.ProducerId, aborted.FirstOffset));
        Assert.Equal(7, await ListOffset(-1, 1));
        // Fetch v4, the first with isolation levels and the aborted list.
        var v4 = await Fetch(0, 1, version: 4);
        Assert.Equal((7L, 7L), (v4.HighWatermark, v4.LastStableOffset));
        Assert.Equal(Pid, Assert.Single(v4.AbortedTransactions!).ProducerId);
    }

    [Fact]
    public async Task A_timestamp_lookup_under_read_committed_does_not_land_in_an_open_transaction()
    {
        long before = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
        await Produce(Batch(Pid, 0));
        Assert.Equal(0, await ListOffset(before, 0));
        Assert.Equal(-1, await ListOffset(before, 1));
        Assert.Equal(-1, await ListOffset(-3, 1)); // max timestamp
        Marker(ControlRecordType.Commit);
        Assert.Equal(0, await ListOffset(before, 1));
    }

    [Fact]
    public async Task Produce_refuses_control_batches_and_transactional_batches_of_an_older_epoch()
    {
        var control = await Produce(Batch(Pid, -1, control: true));
        Assert.Equal(ErrorCode.InvalidRecord, control.ErrorCode);
        Assert.Contains("coordinator", control.ErrorMessage);
        Assert.Equal(ErrorCode.None, (await Produce(Batch(Pid, 0, epoch: 3))).ErrorCode);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, (await Produce(Batch(Pid, 3, epoch: 2))).ErrorCode);
        Assert.Equal(ErrorCode.InvalidRecord, (await Produce(Batch(-1, -1))).ErrorCode);
        Assert.Equal(ErrorCode.InvalidTxnState, (await Produce(Batch(Pid, 3, epoch: 3, transactional: false))).ErrorCode);
        Assert.Equal(3, Log.LogEndOffset);
    }

    [Fact]
    public async Task A_waiting_read_committed_fetch_ignores_bytes_above_the_lso_and_wakes_on_the_marker()
    {
        // Bytes above the last stable offset only, there before the fetch comes: it must wait (counted,
        // it would answer at once, empty-handed, and never reach its wait)...
        Assert.Equal(ErrorCode.None, (await Produce(Batch(Pid, 0))).ErrorCode);
        using var client = await Connect();
        await Write(client, FetchOf(0, 1, maxWaitMs: 120_000), 12);
        await FetchIsWaiting();
        Assert.Equal(ErrorCode.None, (await Produce(Batch(Pid, 3))).ErrorCode); // wakes it, to wait again
        Assert.Equal(0, Log.LastStableOffset);
        // ...until the marker, appended in-process with no produce, moves the LSO and wakes it.
        Marker(ControlRecordType.Commit);
        var data = (await Read<FetchResponse>(client, 12)).Responses.Single().Partitions.Single();
        Assert.Equal([0L, 3L, 6L], BatchOffsets(data));
        Assert.Equal((7L, 7L), (data.HighWatermark, data.LastStableOffset));
    }

    /// <summary>The fetch is being handled, so in its wait (the topic had no data to answer with).</summary>
    private async Task FetchIsWaiting()
    {
        for (var clock = Stopwatch.StartNew(); _broker.BusyConnectionCount != 1; await Task.Delay(10))
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the fetch reached its wait");
    }
}
