using System.Collections.Concurrent;
using System.Diagnostics;
using Samsa.TestKit;
using Xunit.Abstractions;
using static Samsa.Interop.Tests.Broker.ShareWire;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// librdkafka's own share consumer (KIP-932, rd_kafka_share_*) against our broker: several
/// consumers in one share group read a topic together, and every record is delivered once — none
/// lost, none twice — whether the members split the partitions or share one, and when one of them
/// closes part-way.
/// </summary>
public sealed class LibrdkafkaShareConsumerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 3, 300, false)]
    [InlineData(3, 3, 600, false)]
    [InlineData(1, 3, 3000, true)]
    public async Task Share_consumers_together_deliver_every_record_once(int partitions, int consumers, int records, bool oneCloses)
    {
        // Heartbeats every second, so all members have their assignment soon (librdkafka times a heartbeat out after one interval: not less).
        await using var broker = await StartAsync(o => o with { ShareGroupHeartbeatInterval = TimeSpan.FromSeconds(1), ShareGroupMinHeartbeatInterval = TimeSpan.FromSeconds(1) });
        await CreateTopicAsync(broker.Bootstrap, "tasks", partitions);

        var delivered = new ConcurrentQueue<(int Consumer, ShareDelivery Record)>();
        var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, consumers).Select(i => Task.Factory.StartNew(() =>
        {
            var config = new Dictionary<string, string>
            {
                ["bootstrap.servers"] = broker.Bootstrap,
                ["group.id"] = "share-workers",
                ["client.id"] = $"share-{i}",
                ["max.poll.records"] = "20",
            };
            if (Environment.GetEnvironmentVariable("SAMSA_TEST_RDKAFKA_DEBUG") is { Length: > 0 } debug)
                config["debug"] = debug;
            using var consumer = new LibrdkafkaShareConsumer(config, "tasks");
            try
            {
                int mine = 0;
                while (!stop.IsCancellationRequested)
                {
                    foreach (var record in consumer.Poll(TimeSpan.FromMilliseconds(200)))
                    {
                        delivered.Enqueue((i, record));
                        mine++;
                    }
                    // One member closes part-way, the others take over the rest. (In implicit mode
                    // librdkafka accepts a poll's records at the next poll or commit, not at close:
                    // without the commit its last batch would go back and be delivered again.)
                    if (oneCloses && i == 0 && mine >= 40)
                    {
                        Assert.Empty(consumer.CommitSync(TimeSpan.FromSeconds(10)));
                        break;
                    }
                }
                failures.Enqueue(string.Join("; ", consumer.Errors));
            }
            catch (Exception e)
            {
                failures.Enqueue($"consumer {i}: {e.Message}");
            }
            finally
            {
                consumer.Close();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();

        // Records are written once every member has caught up with the group's assignment, so all take part.
        await WaitForMembersAsync(broker.Bootstrap, "share-workers", consumers);
        for (int p = 0; p < partitions; p++)
            await ProduceAsync(broker.Bootstrap, "tasks", p * (records / partitions), records / partitions, perBatch: 5, partition: p);
        var clock = Stopwatch.StartNew();
        while (delivered.Select(d => d.Record.Value).Distinct().Count() < records && clock.Elapsed < TimeSpan.FromSeconds(90))
            await Task.Delay(100);
        // A little longer, so a record delivered twice would show.
        await Task.Delay(1000);
        await stop.CancelAsync();
        await Task.WhenAll(threads).WaitAsync(TimeSpan.FromSeconds(60));

        var all = delivered.ToList();
        output.WriteLine($"{all.Count} deliveries in {clock.Elapsed.TotalSeconds:F1} s: " +
            string.Join(", ", all.GroupBy(d => d.Consumer).OrderBy(g => g.Key).Select(g => $"consumer {g.Key}: {g.Count()}")));
        Assert.All(failures, f => Assert.Equal("", f));
        var values = all.Select(d => d.Record.Value).ToList();
        Assert.Equal(Enumerable.Range(0, records).Select(i => $"v{i}").Order(StringComparer.Ordinal), values.Distinct().Order(StringComparer.Ordinal));
        var twice = values.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var value in twice.Take(5))
            output.WriteLine($"{value}: " + string.Join(", ", all.Where(d => d.Record.Value == value).Select(d => $"consumer {d.Consumer} offset {d.Record.Offset} count {d.Record.DeliveryCount}")));
        Assert.Empty(twice);
        Assert.All(all, d => Assert.Equal(1, d.Record.DeliveryCount));
        Assert.True(all.Select(d => d.Consumer).Distinct().Count() >= 2, "the records should be spread over the consumers");
    }

    /// <summary>Until the group has <paramref name="count"/> members, each at the group's epoch with partitions assigned.</summary>
    private static async Task WaitForMembersAsync(string bootstrap, string group, int count)
    {
        using var c = await RawConnection.ConnectAsync(bootstrap);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var g = (await c.SendAsync<Samsa.Protocol.Messages.ShareGroupDescribeResponse>(new Samsa.Protocol.Messages.ShareGroupDescribeRequest { GroupIds = [group] }, 1)).Groups.Single();
            if (g.Members.Count == count && g.Members.All(m => m.MemberEpoch == g.GroupEpoch && m.Assignment.TopicPartitions.Count > 0))
                return;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{g.Members.Count} member(s) of {count} caught up after a minute");
            await Task.Delay(100);
        }
    }
}
