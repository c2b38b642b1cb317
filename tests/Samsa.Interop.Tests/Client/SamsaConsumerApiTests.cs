using System.Diagnostics.Metrics;
using Samsa.Client.Consumer;
using Samsa.Interop.Tests.Groups;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>The rest of the consumer's surface: async streams, pause/resume, reset policies, unsubscribe, telemetry.</summary>
public class SamsaConsumerApiTests
{
    [Fact]
    public async Task Await_foreach_streams_records_until_cancelled()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "stream", 2);
        await Produce(broker.Bootstrap, "stream", 30);
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "stream-g"));
        consumer.Subscribe("stream");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var record in consumer.ConsumeAsync(cancel.Token))
            {
                seen.Add(record.Value);
                if (seen.Count == 30)
                    await cancel.CancelAsync();
            }
        });
        Assert.Equal(30, seen.Distinct().Count());
    }

    [Fact]
    public async Task Paused_partitions_return_nothing_until_resumed()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "pause", 2);
        await Produce(broker.Bootstrap, "pause", 10, partition: 0);
        await Produce(broker.Bootstrap, "pause", 10, partition: 1);
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, null));
        var p0 = new SamsaTopicPartition("pause", 0);
        var p1 = new SamsaTopicPartition("pause", 1);
        consumer.Assign([p0, p1]);
        consumer.SeekToBeginning([p0, p1]);
        consumer.Pause([p1]);
        Assert.Equal([p1], consumer.Paused());
        var first = await PollUntil(consumer, 10);
        Assert.All(first, r => Assert.Equal(0, r.Partition));
        Assert.Empty(await consumer.PollAsync(TimeSpan.FromMilliseconds(300))); // p1 still paused
        consumer.Resume([p1]);
        var second = await PollUntil(consumer, 10);
        Assert.All(second, r => Assert.Equal(1, r.Partition));
    }

    [Fact]
    public async Task Auto_offset_reset_none_throws_and_latest_skips_old_records_and_out_of_range_resets()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "reset", 1);
        await Produce(broker.Bootstrap, "reset", 5, prefix: "old");
        var tp = new SamsaTopicPartition("reset", 0);

        await using (var strict = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "none-g") with { AutoOffsetReset = AutoOffsetReset.None }))
        {
            strict.Assign([tp]);
            var e = await Assert.ThrowsAsync<NoOffsetForPartitionException>(async () => await strict.PollAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal([tp], e.Partitions);
        }

        await using var latest = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "latest-g") with { AutoOffsetReset = AutoOffsetReset.Latest });
        latest.Assign([tp]);
        Assert.Equal(5, latest.Position(tp));
        // A position past the end of the log is out of range: reset by policy (latest).
        latest.Seek(new Samsa.Client.TopicPartitionOffset(tp, 1000));
        var until = DateTime.UtcNow.AddSeconds(30);
        while (latest.Position(tp) != 5)
        {
            Assert.True(DateTime.UtcNow < until, "the out-of-range position was never reset");
            Assert.Empty(await latest.PollAsync(TimeSpan.FromMilliseconds(100)));
        }
        await Produce(broker.Bootstrap, "reset", 3, prefix: "new");
        var records = await PollUntil(latest, 3);
        Assert.Equal(["new0", "new1", "new2"], records.Select(r => r.Value));
    }

    [Fact]
    public async Task Unsubscribe_leaves_the_group_at_once()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "unsub", 2);
        using var other = new SamsaMember(broker.Bootstrap, "unsub-g", "unsub", configure: o => o with { SessionTimeout = TimeSpan.FromSeconds(60) });
        var revoked = new List<SamsaTopicPartition>();
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "unsub-g") with { SessionTimeout = TimeSpan.FromSeconds(60) });
        consumer.Subscribe(["unsub"], new RebalanceListener(onRevoked: p => revoked.AddRange(p)));
        var until = DateTime.UtcNow.AddSeconds(30);
        while (consumer.Assignment.Count != 1 || other.Assigned.Count != 1)
        {
            Assert.True(DateTime.UtcNow < until, "the two members never split the partitions");
            await consumer.PollAsync(TimeSpan.FromMilliseconds(100));
        }
        var mine = consumer.Assignment.Single();
        await consumer.UnsubscribeAsync();
        Assert.Empty(consumer.Assignment);
        Assert.Contains(mine, revoked);
        await Eventually.True(() => other.Assigned.Count == 2, "the other member took the partition well before the 60 s session timeout");
        Assert.Throws<InvalidOperationException>(() => consumer.Poll(TimeSpan.Zero));
    }

    [Fact]
    public async Task Consumed_records_are_counted_on_the_samsa_client_meter()
    {
        await using var broker = await Start();
        await CreateTopic(broker.Bootstrap, "meter", 1);
        await Produce(broker.Bootstrap, "meter", 12);
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ConsumerTelemetry.Name && instrument.Name == "messaging.client.consumed.messages")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.consumer.group.name" && (string?)tag.Value == "meter-g")
                    Interlocked.Add(ref counted, value);
            }
        });
        listener.Start();
        await using var consumer = new KafkaConsumer<string, string>(Options(broker.Bootstrap, "meter-g"));
        consumer.Subscribe("meter");
        await PollUntil(consumer, 12);
        Assert.Equal(12, Interlocked.Read(ref counted));
    }
}
