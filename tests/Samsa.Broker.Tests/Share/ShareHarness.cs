using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Share;

namespace Samsa.Broker.Tests.Share;

/// <summary>A share-partition on fake time, with a log laid out as fixed-size batches.</summary>
internal sealed class ShareHarness
{
    public ShareHarness(SharePartitionOptions? options = null, long startOffset = 0) =>
        Partition = new SharePartition(options ?? new SharePartitionOptions(), Time, startOffset);

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public SharePartition Partition { get; }

    /// <summary>Offsets first to last as batches of <paramref name="size"/> records.</summary>
    public static OffsetRange[] Batches(long first, long last, int size = 5)
    {
        var batches = new List<OffsetRange>();
        for (long at = first; at <= last; at += size)
            batches.Add(new OffsetRange(at, Math.Min(at + size - 1, last)));
        return [.. batches];
    }

    /// <summary>Acquires from the next fetch offset, as a fetch would.</summary>
    public IReadOnlyList<AcquiredRange> Acquire(string member, long first, long last, int maxRecords = 500, int batch = 5, ShareAcquireMode mode = ShareAcquireMode.BatchOptimized) =>
        Partition.Acquire(member, Partition.NextFetchOffset(), Batches(first, last, batch), maxRecords, mode: mode);

    public Protocol.ErrorCode Ack(string member, long first, long last, AcknowledgeType type) =>
        Partition.Acknowledge(member, [new ShareAcknowledgement(first, last, type)]);

    public InFlightBatch At(long offset) => Partition.StateOf(offset) ?? throw new InvalidOperationException($"{offset} is not in flight.");
}
