using Samsa.Client.Consumer;
using Samsa.Interop.Tests.Groups;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using STopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Broker;

/// <summary>__consumer_offsets is compacted like Kafka's: superseded commits go, the newest stays, across restarts.</summary>
public class CompactionTests
{
    private static async Task<int> CountRecords(string bootstrap, string topic, int partitions)
    {
        await using var reader = new KafkaConsumer<byte[]?, byte[]?>(new ConsumerOptions { BootstrapServers = bootstrap });
        var all = Enumerable.Range(0, partitions).Select(p => new STopicPartition(topic, p)).ToList();
        reader.Assign(all);
        reader.SeekToBeginning(all);
        var ends = reader.EndOffsets(all);
        int count = 0;
        var until = DateTime.UtcNow.AddSeconds(20);
        while (all.Any(p => reader.Position(p) < ends[p]))
        {
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"Read {count} record(s) of {topic} and did not reach its end.");
            count += (await reader.PollAsync(TimeSpan.FromMilliseconds(200))).Count;
        }
        return count;
    }

    [Fact]
    public async Task Superseded_commits_are_compacted_away_and_the_newest_survives_a_restart()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            SegmentBytes = 2048,
            LogCleanerBackoff = TimeSpan.FromMilliseconds(200),
            OffsetsTopicPartitions = 1,
        });
        await CreateTopic(broker.Bootstrap, "t", 1);
        var tp = new STopicPartition("t", 0);
        await using (var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "cg") with { EnableAutoCommit = false }))
        {
            consumer.Assign([tp]);
            for (int i = 1; i <= 200; i++)
                await consumer.CommitSyncAsync([new Samsa.Client.TopicPartitionOffset(tp, i)]);
        }
        await Eventually.True(() => CountRecords(broker.Bootstrap, "__consumer_offsets", 1).Result < 60,
            "compaction removed most of the 200 commit records");

        await using (var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap }))
            Assert.Equal("compact", (await admin.DescribeTopicConfigsAsync("__consumer_offsets")).Single(c => c.Name == "cleanup.policy").Value);

        await broker.RestartAsync();
        await using var after = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "cg"));
        Assert.Equal(200, (await after.CommittedAsync([tp]))[tp]!.Value.Offset);
    }
}
