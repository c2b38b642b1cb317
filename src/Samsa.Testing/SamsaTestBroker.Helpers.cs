using Samsa.Client;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;

namespace Samsa.Testing;

public sealed partial class SamsaTestBroker
{
    /// <summary>How often <see cref="WaitForGroupAsync"/> asks the coordinator again.</summary>
    private static readonly TimeSpan GroupPollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>An admin client for this broker (dispose it).</summary>
    public KafkaAdminClient CreateAdminClient() => new(new AdminOptions { BootstrapServers = BootstrapServers });

    /// <summary>Creates a topic and returns when the broker has it.</summary>
    public async Task CreateTopicAsync(string topic, int partitions = 1, IReadOnlyDictionary<string, string>? configs = null, CancellationToken cancellationToken = default)
    {
        await using var admin = CreateAdminClient();
        await admin.CreateTopicsAsync([new NewTopic(topic, partitions) { Configs = configs }], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Produces <paramref name="messages"/> in order with acks=all and returns where each landed.</summary>
    public async Task<IReadOnlyList<DeliveryResult>> ProduceAsync<TKey, TValue>(string topic, IEnumerable<Message<TKey, TValue>> messages,
        ISerializer<TKey>? keySerializer = null, ISerializer<TValue>? valueSerializer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        await using var producer = new KafkaProducer<TKey, TValue>(new ProducerOptions { BootstrapServers = BootstrapServers, Linger = TimeSpan.Zero }, keySerializer, valueSerializer);
        var results = new List<DeliveryResult>();
        foreach (var message in messages)
            results.Add(await producer.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false));
        return results;
    }

    /// <summary>Produces string records, key then value, in order.</summary>
    public Task<IReadOnlyList<DeliveryResult>> ProduceAsync(string topic, IEnumerable<(string? Key, string? Value)> records, CancellationToken cancellationToken = default) =>
        ProduceAsync(topic, records.Select(r => new Message<string?, string?>(r.Key, r.Value)), cancellationToken: cancellationToken);

    /// <summary>
    /// Reads the first <paramref name="count"/> records of <paramref name="topic"/> from the beginning of every
    /// partition, without a group (nothing is committed). Records of one partition come in offset order.
    /// Throws <see cref="TimeoutException"/> naming what it had read if the records do not all arrive in
    /// <paramref name="timeout"/> (default 30 s): a failure, not a measurement.
    /// </summary>
    public async Task<IReadOnlyList<ConsumeResult<TKey, TValue>>> ReadAsync<TKey, TValue>(string topic, int count,
        IDeserializer<TKey>? keyDeserializer = null, IDeserializer<TValue>? valueDeserializer = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        IReadOnlyList<TopicDescription> topics;
        await using (var admin = CreateAdminClient())
            topics = await admin.DescribeTopicsAsync([topic], cancellationToken: deadline.Token).ConfigureAwait(false);
        await using var consumer = new KafkaConsumer<TKey, TValue>(new ConsumerOptions { BootstrapServers = BootstrapServers, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest },
            keyDeserializer, valueDeserializer);
        var partitions = topics[0].Partitions.Select(p => new TopicPartition(topic, p.Partition)).ToList();
        consumer.Assign(partitions);
        consumer.SeekToBeginning(partitions);
        var read = new List<ConsumeResult<TKey, TValue>>();
        try
        {
            while (read.Count < count)
                read.AddRange(await consumer.PollAsync(TimeSpan.FromMilliseconds(500), deadline.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Read {read.Count} of {count} records of {topic} before the timeout.");
        }
        return read.Take(count).ToList();
    }

    /// <summary>Reads string records (see <see cref="ReadAsync{TKey, TValue}"/>).</summary>
    public Task<IReadOnlyList<ConsumeResult<string?, string?>>> ReadAsync(string topic, int count, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ReadAsync<string?, string?>(topic, count, timeout: timeout, cancellationToken: cancellationToken);

    /// <summary>
    /// Returns the group's description once it is Stable with <paramref name="members"/> members (any
    /// number when null), every member holding an assignment when <paramref name="members"/> is given;
    /// asks the coordinator every 20 ms. Throws <see cref="TimeoutException"/> with the last state seen
    /// after <paramref name="timeout"/> (default 30 s).
    /// </summary>
    public async Task<GroupDescription> WaitForGroupAsync(string groupId, int? members = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        await using var admin = CreateAdminClient();
        GroupDescription? last = null;
        try
        {
            while (true)
            {
                last = await admin.DescribeGroupAsync(groupId, deadline.Token).ConfigureAwait(false);
                bool reconciled = last.Members.All(m => m.TargetAssignment is null || m.TargetAssignment.Count == m.Assignment.Count);
                if (last.State == "Stable" && reconciled && (members is null || last.Members.Count == members))
                    return last;
                await Task.Delay(GroupPollInterval, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Group {groupId} did not become Stable{(members is null ? "" : $" with {members} members")}; last seen: {last?.State ?? "nothing"} with {last?.Members.Count ?? 0} members.");
        }
    }

    /// <summary>The committed offset of each partition the group has committed (lag included), from the coordinator.</summary>
    public async Task<IReadOnlyList<PartitionLag>> CommittedOffsetsAsync(string groupId, CancellationToken cancellationToken = default)
    {
        await using var admin = CreateAdminClient();
        return await admin.ListGroupOffsetsAsync(groupId, cancellationToken).ConfigureAwait(false);
    }
}
