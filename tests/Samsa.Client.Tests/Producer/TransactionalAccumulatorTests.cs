using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Internal.Producer;
using Samsa.Client.Producer;
using Samsa.Protocol.Records;

namespace Samsa.Client.Tests.Producer;

/// <summary>The accumulator's part in transactions: transactional batches, partitions held back until added, aborts and epoch bumps.</summary>
public class TransactionalAccumulatorTests
{
    private readonly FakeTimeProvider _time = new();

    private RecordAccumulator Accumulator() =>
        new(new ProducerOptions { BootstrapServers = "b:9092", TransactionalId = "t", Linger = TimeSpan.Zero }, _time);

    private static void Append(RecordAccumulator accumulator, string topic, int partition) =>
        accumulator.Append(topic, partition, 0, null, [1], null, new PendingRecord(null, null, 0, 10), out _);

    [Fact]
    public void Batches_are_sealed_transactional_and_only_for_partitions_in_the_transaction()
    {
        var accumulator = Accumulator();
        Append(accumulator, "a", 0);
        Append(accumulator, "b", 0);
        var batches = accumulator.Drain(flushing: true, 5, 2, out _, allowed: (topic, _) => topic == "a");
        var batch = Assert.Single(batches);
        Assert.Equal("a", batch.Topic);
        var header = RecordBatchHeader.Read(batch.Encoded!.WrittenSpan);
        Assert.True(header.IsTransactional);
        Assert.False(header.IsControl);
        Assert.Equal((5L, (short)2, 0), (header.ProducerId, header.ProducerEpoch, header.BaseSequence));
        Assert.Equal("b", Assert.Single(accumulator.Drain(flushing: true, 5, 2, out _, allowed: (_, _) => true)).Topic);
    }

    [Fact]
    public void An_abort_takes_only_unsent_batches_and_an_epoch_bump_starts_sequences_over()
    {
        var accumulator = Accumulator();
        Append(accumulator, "a", 0);
        var sent = Assert.Single(accumulator.Drain(flushing: true, 5, 0, out _));
        accumulator.Requeue(sent, TimeSpan.Zero); // in retry: sealed, must still be sent
        Append(accumulator, "a", 0); // open, never sent
        var taken = accumulator.TakeUnsealed();
        Assert.False(Assert.Single(taken).IsSealed);
        accumulator.Complete(taken[0]);
        var retried = Assert.Single(accumulator.Drain(flushing: true, 5, 0, out _));
        Assert.Same(sent, retried);
        accumulator.Complete(retried);
        Assert.Equal(0, accumulator.Unfinished);

        Append(accumulator, "a", 0);
        var next = Assert.Single(accumulator.Drain(flushing: true, 5, 0, out _));
        Assert.Equal(1, RecordBatchHeader.Read(next.Encoded!.WrittenSpan).BaseSequence);
        accumulator.Complete(next);
        accumulator.ResetSequences();
        Append(accumulator, "a", 0);
        var bumped = Assert.Single(accumulator.Drain(flushing: true, 5, 1, out _));
        Assert.Equal(((short)1, 0), (RecordBatchHeader.Read(bumped.Encoded!.WrittenSpan).ProducerEpoch, RecordBatchHeader.Read(bumped.Encoded!.WrittenSpan).BaseSequence));
    }
}
