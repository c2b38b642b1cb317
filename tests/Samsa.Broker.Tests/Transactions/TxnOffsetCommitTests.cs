using Samsa.Broker.Groups;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Transactions;

public sealed class TxnOffsetCommitTests
{
    private const string Id = "txn-offsets";
    private const string Group = "g1";

    private static TxnOffsetCommitRequest Commit(long pid, short epoch, long offset) => new()
    {
        TransactionalId = Id,
        GroupId = Group,
        ProducerId = pid,
        ProducerEpoch = epoch,
        Topics = [new() { Name = "in", Partitions = [new() { PartitionIndex = 0, CommittedOffset = offset }, new() { PartitionIndex = 1, CommittedOffset = offset + 1 }] }],
    };

    private static long? Committed(GroupShard shard, int partition) =>
        shard.FetchOffsets(Group, [("in", [partition])]).Offsets.Single().Offset?.Offset;

    private static (TxnHarness, GroupShard, long, short) Begin(TxnHarness? harness = null)
    {
        var h = harness ?? new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddOffsets(Id, pid, epoch, Group));
        return (h, h.Groups.ShardFor(Group), pid, epoch);
    }

    [Fact]
    public void Offsets_committed_in_a_transaction_are_pending_until_the_commit_marker()
    {
        var (h, shard, pid, epoch) = Begin();
        var response = shard.TxnOffsetCommit(Commit(pid, epoch, 10), 3);
        Assert.All(response.Topics.SelectMany(t => t.Partitions), p => Assert.Equal(ErrorCode.None, p.ErrorCode));
        Assert.Null(Committed(shard, 0));
        Assert.Equal([("in", 0), ("in", 1)], shard.PendingTransactionalPartitions(Group).Order());

        Assert.Equal(ErrorCode.None, h.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal([(Samsa.Broker.Topics.TopicManager.ConsumerOffsetsTopic, shard.Partition, pid, epoch, true)], h.Markers.Written);
        Assert.Equal(10, Committed(shard, 0));
        Assert.Equal(11, Committed(shard, 1));
        Assert.Empty(shard.PendingTransactionalPartitions(Group));
    }

    [Fact]
    public void An_abort_drops_the_pending_offsets_and_keeps_the_committed_ones()
    {
        var (h, shard, pid, epoch) = Begin();
        shard.TxnOffsetCommit(Commit(pid, epoch, 10), 3);
        h.Coordinator.EndTxn(Id, pid, epoch, commit: true);

        Assert.Equal(ErrorCode.None, h.Coordinator.AddOffsets(Id, pid, epoch, Group));
        shard.TxnOffsetCommit(Commit(pid, epoch, 50), 3);
        Assert.Equal(ErrorCode.None, h.Coordinator.EndTxn(Id, pid, epoch, commit: false));
        Assert.Equal(10, Committed(shard, 0));
        Assert.Empty(shard.PendingTransactionalPartitions(Group));
    }

    [Fact]
    public void Loading_replays_transactional_batches_and_markers_the_same_way()
    {
        var (h, shard, pid, epoch) = Begin();
        shard.TxnOffsetCommit(Commit(pid, epoch, 10), 3);
        h.Coordinator.EndTxn(Id, pid, epoch, commit: true);
        h.Coordinator.AddOffsets(Id, pid, epoch, Group);
        shard.TxnOffsetCommit(Commit(pid, epoch, 50), 3);
        h.Coordinator.EndTxn(Id, pid, epoch, commit: false);
        h.Coordinator.AddOffsets(Id, pid, epoch, Group);
        shard.TxnOffsetCommit(Commit(pid, epoch, 70), 3); // still open at the "crash"

        var restarted = h.Restart();
        var loaded = restarted.Groups.ShardFor(Group);
        Assert.Equal(10, Committed(loaded, 0));
        Assert.Equal([("in", 0), ("in", 1)], loaded.PendingTransactionalPartitions(Group).Order());
        Assert.Equal(ErrorCode.None, restarted.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal(70, Committed(loaded, 0));
    }

    [Fact]
    public void A_plain_commit_after_the_transactional_one_wins_when_the_transaction_commits_also_after_a_reload()
    {
        var (h, shard, pid, epoch) = Begin();
        shard.TxnOffsetCommit(Commit(pid, epoch, 10), 3); // in:0 = 10, in:1 = 11, pending
        var plain = shard.OffsetCommit(new OffsetCommitRequest
        {
            GroupId = Group,
            GenerationIdOrMemberEpoch = -1,
            Topics = [new() { Name = "in", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 99 }] }],
        }, 8);
        Assert.Equal(ErrorCode.None, plain.Topics.Single().Partitions.Single().ErrorCode);
        Assert.Equal(ErrorCode.None, h.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal(99, Committed(shard, 0));
        Assert.Equal(11, Committed(shard, 1));

        var loaded = h.Restart().Groups.ShardFor(Group);
        Assert.Equal(99, Committed(loaded, 0));
        Assert.Equal(11, Committed(loaded, 1));
    }

    [Fact]
    public void A_member_of_another_generation_is_refused_and_nothing_is_pending()
    {
        var (_, shard, pid, epoch) = Begin();
        var request = Commit(pid, epoch, 10);
        request.GenerationId = 5;
        request.MemberId = "someone";
        var response = shard.TxnOffsetCommit(request, 3);
        Assert.All(response.Topics.SelectMany(t => t.Partitions), p => Assert.Equal(ErrorCode.IllegalGeneration, p.ErrorCode));
        Assert.Empty(shard.PendingTransactionalPartitions(Group));
    }
}
