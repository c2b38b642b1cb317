using System.Diagnostics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// A broker whose data directory fills up, on a real small tmpfs: produce, offset commits and topic
/// creation are answered with Kafka's errors on a connection that stays open, nothing half-made is
/// left, and everything works again once the file system grows, without a restart.
/// Mounting needs root (CI runs as root); elsewhere the test says it was skipped and why.
/// </summary>
public sealed class DiskFullTests : IAsyncLifetime
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "samsa-full-" + Guid.NewGuid().ToString("N"));
    private bool _mounted;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_mount);
        _mounted = await Run("mount", $"-t tmpfs -o size=6m tmpfs {_mount}") == 0;
    }

    public async Task DisposeAsync()
    {
        if (_mounted)
            await Run("umount", $"-l {_mount}");
        Directory.Delete(_mount, recursive: true);
    }

    private static async Task<int> Run(string command, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    private static byte[] Batch(int bytes)
    {
        var value = new byte[bytes];
        Random.Shared.NextBytes(value); // incompressible, and no codec anyway
        using var builder = new RecordBatchBuilder();
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8, false, value, false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    private static async Task<ErrorCode> Produce(RawConnection connection, string topic, int size = 64 * 1024)
    {
        var r = await connection.SendAsync<ProduceResponse>(new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = topic, PartitionData = [new() { Index = 0, Records = Batch(size) }] }],
        }, 9);
        return r.Responses.Single().PartitionResponses.Single().ErrorCode;
    }

    private static async Task<ErrorCode> Commit(RawConnection connection, long offset)
    {
        var r = await connection.SendAsync<OffsetCommitResponse>(new OffsetCommitRequest
        {
            GroupId = "full-g",
            Topics = [new() { Name = "fill", Partitions = [new() { PartitionIndex = 0, CommittedOffset = offset, CommittedMetadata = "" }] }],
        }, 8);
        return r.Topics.Single().Partitions.Single().ErrorCode;
    }

    private static async Task<ErrorCode> CreateTopic(RawConnection connection, string name)
    {
        var r = await connection.SendAsync<CreateTopicsResponse>(new CreateTopicsRequest
        {
            timeoutMs = 5000,
            Topics = [new() { Name = name, NumPartitions = 4, ReplicationFactor = 1 }],
        }, 5);
        return r.Topics.Single().ErrorCode;
    }

    [SkippableFact]
    public async Task A_full_disk_gets_kafka_errors_on_open_connections_and_everything_recovers_when_space_returns()
    {
        Skip.IfNot(_mounted, "mounting a tmpfs needs root (CI runs as root)");
        string data = Path.Combine(_mount, "data");
        await using var broker = await TempBroker.StartAsync(o => o with { DataDirectory = data, OffsetsTopicPartitions = 1 });
        using var connection = await RawConnection.ConnectAsync(broker.Bootstrap);
        Assert.Equal(ErrorCode.None, await CreateTopic(connection, "fill"));
        Assert.Equal(ErrorCode.None, await Commit(connection, 0));

        // Smaller and smaller batches until not one page is left, so even a tiny new file cannot be written.
        int written = 0;
        foreach (int size in (int[])[64 * 1024, 4096, 100])
        {
            ErrorCode error;
            while ((error = await Produce(connection, "fill", size)) == ErrorCode.None)
                Assert.True(++written < 2000, "the 6 MiB file system filled up");
            Assert.Equal(ErrorCode.KafkaStorageError, error);
        }

        // The same connection carries on; each request says the disk refused it.
        Assert.Equal(ErrorCode.KafkaStorageError, await Produce(connection, "fill"));
        Assert.Equal(ErrorCode.KafkaStorageError, await CreateTopic(connection, "late"));
        Assert.False(Directory.EnumerateDirectories(data, "late-*").Any(), "a failed creation leaves no partition behind");
        // A commit still fits in the last page of __consumer_offsets' segment for a while; then it fails as Kafka's would.
        int commits = 0;
        ErrorCode committed;
        while ((committed = await Commit(connection, written)) == ErrorCode.None)
            Assert.True(++commits < 200, "the offsets log's last page filled up");
        Assert.Equal(ErrorCode.CoordinatorNotAvailable, committed);

        // Space returns: the broker recovers by itself.
        Assert.Equal(0, await Run("mount", $"-o remount,size=64m {_mount}"));
        Assert.Equal(ErrorCode.None, await Produce(connection, "fill"));
        Assert.Equal(ErrorCode.None, await Commit(connection, written + 1));
        Assert.Equal(ErrorCode.None, await CreateTopic(connection, "late"));

        var fetched = await connection.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest
        {
            GroupId = "full-g",
            Topics = [new() { Name = "fill", PartitionIndexes = [0] }],
        }, 7);
        Assert.Equal(written + 1, fetched.Topics.Single().Partitions.Single().CommittedOffset);

        await broker.RestartAsync();
        using var after = await RawConnection.ConnectAsync(broker.Bootstrap);
        var offsets = await after.SendAsync<ListOffsetsResponse>(new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = "fill", Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }] }],
        }, 7);
        Assert.Equal(written + 1, offsets.Topics.Single().Partitions.Single().Offset);
    }
}
