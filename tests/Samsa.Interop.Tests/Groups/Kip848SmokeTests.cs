using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Broker;

namespace Samsa.Interop.Tests.Groups;

public sealed class Kip848SmokeTests
{
    [Fact]
    public async Task Two_then_three_confluent_consumers_share_four_partitions()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            ConsumerGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(200),
            ConsumerGroupHeartbeatInterval = TimeSpan.FromMilliseconds(500),
            ConsumerGroupMinSessionTimeout = TimeSpan.FromSeconds(3),
            ConsumerGroupSessionTimeout = TimeSpan.FromSeconds(6),
        });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "k", NumPartitions = 4, ReplicationFactor = 1 }]);

        var members = new List<(IConsumer<Ignore, Ignore> C, List<string> Log)>();
        IConsumer<Ignore, Ignore> Start(int i)
        {
            var log = new List<string>();
            var c = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
            {
                BootstrapServers = broker.Bootstrap,
                GroupId = "g",
                GroupProtocol = GroupProtocol.Consumer,
                ClientId = $"m{i}",
            })
            .SetPartitionsAssignedHandler((_, p) => { lock (log) log.Add("+" + string.Join(",", p.Select(x => x.Partition.Value))); })
            .SetPartitionsRevokedHandler((_, p) => { lock (log) log.Add("-" + string.Join(",", p.Select(x => x.Partition.Value))); })
            .SetPartitionsLostHandler((_, p) => { lock (log) log.Add("lost" + string.Join(",", p.Select(x => x.Partition.Value))); })
            .Build();
            c.Subscribe("k");
            members.Add((c, log));
            return c;
        }
        Start(0);
        Start(1);
        async Task Until(Func<bool> ok, string what)
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (!ok())
            {
                foreach (var m in members)
                    m.C.Consume(TimeSpan.FromMilliseconds(50));
                Assert.True(DateTime.UtcNow < until, what + ": " + string.Join(" | ", members.Select(m => string.Join(" ", m.Log) + " now " + string.Join(",", m.C.Assignment.Select(a => a.Partition.Value)))));
                await Task.Yield();
            }
        }
        await Until(() => members.All(m => m.C.Assignment.Count == 2), "2/2");
        Start(2);
        await Until(() => members.Sum(m => m.C.Assignment.Count) == 4 && members.All(m => m.C.Assignment.Count >= 1), "3 members");
        foreach (var m in members)
            Console.WriteLine(string.Join(" ", m.Log));
        foreach (var m in members)
            m.C.Close();
    }
}
