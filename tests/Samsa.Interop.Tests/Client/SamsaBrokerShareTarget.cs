namespace Samsa.Interop.Tests.Client;

/// <summary>
/// Our broker, in process, with share groups starting at the log start
/// (share.auto.offset.reset=earliest) and heartbeats every 250 ms. The record lock duration
/// (group.share.record.lock.duration.ms) and delivery count limit (group.share.delivery.count.limit)
/// are broker settings here, so changing one restarts the broker on the same data directory.
/// </summary>
public sealed class SamsaBrokerShareTarget : IShareGroupTarget
{
    private TimeSpan _lockDuration = TimeSpan.FromSeconds(30);
    private int _deliveryCountLimit = 5;
    private TempBroker? _broker;

    private SamsaBrokerShareTarget()
    {
    }

    public static async Task<SamsaBrokerShareTarget> StartAsync()
    {
        var target = new SamsaBrokerShareTarget();
        // The lambda reads the fields on every (re)start, so RestartAsync picks up changed settings.
        target._broker = await TempBroker.StartAsync(o => o with
        {
            ShareAutoOffsetReset = "earliest",
            ShareGroupHeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ShareGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ShareRecordLockDuration = target._lockDuration,
            ShareDeliveryCountLimit = target._deliveryCountLimit,
            ShareStateTopicPartitions = 3,
        });
        return target;
    }

    public TempBroker Broker => _broker ?? throw new InvalidOperationException("The broker has not started.");

    public string Bootstrap => Broker.Bootstrap;

    public Task CreateTopicAsync(string name, int partitions) => SamsaConsumerTests.CreateTopic(Bootstrap, name, partitions);

    public async Task SetRecordLockDurationAsync(TimeSpan duration)
    {
        if (duration == _lockDuration)
            return;
        _lockDuration = duration;
        await Broker.RestartAsync();
    }

    public async Task SetDeliveryCountLimitAsync(int limit)
    {
        if (limit == _deliveryCountLimit)
            return;
        _deliveryCountLimit = limit;
        await Broker.RestartAsync();
    }

    public Task RestartAsync() => Broker.RestartAsync();

    // Our assignor gives every member every partition by itself (as Kafka's SimpleAssignor does
    // when a group has more members than partitions); the test waits for the assignments it sees.
    public Task ShareAllPartitionsAsync(string group, string topic, int partitions, int members) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
            await _broker.DisposeAsync();
    }
}
