using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol;
using Samsa.TestKit;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Interop.Tests.Groups;

/// <summary>
/// A cluster that serves KIP-848 consumer groups, for <see cref="Kip848GroupTests"/>: each test
/// gets a fresh one. Everything a scenario needs from a cluster beyond the Kafka protocol itself
/// (creating topics, growing them, how long it waits for a silent member) goes through here, so
/// the scenarios are written once for every implementation.
/// </summary>
public interface IKip848Target : IAsyncDisposable
{
    string Bootstrap { get; }

    /// <summary>
    /// The coordinator's group.consumer.session.timeout.ms: how long a member that stopped
    /// heartbeating keeps its partitions, and how long a static member may be away.
    /// </summary>
    TimeSpan SessionTimeout { get; }

    /// <summary>
    /// What the coordinator answers an OffsetCommit carrying a member epoch newer than the
    /// member's. Kafka answers FENCED_MEMBER_EPOCH (only older epochs are STALE_MEMBER_EPOCH).
    /// </summary>
    ErrorCode NewerEpochCommitError { get; }

    Task CreateTopicAsync(string name, int partitions);

    /// <summary>Grows <paramref name="name"/> to <paramref name="totalPartitions"/> partitions.</summary>
    Task AddPartitionsAsync(string name, int totalPartitions);
}

/// <summary>
/// librdkafka's mock cluster: three brokers, so coordinator and partition leaders are spread, and
/// the session timeout and heartbeat interval shortened so the scenarios that wait for them run in
/// seconds. Its KIP-848 assignor is a plain range assignor over members in join order (not
/// Kafka's uniform assignor), which happens to be sticky for the joins and returns the scenarios
/// make.
/// </summary>
public sealed class MockClusterKip848Target : IKip848Target
{
    private readonly MockCluster _mock = new(brokers: 3);

    public MockClusterKip848Target()
    {
        _mock.SetGroupConsumerSessionTimeout(SessionTimeout);
        _mock.SetGroupConsumerHeartbeatInterval(TimeSpan.FromMilliseconds(250));
    }

    public string Bootstrap => _mock.BootstrapServers;

    /// <summary>The mock itself, for scenarios that inject errors or move the coordinator.</summary>
    public MockCluster Mock => _mock;

    // Long enough for a static member's close-and-rejoin on a loaded machine, short enough that
    // waiting for a dead member to expire costs a few seconds.
    public TimeSpan SessionTimeout { get; } = TimeSpan.FromSeconds(5);

    // The mock compares the epoch for equality only and answers STALE_MEMBER_EPOCH both ways.
    public ErrorCode NewerEpochCommitError => ErrorCode.StaleMemberEpoch;

    public Task CreateTopicAsync(string name, int partitions)
    {
        _mock.CreateTopic(name, partitions);
        return Task.CompletedTask;
    }

    // The mock has no CreatePartitions handler and rd_kafka_mock_topic_create refuses an existing topic.
    public Task AddPartitionsAsync(string name, int totalPartitions) =>
        throw new NotSupportedException("librdkafka's mock cluster cannot add partitions to a topic.");

    public ValueTask DisposeAsync()
    {
        _mock.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Our broker, on an ephemeral port in a temp directory.</summary>
public sealed class SamsaKip848Target : IKip848Target
{
    private readonly TempBroker _broker;

    private SamsaKip848Target(TempBroker broker) => _broker = broker;

    // group.initial.rebalance.delay.ms applies to classic groups only; KIP-848 groups assign at once.
    // librdkafka times a heartbeat out after one heartbeat interval, so 1 s rather than the mock's 250 ms.
    public static async Task<SamsaKip848Target> StartAsync() => new(await TempBroker.StartAsync(o => o with
    {
        ConsumerGroupMinSessionTimeout = TimeSpan.FromSeconds(3),
        ConsumerGroupSessionTimeout = TimeSpan.FromSeconds(5),
        ConsumerGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(250),
        ConsumerGroupHeartbeatInterval = TimeSpan.FromSeconds(1),
    }));

    public string Bootstrap => _broker.Bootstrap;

    public TimeSpan SessionTimeout { get; } = TimeSpan.FromSeconds(5);

    // Kafka's ConsumerGroup.validateMemberEpoch answers STALE_MEMBER_EPOCH for any epoch but the
    // member's own on OffsetCommit (FENCED_MEMBER_EPOCH is the heartbeat's answer to a newer one).
    public ErrorCode NewerEpochCommitError => ErrorCode.StaleMemberEpoch;

    public async Task CreateTopicAsync(string name, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    public async Task AddPartitionsAsync(string name, int totalPartitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = name, IncreaseTo = totalPartitions }]);
    }

    public ValueTask DisposeAsync() => _broker.DisposeAsync();
}
