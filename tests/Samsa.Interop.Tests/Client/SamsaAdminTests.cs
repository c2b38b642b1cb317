using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Client.Admin;
using Samsa.Client.Errors;
using Samsa.Interop.Tests.Groups;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using STopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>Our admin client, checked against what Confluent.Kafka's admin client and consumers see on the same broker.</summary>
public class SamsaAdminTests
{
    private static KafkaAdminClient Admin(string bootstrap) => new(new AdminOptions { BootstrapServers = bootstrap });

    private static IAdminClient Theirs(string bootstrap) => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();

    [Fact]
    public async Task Topics_are_created_described_grown_configured_and_deleted()
    {
        await using var broker = await Start();
        await using var admin = Admin(broker.Bootstrap);
        using var theirs = Theirs(broker.Bootstrap);

        await admin.CreateTopicsAsync([new NewTopic("dry", 3)], validateOnly: true);
        await admin.CreateTopicsAsync([new NewTopic("orders", 3) { Configs = new Dictionary<string, string> { ["retention.ms"] = "3600000" } }]);
        var meta = theirs.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(meta.Topics, t => t.Topic == "dry");
        Assert.Equal(3, meta.Topics.Single(t => t.Topic == "orders").Partitions.Count);

        await Assert.ThrowsAsync<TopicExistsException>(() => admin.CreateTopicsAsync([new NewTopic("orders", 3)]));
        await Assert.ThrowsAsync<InvalidPartitionsException>(() => admin.CreatePartitionsAsync(new Dictionary<string, int> { ["orders"] = 2 }));

        await admin.CreatePartitionsAsync(new Dictionary<string, int> { ["orders"] = 5 });
        var described = (await admin.DescribeTopicsAsync(["orders"])).Single();
        Assert.Equal(5, described.Partitions.Count);
        Assert.Equal(5, theirs.GetMetadata("orders", TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count);

        await admin.AlterTopicConfigsAsync("orders", new Dictionary<string, string?> { ["cleanup.policy"] = "delete", ["retention.ms"] = null });
        var ours = (await admin.DescribeTopicConfigsAsync("orders")).ToDictionary(c => c.Name);
        var confluent = (await theirs.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "orders" }])).Single().Entries;
        Assert.Equal(confluent["retention.ms"].Value, ours["retention.ms"].Value);
        Assert.Equal(confluent["cleanup.policy"].Value, ours["cleanup.policy"].Value);

        var cluster = await admin.DescribeClusterAsync();
        Assert.Equal(meta.Brokers.Select(b => b.BrokerId), cluster.Brokers.Select(b => b.Id));

        await admin.DeleteTopicsAsync(["orders"]);
        Assert.DoesNotContain(theirs.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == "orders");
        await Assert.ThrowsAsync<UnknownTopicException>(() => admin.DeleteTopicsAsync(["orders"]));
    }

    [Fact]
    public async Task Groups_are_listed_described_with_lag_reset_only_when_empty_and_deleted()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100) });
        await using var admin = Admin(broker.Bootstrap);
        using var theirs = Theirs(broker.Bootstrap);
        await CreateTopic(broker.Bootstrap, "g", 2);
        await Produce(broker.Bootstrap, "g", 20, partition: 0);
        await Produce(broker.Bootstrap, "g", 10, partition: 1);

        var member = new ConfluentMember(broker.Bootstrap, "lagging", "g", instanceId: "box-1");
        try
        {
            await Eventually.True(() => member.Received.Count == 30, "the member read everything");
            member.Commit(new Confluent.Kafka.TopicPartitionOffset("g", 0, 15));

            Assert.Contains(await admin.ListGroupsAsync(), g => g.GroupId == "lagging" && g.State == "Stable");
            Assert.DoesNotContain(await admin.ListGroupsAsync(["Empty"]), g => g.GroupId == "lagging");
            var group = await admin.DescribeGroupAsync("lagging");
            var theirGroup = (await theirs.DescribeConsumerGroupsAsync(["lagging"])).ConsumerGroupDescriptions.Single();
            Assert.Equal(theirGroup.Members.Single().ClientId, group.Members.Single().ClientId);
            Assert.Equal("box-1", group.Members.Single().GroupInstanceId);
            Assert.Equal([new STopicPartition("g", 0), new STopicPartition("g", 1)], group.Members.Single().Assignment);

            var lag = await admin.ListGroupOffsetsAsync("lagging");
            Assert.Equal((15L, 20L, 5L), (lag[0].Committed!.Value, lag[0].LogEndOffset, lag[0].Lag));
            Assert.Equal((null, 10L, 10L), (lag[1].Committed, lag[1].LogEndOffset, lag[1].Lag));

            await Assert.ThrowsAsync<GroupNotEmptyException>(() => admin.ResetGroupOffsetsAsync("lagging", new OffsetResetSpec.ToEarliest(), null, execute: true));
            // A dry run works on a live group and changes nothing.
            var plan = await admin.ResetGroupOffsetsAsync("lagging", new OffsetResetSpec.ShiftBy(-10), null, execute: false);
            Assert.Equal(5, plan[new STopicPartition("g", 0)]);

        }
        finally
        {
            member.Dispose(); // static: it closes without leaving, so the group keeps it until the session times out...
        }
        Assert.Equal("Stable", (await admin.DescribeGroupAsync("lagging")).State);
        await admin.RemoveMembersAsync("lagging", ["box-1"]); // ...or an administrator removes it
        Assert.Equal("Empty", (await admin.DescribeGroupAsync("lagging")).State);

        var reset = await admin.ResetGroupOffsetsAsync("lagging", new OffsetResetSpec.ToOffset(3), ["g"], execute: true);
        Assert.Equal(2, reset.Count);
        var committed = await theirs.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("lagging", [new Confluent.Kafka.TopicPartition("g", 0), new Confluent.Kafka.TopicPartition("g", 1)])]);
        Assert.Equal([3L, 3L], committed.Single().Partitions.Select(p => p.Offset.Value));
        await admin.ResetGroupOffsetsAsync("lagging", new OffsetResetSpec.ToLatest(), ["g"], execute: true);
        Assert.All(await admin.ListGroupOffsetsAsync("lagging"), p => Assert.Equal(0, p.Lag));
        // By time: the first record at or after it; past the newest record, the log end (as kafka-consumer-groups.sh does).
        var byTime = await admin.ResetGroupOffsetsAsync("lagging", new OffsetResetSpec.ToDateTime(DateTimeOffset.UtcNow.AddHours(-1)), ["g"], execute: true);
        Assert.Equal([0L, 0L], byTime.OrderBy(p => p.Key.Partition).Select(p => p.Value));
        byTime = await admin.ResetGroupOffsetsAsync("lagging", new OffsetResetSpec.ToDateTime(DateTimeOffset.UtcNow.AddHours(1)), ["g"], execute: true);
        Assert.Equal([20L, 10L], byTime.OrderBy(p => p.Key.Partition).Select(p => p.Value));

        await admin.DeleteGroupsAsync(["lagging"]);
        Assert.DoesNotContain(await admin.ListGroupsAsync(), g => g.GroupId == "lagging");
    }

    [Fact]
    public async Task Delete_records_moves_the_log_start()
    {
        await using var broker = await Start();
        await using var admin = Admin(broker.Bootstrap);
        await CreateTopic(broker.Bootstrap, "dr", 1);
        await Produce(broker.Bootstrap, "dr", 10, partition: 0);
        var low = await admin.DeleteRecordsAsync(new Dictionary<STopicPartition, long> { [new STopicPartition("dr", 0)] = 6 });
        Assert.Equal(6, low[new STopicPartition("dr", 0)]);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "x" }).Build();
        Assert.Equal(6, consumer.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition("dr", 0), TimeSpan.FromSeconds(10)).Low.Value);
    }
}
