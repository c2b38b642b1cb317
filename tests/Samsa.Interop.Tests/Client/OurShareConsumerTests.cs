using Samsa.Client.Consumer;
using Samsa.Client.Share;
using Samsa.Interop.Tests.Groups;
using Samsa.Protocol;
using Samsa.TestKit;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

namespace Samsa.Interop.Tests.Client;

/// <summary>
/// A cluster that serves KIP-932 share groups, for <see cref="OurShareConsumerTests"/>: the
/// scenarios are written once against this and run on every implementation (librdkafka's mock
/// cluster now; our broker once its share groups land).
/// </summary>
public interface IShareGroupTarget : IAsyncDisposable
{
    string Bootstrap { get; }

    Task CreateTopicAsync(string name, int partitions);

    /// <summary>group.share.record.lock.duration.ms: how long a delivered, unacknowledged record stays with its member.</summary>
    Task SetRecordLockDurationAsync(TimeSpan duration);

    /// <summary>
    /// Once <paramref name="members"/> consumers are in <paramref name="group"/>, every one of them
    /// is assigned every partition of <paramref name="topic"/>: what Kafka's share assignor does
    /// by itself when a group has more members than partitions.
    /// </summary>
    Task ShareAllPartitionsAsync(string group, string topic, int partitions, int members);
}

/// <summary>
/// librdkafka's mock cluster (three brokers, so partition leaders and the coordinator differ),
/// with share groups starting at the log start (share.auto.offset.reset=earliest; the mock's
/// default is latest, as Kafka's) and heartbeats every 250 ms.
/// </summary>
public sealed class MockClusterShareTarget : IShareGroupTarget
{
    private readonly MockCluster _mock = new(brokers: 3);

    public MockClusterShareTarget()
    {
        _mock.SetShareGroupSessionTimeout(TimeSpan.FromSeconds(10));
        _mock.SetShareGroupHeartbeatInterval(TimeSpan.FromMilliseconds(250));
        _mock.SetShareAutoOffsetResetEarliest(true);
        _mock.SetShareRecordLockDuration(TimeSpan.FromSeconds(30));
    }

    public string Bootstrap => _mock.BootstrapServers;

    public MockCluster Mock => _mock;

    public Task CreateTopicAsync(string name, int partitions)
    {
        _mock.CreateTopic(name, partitions);
        return Task.CompletedTask;
    }

    public Task SetRecordLockDurationAsync(TimeSpan duration)
    {
        _mock.SetShareRecordLockDuration(duration);
        return Task.CompletedTask;
    }

    // The mock's assignor gives a partition to one member only (a range split over members in
    // join order); Kafka's SimpleAssignor shares it. The mock's manual assignment does what Kafka does.
    public async Task ShareAllPartitionsAsync(string group, string topic, int partitions, int members)
    {
        IReadOnlyList<string> ids = [];
        await Eventually.True(() => (ids = _mock.ShareGroupMemberIds(group)).Count >= members, $"{members} members joined share group {group}");
        var all = Enumerable.Range(0, partitions).Select(p => (topic, p)).ToList();
        _mock.SetShareGroupAssignment(group, ids.ToDictionary(id => id, _ => (IReadOnlyList<(string, int)>)all));
    }

    public ValueTask DisposeAsync()
    {
        _mock.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Our KafkaShareConsumer against a cluster that serves share groups: records are shared by the
/// members of a group, each accepted record is done for good, released records come back with a
/// higher delivery count, rejected ones never, and whatever a member holds when it closes or goes
/// silent goes to the others.
/// </summary>
public abstract class OurShareConsumerTests : IAsyncLifetime
{
    private readonly List<KafkaShareConsumer<string, string>> _consumers = [];
    private IShareGroupTarget? _target;

    protected IShareGroupTarget Target => _target ?? throw new InvalidOperationException("The target has not started.");

    protected abstract Task<IShareGroupTarget> StartTargetAsync();

    public async Task InitializeAsync() => _target = await StartTargetAsync();

    public async Task DisposeAsync()
    {
        foreach (var consumer in _consumers)
            await consumer.DisposeAsync();
        if (_target is not null)
            await _target.DisposeAsync();
    }

    private KafkaShareConsumer<string, string> Consumer(string group, string topic, ShareAcknowledgementMode mode = ShareAcknowledgementMode.Implicit, int maxPollRecords = 500)
    {
        var consumer = new KafkaShareConsumer<string, string>(new ShareConsumerOptions
        {
            BootstrapServers = Target.Bootstrap,
            GroupId = group,
            AcknowledgementMode = mode,
            MaxPollRecords = maxPollRecords,
            FetchMaxWait = TimeSpan.FromMilliseconds(200),
            RetryBackoff = TimeSpan.FromMilliseconds(50),
        }, loggerFactory: TestLogging.Factory);
        consumer.Subscribe(topic);
        _consumers.Add(consumer);
        return consumer;
    }

    /// <summary>Polls every consumer (no records exist yet) until the group has given each the topic's partitions.</summary>
    private async Task JoinAsync(string group, string topic, int partitions, params KafkaShareConsumer<string, string>[] consumers)
    {
        var share = Target.ShareAllPartitionsAsync(group, topic, partitions, consumers.Length);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!share.IsCompleted || consumers.Any(c => c.Assignment.Count < partitions))
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Not every member of {group} was assigned {topic}: {string.Join("; ", consumers.Select(c => string.Join(",", c.Assignment)))}");
            foreach (var c in consumers)
                Assert.Empty(await c.PollAsync(TimeSpan.FromMilliseconds(20)));
        }
        await share;
    }

    private static async Task<List<ConsumeResult<string, string>>> PollUntil(KafkaShareConsumer<string, string> consumer, int count, int seconds = 30)
    {
        var received = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (received.Count < count)
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Received {received.Count} of {count} records.");
            received.AddRange(await consumer.PollAsync(TimeSpan.FromMilliseconds(200)));
        }
        return received;
    }

    [Fact]
    public async Task Three_members_share_one_partition_and_every_record_is_accepted_exactly_once()
    {
        await Target.CreateTopicAsync("q1", 1);
        var members = new[] { Consumer("three", "q1", maxPollRecords: 5), Consumer("three", "q1", maxPollRecords: 5), Consumer("three", "q1", maxPollRecords: 5) };
        await JoinAsync("three", "q1", 1, members);
        await Produce(Target.Bootstrap, "q1", 300);

        var got = members.Select(_ => new List<ConsumeResult<string, string>>()).ToArray();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var loops = members.Select((m, i) => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && got.Sum(g => Volatile.Read(ref g).Count) < 300)
            {
                var records = await m.PollAsync(TimeSpan.FromMilliseconds(100));
                lock (got[i])
                    got[i].AddRange(records);
                if (records.Count > 0)
                    await Task.Delay(5); // "processing", so that the members take turns
            }
            // One more poll accepts the last records (implicit mode), then look for stray redeliveries.
            var until = DateTime.UtcNow.AddSeconds(1);
            while (DateTime.UtcNow < until)
            {
                var late = await m.PollAsync(TimeSpan.FromMilliseconds(100));
                lock (got[i])
                    got[i].AddRange(late);
            }
            m.CommitSync();
        })).ToArray();
        await Task.WhenAll(loops);

        var all = got.SelectMany(g => g).ToList();
        Assert.Equal(300, all.Count);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), all.Select(r => r.Offset).Order());
        Assert.All(all, r => Assert.Equal((short)1, r.DeliveryCount));
        Assert.All(got, g => Assert.NotEmpty(g));
    }

    [Fact]
    public async Task A_released_record_comes_back_with_delivery_count_two()
    {
        await Target.CreateTopicAsync("rel", 1);
        var consumer = Consumer("rel-g", "rel", ShareAcknowledgementMode.Explicit);
        await JoinAsync("rel-g", "rel", 1, consumer);
        await Produce(Target.Bootstrap, "rel", 1);

        var first = Assert.Single(await PollUntil(consumer, 1));
        Assert.Equal((short)1, first.DeliveryCount);
        consumer.Acknowledge(first, AcknowledgeType.Release);
        var again = Assert.Single(await PollUntil(consumer, 1));
        Assert.Equal(first.Offset, again.Offset);
        Assert.Equal(first.Value, again.Value);
        Assert.Equal((short)2, again.DeliveryCount);
        consumer.Acknowledge(again);
        var results = consumer.CommitSync();
        Assert.Null(Assert.Single(results).Value);
    }

    [Fact]
    public async Task A_rejected_record_is_never_delivered_again()
    {
        await Target.CreateTopicAsync("rej", 1);
        var consumer = Consumer("rej-g", "rej", ShareAcknowledgementMode.Explicit);
        await JoinAsync("rej-g", "rej", 1, consumer);
        await Produce(Target.Bootstrap, "rej", 2);

        var records = await PollUntil(consumer, 2);
        consumer.Acknowledge(records[0], AcknowledgeType.Reject);
        consumer.Acknowledge(records[1], AcknowledgeType.Release);
        Assert.All(consumer.CommitSync(), r => Assert.Null(r.Value));
        var redelivered = Assert.Single(await PollUntil(consumer, 1));
        Assert.Equal(records[1].Offset, redelivered.Offset);
        consumer.Acknowledge(redelivered);
        var until = DateTime.UtcNow.AddSeconds(2);
        while (DateTime.UtcNow < until)
            Assert.Empty(await consumer.PollAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Explicit_mode_refuses_a_poll_before_every_record_is_acknowledged_and_implicit_mode_refuses_acknowledge()
    {
        await Target.CreateTopicAsync("ex", 1);
        var consumer = Consumer("ex-g", "ex", ShareAcknowledgementMode.Explicit);
        await JoinAsync("ex-g", "ex", 1, consumer);
        await Produce(Target.Bootstrap, "ex", 3);
        var records = await PollUntil(consumer, 3);
        consumer.Acknowledge(records[0]);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await consumer.PollAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Throws<InvalidOperationException>(() => consumer.Acknowledge("ex", 0, 12345, AcknowledgeType.Accept));
        consumer.Acknowledge(records[1]);
        consumer.Acknowledge(records[2], AcknowledgeType.Reject);
        Assert.Empty(await consumer.PollAsync(TimeSpan.FromMilliseconds(300)));

        await Target.CreateTopicAsync("im", 1);
        var implicitConsumer = Consumer("im-g", "im");
        await JoinAsync("im-g", "im", 1, implicitConsumer);
        await Produce(Target.Bootstrap, "im", 1);
        var record = Assert.Single(await PollUntil(implicitConsumer, 1));
        Assert.Throws<InvalidOperationException>(() => implicitConsumer.Acknowledge(record));
    }

    [Fact]
    public async Task The_commit_callback_hears_each_partitions_outcome_including_a_lock_that_expired()
    {
        await Target.CreateTopicAsync("cb", 1);
        var consumer = Consumer("cb-g", "cb", ShareAcknowledgementMode.Explicit);
        var heard = new List<(IReadOnlyDictionary<SamsaTopicPartition, IReadOnlyCollection<long>> Offsets, Samsa.Client.KafkaException? Error)>();
        consumer.AcknowledgementCommitCallback = (offsets, error) => heard.Add((offsets, error));
        await JoinAsync("cb-g", "cb", 1, consumer);
        await Produce(Target.Bootstrap, "cb", 3);

        var records = await PollUntil(consumer, 3);
        foreach (var r in records)
            consumer.Acknowledge(r);
        consumer.CommitAsync();
        await Eventually.True(() =>
        {
            consumer.Poll(TimeSpan.FromMilliseconds(50));
            return heard.Count > 0;
        }, "the callback ran");
        var (offsets, error) = Assert.Single(heard);
        Assert.Null(error);
        Assert.Equal([0L, 1, 2], offsets[new SamsaTopicPartition("cb", 0)].Order());

        // An acknowledgement after the record's lock expired is refused, and the callback says so.
        await Target.SetRecordLockDurationAsync(TimeSpan.FromSeconds(1));
        await Produce(Target.Bootstrap, "cb", 1, prefix: "late");
        var late = Assert.Single(await PollUntil(consumer, 1));
        await Task.Delay(TimeSpan.FromSeconds(3)); // the mock checks locks once a second
        consumer.Acknowledge(late);
        var result = consumer.CommitSync();
        var refused = Assert.Single(result).Value;
        Assert.NotNull(refused);
        // On a loaded machine the mock may also have timed the idle share session out, which
        // released the record as well: either refusal says the acknowledgement came too late.
        Assert.Contains(refused.Error, (ErrorCode[])[ErrorCode.InvalidRecordState, ErrorCode.ShareSessionNotFound]);
        Assert.Equal(refused.Error, heard[^1].Error?.Error);
    }

    [Fact]
    public async Task Close_releases_what_a_member_holds_and_another_member_gets_it()
    {
        await Target.CreateTopicAsync("cl", 1);
        var holder = Consumer("cl-g", "cl", ShareAcknowledgementMode.Explicit);
        var other = Consumer("cl-g", "cl", ShareAcknowledgementMode.Explicit);
        await JoinAsync("cl-g", "cl", 1, holder, other);
        await Task.Delay(1000); // the other member's last fetch is answered before there are records
        await Produce(Target.Bootstrap, "cl", 5);

        var held = await PollUntil(holder, 5);
        Assert.All(held, r => Assert.Equal((short)1, r.DeliveryCount));
        await holder.CloseAsync(); // not acknowledged: released (the lock is 30 s)
        var got = await PollUntil(other, 5, seconds: 10);
        Assert.Equal(held.Select(r => r.Offset), got.Select(r => r.Offset).Order());
        Assert.All(got, r => Assert.Equal((short)2, r.DeliveryCount));
        foreach (var r in got)
            other.Acknowledge(r);
        Assert.All(other.CommitSync(), r => Assert.Null(r.Value));
    }

    [Fact]
    public async Task Records_of_a_member_that_stops_polling_come_back_after_the_lock_duration()
    {
        await Target.SetRecordLockDurationAsync(TimeSpan.FromSeconds(2));
        await Target.CreateTopicAsync("st", 1);
        var stuck = Consumer("st-g", "st", ShareAcknowledgementMode.Explicit);
        var other = Consumer("st-g", "st");
        await JoinAsync("st-g", "st", 1, stuck, other);
        await Task.Delay(1000);
        await Produce(Target.Bootstrap, "st", 4);

        var held = await PollUntil(stuck, 4);
        // The stuck member neither acknowledges nor polls again (it keeps heartbeating).
        var started = DateTime.UtcNow;
        var got = await PollUntil(other, 4, seconds: 15);
        Assert.True(DateTime.UtcNow - started > TimeSpan.FromSeconds(1), "redelivered before the lock expired");
        Assert.Equal(held.Select(r => r.Offset), got.Select(r => r.Offset).Order());
        Assert.All(got, r => Assert.Equal((short)2, r.DeliveryCount));
        Assert.Single(stuck.Assignment); // still a member
    }

    [Fact]
    public async Task ConsumeAsync_streams_records_and_implicitly_accepts_them()
    {
        await Target.CreateTopicAsync("str", 2);
        var consumer = Consumer("str-g", "str", maxPollRecords: 7);
        await JoinAsync("str-g", "str", 2, consumer);
        await Produce(Target.Bootstrap, "str", 40);
        var seen = new List<ConsumeResult<string, string>>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var record in consumer.ConsumeAsync(timeout.Token))
        {
            seen.Add(record);
            if (seen.Count == 40)
                break;
        }
        Assert.Equal(40, seen.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        Assert.Empty(await consumer.PollAsync(TimeSpan.FromMilliseconds(500))); // accepts the last ones
        Assert.Empty(consumer.CommitSync());
    }
}

public sealed class OurShareConsumerOnMockClusterTests : OurShareConsumerTests
{
    protected override Task<IShareGroupTarget> StartTargetAsync() => Task.FromResult<IShareGroupTarget>(new MockClusterShareTarget());
}
