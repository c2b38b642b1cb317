using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Groups;

/// <summary>
/// A rolling upgrade of a classic cooperative-sticky group of Confluent.Kafka consumers to the
/// KIP-848 consumer protocol, member by member, and back, with records produced throughout: the
/// group keeps consuming, nothing is lost and the committed offsets carry over.
/// </summary>
public sealed class Kip848MigrationTests
{
    private const int Partitions = 6;

    [Fact]
    public async Task A_rolling_upgrade_to_the_consumer_protocol_and_back_loses_nothing()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            GroupInitialRebalanceDelay = TimeSpan.Zero,
            ConsumerGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(500),
            ConsumerGroupHeartbeatInterval = TimeSpan.FromSeconds(1),
            ConsumerGroupMinSessionTimeout = TimeSpan.FromSeconds(3),
            ConsumerGroupSessionTimeout = TimeSpan.FromSeconds(6),
        });
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "roll", NumPartitions = Partitions, ReplicationFactor = 1 }]);

        using var producing = new CancellationTokenSource();
        long produced = 0;
        var producer = Task.Run(async () =>
        {
            using var p = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, LingerMs = 5 }).Build();
            for (long i = 0; !producing.IsCancellationRequested; i++)
            {
                p.Produce("roll", new Message<string, string> { Key = $"k{i}", Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                Interlocked.Increment(ref produced);
                if (i % 50 == 0)
                    await Task.Delay(20);
            }
            p.Flush(TimeSpan.FromSeconds(10));
        });

        var members = new ConfluentMember?[3];
        var retired = new List<ConfluentMember>();
        ConfluentMember Start(string protocol) => new(broker.Bootstrap, "rolling", "roll", protocol, autoCommit: true);
        async Task Covered(string what) =>
            await Eventually.True(() => Eventually.Partitioned(members.Select(m => m!.Assigned), Partitions) && members.All(m => m!.Assigned.Count > 0), what, seconds: 60);

        for (int i = 0; i < 3; i++)
            members[i] = Start("cooperative-sticky");
        await Covered("three classic members share the partitions");

        foreach (var (from, to) in new[] { ("cooperative-sticky", "consumer"), ("consumer", "cooperative-sticky") })
        {
            for (int i = 0; i < 3; i++)
            {
                members[i]!.Dispose();
                retired.Add(members[i]!);
                members[i] = Start(to);
                await Covered($"member {i} switched from {from} to {to}");
            }
            var described = await admin.DescribeConsumerGroupsAsync(["rolling"]);
            Assert.Equal(3, described.ConsumerGroupDescriptions.Single().Members.Count);
        }

        producing.Cancel();
        await producer;
        long total = Interlocked.Read(ref produced);
        var all = () => retired.Concat(members.Select(m => m!)).SelectMany(m => m.Received).Select(r => long.Parse(r.Message.Value, System.Globalization.CultureInfo.InvariantCulture));
        await Eventually.True(() => all().Distinct().Count() == total, $"every one of {total} records consumed", seconds: 60);
        foreach (var m in members)
            m!.Dispose();

        // Auto-commit committed what was consumed: the group's offsets reach the end of every partition.
        using var check = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "rolling" }).Build();
        var committed = check.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition("roll", p)), TimeSpan.FromSeconds(10));
        foreach (var c in committed)
            Assert.Equal(check.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(10)).High, c.Offset);
    }
}
