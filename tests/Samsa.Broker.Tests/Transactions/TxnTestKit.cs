using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Groups;
using Samsa.Broker.Tests.Groups;
using Samsa.Broker.Transactions;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Transactions;

/// <summary>Records every marker; data partitions can be made to refuse; __consumer_offsets ones go to a group coordinator.</summary>
internal sealed class RecordingMarkerWriter(GroupCoordinator groups) : ITxnMarkerWriter
{
    public List<(string Topic, int Partition, long ProducerId, short Epoch, bool Commit)> Written { get; } = [];

    /// <summary>While set, data-partition markers are refused with this error.</summary>
    public ErrorCode Refuse { get; set; }

    public ErrorCode Write(string topic, int partition, long producerId, short producerEpoch, bool commit, int coordinatorEpoch = 0)
    {
        if (topic == Topics.TopicManager.ConsumerOffsetsTopic)
        {
            var error = groups.Shards[partition].WriteTxnMarker(producerId, producerEpoch, commit);
            if (error == ErrorCode.None)
                Written.Add((topic, partition, producerId, producerEpoch, commit));
            return error;
        }
        if (Refuse != ErrorCode.None)
            return Refuse;
        Written.Add((topic, partition, producerId, producerEpoch, commit));
        return ErrorCode.None;
    }
}

/// <summary>A transaction coordinator and a group coordinator on fake time, in memory.</summary>
internal sealed class TxnHarness
{
    public const int MaxTimeoutMs = 60_000;

    public TxnHarness(MemoryOffsetsLog? state = null, MemoryOffsetsLog? offsets = null, FakeTimeProvider? time = null, long seed = 1000)
    {
        Time = time ?? new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        StateLog = state ?? new MemoryOffsetsLog();
        OffsetsLog = offsets ?? new MemoryOffsetsLog();
        Groups = new GroupCoordinator(new GroupCoordinatorOptions { OffsetsTopicPartitions = 3 }, Time, OffsetsLog, NullLogger.Instance);
        Groups.LoadEntries(OffsetsLog.ReadEntries);
        Markers = new RecordingMarkerWriter(Groups);
        Coordinator = new TransactionCoordinator(Options, Time, StateLog, Markers, new ProducerIdAllocator(seed), 3, NullLogger.Instance);
        Coordinator.Load(StateLog.Read);
        Coordinator.RecoverPrepared();
    }

    public static TransactionCoordinatorOptions Options { get; } = new()
    {
        Partitions = 4,
        MaxTimeout = TimeSpan.FromMilliseconds(MaxTimeoutMs),
        TransactionalIdExpiration = TimeSpan.FromHours(2),
        AbortCheckInterval = TimeSpan.FromSeconds(10),
        ExpirationCheckInterval = TimeSpan.FromHours(1),
    };

    public FakeTimeProvider Time { get; }

    public MemoryOffsetsLog StateLog { get; }

    public MemoryOffsetsLog OffsetsLog { get; }

    public GroupCoordinator Groups { get; }

    public RecordingMarkerWriter Markers { get; }

    public TransactionCoordinator Coordinator { get; }

    /// <summary>A broker restarted on the same logs: everything is loaded again, prepared transactions completed.</summary>
    public TxnHarness Restart()
    {
        Coordinator.Dispose();
        Groups.Dispose();
        return new TxnHarness(StateLog, OffsetsLog, Time, seed: 1000);
    }

    public TxnMetadata State(string id) => Coordinator.ShardFor(id).Get(id) ?? throw new InvalidOperationException($"{id} is not known.");

    public (long ProducerId, short Epoch) Init(string id, int timeoutMs = 10_000)
    {
        var r = Coordinator.InitProducerId(id, timeoutMs, -1, -1);
        Assert.Equal(ErrorCode.None, r.ErrorCode);
        return (r.ProducerId, r.ProducerEpoch);
    }

    public static (string, int)[] Partitions(string topic, params int[] partitions) => partitions.Select(p => (topic, p)).ToArray();
}
