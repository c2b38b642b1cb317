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

    protected KafkaShareConsumer<string, string> Consumer(string group, string topic, ShareAcknowledgementMode mode = ShareAcknowledgementMode.Implicit, int maxPollRecords = 500)
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
    protected async Task JoinAsync(string group, string topic, int partitions, params KafkaShareConsumer<string, string>[] consumers)
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

    protected static async Task<List<ConsumeResult<string, string>>> PollUntil(KafkaShareConsumer<string, string> consumer, int count, int seconds = 30)
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

    /// <summary>Produces <paramref name="count"/> records, flushing every <paramref name="batchSize"/> so that each batch is its own record batch.</summary>
    protected static async Task ProduceInBatches(string bootstrap, string topic, int count, int batchSize)
    {
        using var producer = new Confluent.Kafka.ProducerBuilder<string, string>(new Confluent.Kafka.ProducerConfig { BootstrapServers = bootstrap, LingerMs = 0 }).Build();
        for (int i = 0; i < count; i++)
        {
            await producer.ProduceAsync(topic, new Confluent.Kafka.Message<string, string> { Key = $"k{i}", Value = $"m{i}" });
            if ((i + 1) % batchSize == 0)
                producer.Flush(TimeSpan.FromSeconds(30));
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Polls until <paramref name="consumer"/> holds at least one record.</summary>
    protected static Task<List<ConsumeResult<string, string>>> PollSome(KafkaShareConsumer<string, string> consumer) => PollUntil(consumer, 1);

    [Fact]
    public async Task Three_members_share_one_partition_and_every_record_is_accepted_exactly_once()
    {
        await Target.CreateTopicAsync("q1", 1);
        var members = new[] { Consumer("three", "q1", maxPollRecords: 5), Consumer("three", "q1", maxPollRecords: 5), Consumer("three", "q1", maxPollRecords: 5) };
        await JoinAsync("three", "q1", 1, members);
        // Small batches: a share fetch acquires whole batches (Kafka's batch-optimised acquisition),
        // so one batch of 300 would go to a single member.
        await ProduceInBatches(Target.Bootstrap, "q1", 300, batchSize: 5);

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

    }

    [Fact]
    public async Task An_acknowledgement_after_the_lock_expired_is_refused_and_the_callback_says_so()
    {
        await Target.SetRecordLockDurationAsync(TimeSpan.FromSeconds(2));
        await Target.CreateTopicAsync("late", 1);
        var a = Consumer("late-g", "late", ShareAcknowledgementMode.Explicit);
        var b = Consumer("late-g", "late", ShareAcknowledgementMode.Explicit);
        var heard = new List<Samsa.Client.KafkaException?>();
        a.AcknowledgementCommitCallback = (_, error) => heard.Add(error);
        b.AcknowledgementCommitCallback = (_, error) => heard.Add(error);
        await JoinAsync("late-g", "late", 1, a, b);
        await Produce(Target.Bootstrap, "late", 1, prefix: "late");

        // Whichever member gets the record holds it past its lock; the record going to the other
        // member (delivery count 2) is what shows that the lock has expired.
        var (holder, other, late) = await FirstToReceive(a, b);
        var again = Assert.Single(await PollUntil(other, 1, seconds: 20));
        Assert.Equal(late.Offset, again.Offset);
        Assert.Equal((short)2, again.DeliveryCount);
        holder.Acknowledge(late);
        var refused = Assert.Single(holder.CommitSync()).Value;
        Assert.NotNull(refused);
        // On a loaded machine the mock may also have timed the idle share session out, which
        // released the record as well: either refusal says the acknowledgement came too late.
        Assert.Contains(refused.Error, (ErrorCode[])[ErrorCode.InvalidRecordState, ErrorCode.ShareSessionNotFound]);
        Assert.Equal(refused.Error, heard[^1]?.Error);
        other.Acknowledge(again);
        Assert.All(other.CommitSync(), r => Assert.Null(r.Value));
    }

    /// <summary>Polls both members until one receives a record: (that member, the other, the record).</summary>
    private static async Task<(KafkaShareConsumer<string, string> Holder, KafkaShareConsumer<string, string> Other, ConsumeResult<string, string> Record)> FirstToReceive(
        KafkaShareConsumer<string, string> a, KafkaShareConsumer<string, string> b)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            if ((await a.PollAsync(TimeSpan.FromMilliseconds(100))) is [var fromA])
                return (a, b, fromA);
            if ((await b.PollAsync(TimeSpan.FromMilliseconds(100))) is [var fromB])
                return (b, a, fromB);
        }
        throw new Xunit.Sdk.XunitException("Neither member received the record.");
    }

    [Fact]
    public async Task Close_releases_what_a_member_holds_and_another_member_gets_it()
    {
        await Target.CreateTopicAsync("cl", 1);
        var holder = Consumer("cl-g", "cl", ShareAcknowledgementMode.Explicit);
        await JoinAsync("cl-g", "cl", 1, holder);
        await Produce(Target.Bootstrap, "cl", 5);

        // The other member joins once the holder has everything, so no fetch of its own was
        // waiting when the records arrived.
        var held = await PollUntil(holder, 5);
        Assert.All(held, r => Assert.Equal((short)1, r.DeliveryCount));
        var other = Consumer("cl-g", "cl");
        var share = Target.ShareAllPartitionsAsync("cl-g", "cl", 1, 2);
        while (!share.IsCompleted)
            Assert.Empty(await other.PollAsync(TimeSpan.FromMilliseconds(50)));
        await share;
        await holder.CloseAsync(); // not acknowledged: released (the lock is 30 s)
        var got = await PollUntilOffsets(other, 5, seconds: 20);
        AssertRedelivered(held, got, 5);
    }

    [Fact]
    public async Task Records_of_a_member_that_stops_polling_come_back_after_the_lock_duration()
    {
        await Target.SetRecordLockDurationAsync(TimeSpan.FromSeconds(2));
        await Target.CreateTopicAsync("st", 1);
        var stuck = Consumer("st-g", "st", ShareAcknowledgementMode.Explicit);
        await JoinAsync("st-g", "st", 1, stuck);
        await Produce(Target.Bootstrap, "st", 4);

        var held = await PollUntil(stuck, 4);
        // The stuck member neither acknowledges nor polls again (it keeps heartbeating). The other
        // joins only now, so it had no fetch waiting when the records arrived.
        var started = DateTime.UtcNow;
        var other = Consumer("st-g", "st");
        var share = Target.ShareAllPartitionsAsync("st-g", "st", 1, 2);
        var got = await PollUntilOffsets(other, 4, seconds: 20);
        await share;
        Assert.True(DateTime.UtcNow - started > TimeSpan.FromSeconds(1), $"redelivered before the lock expired: got {string.Join(",", got.Select(r => $"{r.Offset}/{r.DeliveryCount}"))}");
        AssertRedelivered(held, got, 4);
        Assert.Single(stuck.Assignment); // still a member
    }

    /// <summary>Polls (implicit mode) until records of offsets 0 to <paramref name="count"/> - 1 all arrived.</summary>
    protected static async Task<List<ConsumeResult<string, string>>> PollUntilOffsets(KafkaShareConsumer<string, string> consumer, int count, int seconds)
    {
        var received = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (received.Select(r => r.Offset).Distinct().Count() < count)
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Received offsets {string.Join(",", received.Select(r => r.Offset))} of 0-{count - 1}.");
            received.AddRange(await consumer.PollAsync(TimeSpan.FromMilliseconds(200)));
        }
        Assert.Empty(await consumer.PollAsync(TimeSpan.FromMilliseconds(50))); // accepts the last ones
        return received;
    }

    /// <summary>Every offset arrived once; the held ones the second time (delivery count 2), the rest the first.</summary>
    private static void AssertRedelivered(List<ConsumeResult<string, string>> held, List<ConsumeResult<string, string>> got, int count)
    {
        Assert.NotEmpty(held);
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), got.Select(r => r.Offset).Order());
        var heldOffsets = held.Select(r => r.Offset).ToHashSet();
        Assert.All(got, r => Assert.Equal(heldOffsets.Contains(r.Offset) ? (short)2 : (short)1, r.DeliveryCount));
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

/// <summary>The scenarios against our broker, and those that need a broker setting or a restart.</summary>
public sealed class OurShareConsumerOnSamsaBrokerTests : OurShareConsumerTests
{
    private SamsaBrokerShareTarget Broker => (SamsaBrokerShareTarget)Target;

    protected override async Task<IShareGroupTarget> StartTargetAsync() => await SamsaBrokerShareTarget.StartAsync();

    [Fact]
    public async Task A_record_released_at_every_delivery_is_archived_at_the_delivery_count_limit()
    {
        await Broker.SetDeliveryCountLimitAsync(3);
        await Target.CreateTopicAsync("poison", 1);
        var consumer = Consumer("poison-g", "poison", ShareAcknowledgementMode.Explicit);
        await JoinAsync("poison-g", "poison", 1, consumer);
        await Produce(Target.Bootstrap, "poison", 1, prefix: "poison");

        for (short delivery = 1; delivery <= 3; delivery++)
        {
            var record = Assert.Single(await PollUntil(consumer, 1));
            Assert.Equal(0, record.Offset);
            Assert.Equal(delivery, record.DeliveryCount);
            consumer.Acknowledge(record, AcknowledgeType.Release);
            Assert.All(consumer.CommitSync(), r => Assert.Null(r.Value));
        }
        // Archived after its third delivery: the next record is the next thing the group gets.
        await Produce(Target.Bootstrap, "poison", 1, prefix: "next");
        var next = Assert.Single(await PollUntil(consumer, 1));
        Assert.Equal(1, next.Offset);
        Assert.Equal((short)1, next.DeliveryCount);
        consumer.Acknowledge(next);
        Assert.All(consumer.CommitSync(), r => Assert.Null(r.Value));
    }

    [Fact]
    public async Task A_broker_restart_keeps_what_was_acknowledged_and_frees_what_was_in_flight()
    {
        await Target.CreateTopicAsync("rs", 1);
        var before = Consumer("rs-g", "rs", ShareAcknowledgementMode.Explicit);
        await JoinAsync("rs-g", "rs", 1, before);
        await Produce(Target.Bootstrap, "rs", 10);
        var records = await PollUntil(before, 10);
        foreach (var r in records.Where(r => r.Offset < 5))
            before.Acknowledge(r);
        Assert.All(before.CommitSync(), r => Assert.Null(r.Value));
        // Offsets 5-9 are still held by `before` when the broker goes down.
        await Broker.RestartAsync();

        var after = Consumer("rs-g", "rs");
        var got = await PollUntilOffsetsFrom(after, 5, 10, seconds: 30);
        Assert.Equal(Enumerable.Range(5, 5).Select(i => (long)i), got.Select(r => r.Offset).Distinct().Order());
    }

    [Fact]
    public async Task Five_members_on_two_partitions_all_receive_records_and_every_record_is_accepted_exactly_once()
    {
        const int Count = 200;
        await Target.CreateTopicAsync("five", 2);
        var members = Enumerable.Range(0, 5).Select(_ => Consumer("five-g", "five", maxPollRecords: 5)).ToArray();
        // With more members than partitions the share assignor (Kafka's SimpleAssignor too) gives
        // each member at least one partition and every partition to several members. Wait until
        // the assignment has settled (every member at the assignment epoch, and holding what the
        // group says): a partition moving away later would release what its member had acquired,
        // and those records would come to the next member as their second delivery.
        await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = Target.Bootstrap });
        await Eventually.True(async () =>
        {
            foreach (var m in members)
                Assert.Empty(await m.PollAsync(TimeSpan.FromMilliseconds(20)));
            Samsa.Client.Admin.GroupDescription group;
            try
            {
                group = await admin.DescribeShareGroupAsync("five-g");
            }
            catch (Samsa.Client.Errors.GroupNotFoundException)
            {
                return false; // no member's first heartbeat has reached the coordinator yet
            }
            return group.Members.Count == members.Length
                && group.GroupEpoch == group.AssignmentEpoch
                && group.Members.All(g => g.MemberEpoch == group.AssignmentEpoch)
                && group.Members.SelectMany(g => g.Assignment).Select(p => p.Partition).Distinct().Count() == 2
                && members.All(m => m.Assignment.Count > 0
                    && group.Members.Single(g => g.MemberId == m.MemberId).Assignment.ToHashSet().SetEquals(m.Assignment));
        }, "the share group's assignment settled: every member has a partition of five, both partitions are assigned");
        await ProduceInBatches(Target.Bootstrap, "five", Count, batchSize: 5);

        // A member that has received records waits (holding them, unacknowledged) until every
        // member has: the others then share what is left, so each one gets some without anyone
        // being slowed down by a timer. Then they all go on until every record arrived.
        var got = members.Select(_ => new List<ConsumeResult<string, string>>()).ToArray();
        var everyoneHasSome = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int withRecords = 0, received = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var loops = members.Select((m, i) => Task.Run(async () =>
        {
            bool counted = false;
            while (!stop.IsCancellationRequested && Volatile.Read(ref received) < Count)
            {
                var records = await m.PollAsync(TimeSpan.FromMilliseconds(100));
                got[i].AddRange(records);
                Interlocked.Add(ref received, records.Count);
                if (records.Count > 0 && !counted)
                {
                    counted = true;
                    if (Interlocked.Increment(ref withRecords) == members.Length)
                        everyoneHasSome.TrySetResult();
                    await everyoneHasSome.Task.WaitAsync(stop.Token);
                }
            }
            m.CommitSync(); // implicit mode: accepts the last poll's records, and waits for the answer
        })).ToArray();
        await Task.WhenAll(loops);
        Assert.True(everyoneHasSome.Task.IsCompletedSuccessfully, $"members with records: {withRecords} of {members.Length}");

        var all = got.SelectMany(g => g).ToList();
        Assert.Equal(Count, all.Count);
        Assert.Equal(Count, all.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        Assert.Equal([0, 1], all.Select(r => r.Partition).Distinct().Order());
        // Each record reached the application once. (Under load an occasional record arrives as
        // its second delivery though the application saw no first one: acquired by a member and
        // given back unseen. Not asserted here; see the share-3 report.)
        Assert.All(all, r => Assert.InRange(r.DeliveryCount ?? 0, 1, 2));
        Assert.All(got, g => Assert.NotEmpty(g));
        // Accepted, each once: the group is done with both partitions up to their ends, so nothing
        // is in flight and nothing can come again.
        IReadOnlyList<Samsa.Client.Admin.SharePartitionOffsets> offsets = [];
        await Eventually.True(async () =>
        {
            offsets = await admin.ListShareGroupOffsetsAsync("five-g");
            return offsets.Count == 2 && offsets.All(o => o.StartOffset == o.LogEndOffset);
        }, "the group's start offset reached the log end on both partitions");
        Assert.Equal(Count, offsets.Sum(o => o.LogEndOffset));
    }

    [Fact]
    public async Task Buffered_records_whose_lock_ran_out_are_not_handed_out_after_another_member_got_them()
    {
        await Target.SetRecordLockDurationAsync(TimeSpan.FromSeconds(2));
        await Target.CreateTopicAsync("slow", 1);
        var slow = Consumer("slow-g", "slow", maxPollRecords: 1);
        await JoinAsync("slow-g", "slow", 1, slow);
        await Produce(Target.Bootstrap, "slow", 5, prefix: "slow"); // one batch: acquired whole, handed out one per poll

        var first = Assert.Single(await PollUntil(slow, 1));
        Assert.Equal(0, first.Offset);
        // The slow member takes longer than the lock over its one record; the other member,
        // joining now, gets all five once the lock runs out (delivery count 2 shows the slow
        // member had acquired them all).
        var other = Consumer("slow-g", "slow");
        var share = Target.ShareAllPartitionsAsync("slow-g", "slow", 1, 2);
        var got = await PollUntilOffsets(other, 5, seconds: 20);
        await share;
        Assert.All(got, r => Assert.Equal((short)2, r.DeliveryCount));

        // Offsets 1-4 are still in the slow member's buffer, but they are the other member's (and
        // accepted) now: the slow member must not process them a second time.
        // (Its late acceptance of offset 0 is below the share-partition start offset by now, which
        // the broker skips as done, as Kafka does.)
        Assert.Empty(await slow.PollAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(4, slow.ExpiredRecordsDropped);
    }

    private static async Task<List<ConsumeResult<string, string>>> PollUntilOffsetsFrom(KafkaShareConsumer<string, string> consumer, long first, long end, int seconds)
    {
        var received = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (received.Select(r => r.Offset).Distinct().Count() < end - first)
        {
            if (DateTime.UtcNow > until)
                Assert.Fail($"Received offsets {string.Join(",", received.Select(r => r.Offset))}.");
            var batch = await consumer.PollAsync(TimeSpan.FromMilliseconds(200));
            Assert.All(batch, r => Assert.InRange(r.Offset, first, end - 1)); // never an acknowledged one
            received.AddRange(batch);
        }
        return received;
    }
}
