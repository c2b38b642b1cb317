using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Topics;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Storage;

/// <summary>
/// Topic creation is all or nothing and a topic id never changes: a failure part-way leaves no
/// topic and says where it failed, a creation a crash cut short is removed at the next start, and
/// a deletion cut short does not bring the topic back.
/// </summary>
public sealed class TopicLayoutTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-layout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<TopicManager> Open(int? maxPartitions = null) =>
        TopicManager.OpenAsync(new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = _dir, MaxPartitions = maxPartitions }, NullLogger.Instance, CancellationToken.None);

    private string[] PartitionDirs(string topic) => [.. Directory.GetDirectories(_dir, topic + "-*").Select(Path.GetFileName).Order()!];

    private static byte[] OneRecord()
    {
        using var builder = new Samsa.Protocol.Records.RecordBatchBuilder();
        builder.Add(1000, "k"u8, false, "v"u8, false);
        using var output = new Samsa.Protocol.Primitives.PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task A_creation_the_disk_refuses_part_way_leaves_no_topic_and_the_next_one_succeeds()
    {
        // Partition 2's directory cannot be made: a file is in its way (as a full or read-only disk would refuse).
        string blocker = Path.Combine(_dir, "orders-2");
        File.WriteAllText(blocker, "");
        await using (var topics = await Open())
        {
            var (error, message, topic) = topics.Create("orders", 4, configs: new Dictionary<string, string?> { ["retention.ms"] = "1000" });
            Assert.Equal(ErrorCode.KafkaStorageError, error);
            Assert.Null(topic);
            Assert.Contains(blocker, message, StringComparison.Ordinal);
            Assert.False(topics.TryGet("orders", out _));
            Assert.Empty(PartitionDirs("orders"));

            File.Delete(blocker);
            var created = topics.Create("orders", 4);
            Assert.Equal(ErrorCode.None, created.Error);
            Assert.Equal(4, created.Topic!.Partitions.Length);
        }
    }

    [Fact]
    public async Task A_topic_keeps_its_id_and_partitions_across_restarts()
    {
        Guid id;
        await using (var topics = await Open())
            id = topics.Create("stable", 3).Topic!.Id;
        for (int i = 0; i < 2; i++)
        {
            await using var topics = await Open();
            Assert.True(topics.TryGet("stable", out var topic));
            Assert.Equal((id, 3), (topic.Id, topic.Partitions.Length));
        }
    }

    [Fact]
    public async Task A_creation_a_crash_cut_short_is_removed_at_start_up()
    {
        await using (var topics = await Open())
        {
            topics.Create("kept", 2);
            topics.Create("half", 4);
            topics.Create("grown", 2);
            Assert.Equal(ErrorCode.None, topics.AddPartitions("grown", 4, validateOnly: false).Error);
        }
        // A creation commits partition 0 last, so a crash mid-way leaves partition 0 without its file;
        // a growth commits in order, so the last new partitions lack theirs.
        File.Delete(Path.Combine(_dir, "half-0", "partition.metadata"));
        File.Delete(Path.Combine(_dir, "half-3", "partition.metadata"));
        File.Delete(Path.Combine(_dir, "grown-3", "partition.metadata"));
        await using (var topics = await Open())
        {
            Assert.False(topics.TryGet("half", out _));
            Assert.Empty(PartitionDirs("half"));
            Assert.True(topics.TryGet("grown", out var grown));
            Assert.Equal(3, grown.Partitions.Length);
            Assert.Equal(["grown-0", "grown-1", "grown-2"], PartitionDirs("grown"));
            Assert.True(topics.TryGet("kept", out var kept));
            Assert.Equal(2, kept.Partitions.Length);
        }
    }

    [Fact]
    public async Task A_partition_with_records_but_no_id_file_keeps_its_records_and_gets_an_id_for_good()
    {
        await using (var topics = await Open())
        {
            topics.Create("legacy", 1);
            Assert.True(topics.TryGet("legacy", out var topic));
            topic.Partitions[0].Append(OneRecord());
        }
        File.Delete(Path.Combine(_dir, "legacy-0", "partition.metadata"));
        Guid first;
        await using (var topics = await Open())
        {
            Assert.True(topics.TryGet("legacy", out var topic));
            Assert.Equal(1, topic.Partitions[0].LogEndOffset);
            first = topic.Id;
        }
        await using (var topics = await Open())
        {
            Assert.True(topics.TryGet("legacy", out var topic));
            Assert.Equal(first, topic.Id);
        }
    }

    [Fact]
    public async Task A_deletion_cut_short_is_finished_at_start_up_and_does_not_bring_the_topic_back()
    {
        await using (var topics = await Open())
        {
            topics.Create("gone", 2);
            Assert.Equal(ErrorCode.None, topics.Delete("gone"));
            Assert.Empty(PartitionDirs("gone"));
        }
        // What a crash between the rename and the removal leaves.
        Directory.CreateDirectory(Path.Combine(_dir, "gone-0.0123456789abcdef0123456789abcdef-delete"));
        await using (var topics = await Open())
        {
            Assert.False(topics.TryGet("gone", out _));
            Assert.Empty(PartitionDirs("gone"));
        }
    }

    [Fact]
    public async Task Past_max_partitions_creation_and_growth_are_refused_and_change_nothing()
    {
        await using var topics = await Open(maxPartitions: 10);
        Assert.Equal(ErrorCode.None, topics.Create("a", 6).Error);
        var refused = topics.Create("b", 5);
        Assert.Equal(ErrorCode.PolicyViolation, refused.Error);
        Assert.Contains("max.partitions", refused.Message, StringComparison.Ordinal);
        Assert.False(topics.TryGet("b", out _));
        Assert.Empty(PartitionDirs("b"));
        Assert.Equal(ErrorCode.PolicyViolation, topics.Create("b", 5, validateOnly: true).Error);
        Assert.Equal(ErrorCode.PolicyViolation, topics.AddPartitions("a", 11, validateOnly: false).Error);
        Assert.True(topics.TryGet("a", out var a));
        Assert.Equal(6, a.Partitions.Length);
        Assert.Equal(ErrorCode.None, topics.AddPartitions("a", 10, validateOnly: false).Error);
        Assert.Equal(10, topics.PartitionCount);
    }

    [Theory]
    [InlineData(1024L, 100)]
    [InlineData(20_000L, 9488)]
    [InlineData(1_048_576L, 523_776)]
    public void The_default_ceiling_leaves_half_the_open_file_limit_to_partitions(long limit, int ceiling) =>
        Assert.Equal(ceiling, PartitionCeiling.FromOpenFileLimit(limit));
}
