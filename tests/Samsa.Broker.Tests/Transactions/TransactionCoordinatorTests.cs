using Samsa.Broker.Transactions;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Transactions;

public sealed class TransactionCoordinatorTests
{
    private const string Id = "txn-a";

    [Fact]
    public void A_new_id_gets_epoch_0_and_each_InitProducerId_bumps_the_epoch_of_the_same_producer_id()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        Assert.Equal(0, epoch);
        var again = h.Init(Id);
        Assert.Equal((pid, (short)1), again);
        Assert.Equal(TxnState.Empty, h.State(Id).State);
        Assert.NotEqual(pid, h.Init("txn-b").ProducerId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(TxnHarness.MaxTimeoutMs + 1)]
    public void A_timeout_not_in_1_to_transaction_max_timeout_ms_is_INVALID_TRANSACTION_TIMEOUT(int timeoutMs)
    {
        var h = new TxnHarness();
        Assert.Equal(ErrorCode.InvalidTransactionTimeout, h.Coordinator.InitProducerId(Id, timeoutMs, -1, -1).ErrorCode);
        Assert.Null(h.Coordinator.ShardFor(Id).Get(Id));
        Assert.Equal(ErrorCode.InvalidRequest, h.Coordinator.InitProducerId("", 1000, -1, -1).ErrorCode);
    }

    [Fact]
    public void Commit_writes_PrepareCommit_then_a_marker_per_partition_then_CompleteCommit()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 0, 1)));
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 2)));
        var ongoing = h.State(Id);
        Assert.Equal(TxnState.Ongoing, ongoing.State);
        Assert.Equal(3, ongoing.Partitions.Count);
        Assert.Equal(h.Time.GetUtcNow().ToUnixTimeMilliseconds(), ongoing.StartMs);

        Assert.Equal(ErrorCode.None, h.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal([("t", 0, pid, epoch, true), ("t", 1, pid, epoch, true), ("t", 2, pid, epoch, true)], h.Markers.Written);
        var done = h.State(Id);
        Assert.Equal(TxnState.CompleteCommit, done.State);
        Assert.Empty(done.Partitions);
        // The log holds Kafka's sequence of states for the id.
        var states = h.StateLog.Read(h.Coordinator.ShardFor(Id).Partition)
            .Select(r => (TxnState)Samsa.Protocol.Messages.VersionedData.Read<Samsa.Protocol.Messages.TransactionLogValue>(r.Value!, out _)!.TransactionStatus).ToList();
        Assert.Equal([TxnState.Empty, TxnState.Ongoing, TxnState.Ongoing, TxnState.PrepareCommit, TxnState.CompleteCommit], states);

        // A retried commit is answered NONE; an abort of the committed transaction is refused.
        Assert.Equal(ErrorCode.None, h.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal(ErrorCode.InvalidTxnState, h.Coordinator.EndTxn(Id, pid, epoch, commit: false));
        Assert.Equal(3, h.Markers.Written.Count);
    }

    [Fact]
    public void EndTxn_answers_Kafkas_error_for_each_mismatch()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        Assert.Equal(ErrorCode.InvalidTxnState, h.Coordinator.EndTxn(Id, pid, epoch, commit: true)); // Empty
        Assert.Equal(ErrorCode.InvalidProducerIdMapping, h.Coordinator.EndTxn("unknown", pid, epoch, commit: true));
        Assert.Equal(ErrorCode.InvalidProducerIdMapping, h.Coordinator.EndTxn(Id, pid + 1, epoch, commit: true));
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.EndTxn(Id, pid, (short)(epoch + 1), commit: true));
        Assert.Equal(ErrorCode.InvalidProducerIdMapping, h.Coordinator.AddPartitions(Id, pid + 1, epoch, TxnHarness.Partitions("t", 0)));
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.AddPartitions(Id, pid, (short)(epoch - 1), TxnHarness.Partitions("t", 0)));
        Assert.Equal(ErrorCode.InvalidRequest, h.Coordinator.EndTxn("", pid, epoch, commit: true));
    }

    [Fact]
    public void A_second_producer_with_the_same_id_aborts_the_open_transaction_and_fences_the_first()
    {
        var h = new TxnHarness();
        var (pid, zombie) = h.Init(Id);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, zombie, TxnHarness.Partitions("t", 0, 1)));

        var (pid2, epoch) = h.Init(Id);
        Assert.Equal(pid, pid2);
        // The abort is written with the fencing epoch (zombie + 1); the new producer gets the next one.
        Assert.Equal([("t", 0, pid, (short)(zombie + 1), false), ("t", 1, pid, (short)(zombie + 1), false)], h.Markers.Written);
        Assert.Equal(zombie + 2, epoch);
        Assert.Equal(TxnState.Empty, h.State(Id).State);

        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.AddPartitions(Id, pid, zombie, TxnHarness.Partitions("t", 2)));
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.EndTxn(Id, pid, zombie, commit: true));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, h.Coordinator.VerifyPartition(Id, pid, zombie, "t", 0, abortableKnown: true));
    }

    [Fact]
    public void KIP_360_bump_with_the_current_epoch_a_retry_with_the_previous_one_and_a_stranger_fenced()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        var bumped = h.Coordinator.InitProducerId(Id, 10_000, pid, epoch);
        Assert.Equal((ErrorCode.None, pid, (short)(epoch + 1)), (bumped.ErrorCode, bumped.ProducerId, bumped.ProducerEpoch));
        // The response was lost: the producer asks again with the epoch it had.
        var retried = h.Coordinator.InitProducerId(Id, 10_000, pid, epoch);
        Assert.Equal((ErrorCode.None, pid, (short)(epoch + 1)), (retried.ErrorCode, retried.ProducerId, retried.ProducerEpoch));
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.InitProducerId(Id, 10_000, pid, 40).ErrorCode);
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.InitProducerId(Id, 10_000, pid + 7, 1).ErrorCode);
    }

    [Fact]
    public void An_exhausted_epoch_rotates_the_producer_id_and_never_reuses_an_id_after_a_restart()
    {
        var h = new TxnHarness();
        var (pid, _) = h.Init(Id);
        // The id's epoch at Short.MaxValue - 1, as after 32766 bumps.
        h.Coordinator.ShardFor(Id).Replay(TransactionLog.Key(Id),
            TransactionLog.Record(Id, pid, -1, short.MaxValue - 1, 10_000, TxnState.CompleteCommit, [], 0, -1).Value);
        var rotated = h.Coordinator.InitProducerId(Id, 10_000, -1, -1);
        Assert.Equal(ErrorCode.None, rotated.ErrorCode);
        Assert.NotEqual(pid, rotated.ProducerId);
        Assert.Equal(0, rotated.ProducerEpoch);
        Assert.Equal(pid, h.State(Id).PreviousProducerId);

        var restarted = h.Restart();
        var other = restarted.Init("txn-b");
        Assert.True(other.ProducerId > rotated.ProducerId, $"{other.ProducerId} was handed out after loading {rotated.ProducerId}");
        Assert.True(restarted.Coordinator.Ids.Next() > other.ProducerId);
    }

    [Fact]
    public void A_transaction_past_its_timeout_is_aborted_with_a_bumped_epoch_and_its_producer_fenced()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id, timeoutMs: 15_000);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 0)));
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TxnState.Ongoing, h.State(Id).State);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TxnState.CompleteAbort, h.State(Id).State);
        Assert.Equal([("t", 0, pid, (short)(epoch + 1), false)], h.Markers.Written);
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal(ErrorCode.ProducerFenced, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 0)));
    }

    [Fact]
    public void An_idle_transactional_id_expires_with_a_tombstone_but_one_with_an_open_transaction_does_not()
    {
        var h = new TxnHarness();
        var (pid, _) = h.Init(Id);
        var (openPid, openEpoch) = h.Init("txn-open", timeoutMs: TxnHarness.MaxTimeoutMs);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions("txn-open", openPid, openEpoch, TxnHarness.Partitions("t", 0)));
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.NotNull(h.Coordinator.ShardFor(Id).Get(Id));
        // Expiration is 2 h; the hourly check at 2 h removes it.
        Assert.Equal(0, h.Coordinator.ExpireIds());
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.Null(h.Coordinator.ShardFor(Id).Get(Id));
        Assert.Contains(h.StateLog.Read(h.Coordinator.ShardFor(Id).Partition), r => r.Value is null);
        // The open one was aborted by its timeout meanwhile (a minute in), and expires only 2 h after that.
        Assert.Equal(TxnState.CompleteAbort, h.State("txn-open").State);
        Assert.NotEqual(pid, h.Init(Id).ProducerId);
        Assert.Null(h.Restart().Coordinator.ShardFor("txn-gone").Get("txn-gone"));
    }

    [Fact]
    public void A_marker_refused_leaves_the_transaction_prepared_CONCURRENT_TRANSACTIONS_until_the_retry_completes_it()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 0)));
        h.Markers.Refuse = ErrorCode.KafkaStorageError;
        Assert.Equal(ErrorCode.None, h.Coordinator.EndTxn(Id, pid, epoch, commit: true)); // the decision is durable
        Assert.Equal(TxnState.PrepareCommit, h.State(Id).State);
        Assert.Equal(ErrorCode.ConcurrentTransactions, h.Coordinator.EndTxn(Id, pid, epoch, commit: true));
        Assert.Equal(ErrorCode.InvalidTxnState, h.Coordinator.EndTxn(Id, pid, epoch, commit: false));
        Assert.Equal(ErrorCode.ConcurrentTransactions, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 1)));
        Assert.Equal(ErrorCode.ConcurrentTransactions, h.Coordinator.InitProducerId(Id, 10_000, -1, -1).ErrorCode);
        Assert.Equal(ErrorCode.ConcurrentTransactions, h.Coordinator.VerifyPartition(Id, pid, epoch, "t", 0, abortableKnown: true));

        h.Markers.Refuse = ErrorCode.None;
        h.Time.Advance(HarnessInterval);
        Assert.Equal(TxnState.CompleteCommit, h.State(Id).State);
        Assert.Equal([("t", 0, pid, epoch, true)], h.Markers.Written);
    }

    private static TimeSpan HarnessInterval => TxnHarness.Options.AbortCheckInterval;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_transaction_found_prepared_at_load_gets_its_markers_again_and_completes(bool commit)
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 0, 3)));
        h.Markers.Refuse = ErrorCode.NotLeaderOrFollower; // the crash: Prepare is written, no marker is
        h.Coordinator.EndTxn(Id, pid, epoch, commit);
        Assert.Equal(commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, h.State(Id).State);

        var restarted = h.Restart();
        Assert.Equal([("t", 0, pid, epoch, commit), ("t", 3, pid, epoch, commit)], restarted.Markers.Written);
        Assert.Equal(commit ? TxnState.CompleteCommit : TxnState.CompleteAbort, restarted.State(Id).State);
        Assert.Equal((pid, (short)(epoch + 1)), restarted.Init(Id));
    }

    [Fact]
    public void An_Ongoing_transaction_found_at_load_times_out_from_its_original_start()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id, timeoutMs: 30_000);
        Assert.Equal(ErrorCode.None, h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 1)));
        h.Time.Advance(TimeSpan.FromSeconds(5));
        var restarted = h.Restart();
        Assert.Equal(TxnState.Ongoing, restarted.State(Id).State);
        Assert.Empty(restarted.Markers.Written);
        restarted.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TxnState.Ongoing, restarted.State(Id).State);
        restarted.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TxnState.CompleteAbort, restarted.State(Id).State);
        Assert.Equal([("t", 1, pid, (short)(epoch + 1), false)], restarted.Markers.Written);
    }

    [Fact]
    public void States_at_rest_load_unchanged()
    {
        var h = new TxnHarness();
        var a = h.Init("empty");
        var (pid, epoch) = h.Init("committed");
        h.Coordinator.AddPartitions("committed", pid, epoch, TxnHarness.Partitions("t", 0));
        h.Coordinator.EndTxn("committed", pid, epoch, commit: true);
        var restarted = h.Restart();
        Assert.Equal((TxnState.Empty, a.ProducerId, a.Epoch), (restarted.State("empty").State, restarted.State("empty").ProducerId, restarted.State("empty").ProducerEpoch));
        Assert.Equal((TxnState.CompleteCommit, pid, epoch), (restarted.State("committed").State, restarted.State("committed").ProducerId, restarted.State("committed").ProducerEpoch));
        Assert.Empty(restarted.Markers.Written);
    }

    [Fact]
    public void Verification_knows_the_partitions_of_the_open_transaction()
    {
        var h = new TxnHarness();
        var (pid, epoch) = h.Init(Id);
        h.Coordinator.AddPartitions(Id, pid, epoch, TxnHarness.Partitions("t", 0));
        Assert.Equal(ErrorCode.None, h.Coordinator.VerifyPartition(Id, pid, epoch, "t", 0, abortableKnown: true));
        Assert.Equal(ErrorCode.TransactionAbortable, h.Coordinator.VerifyPartition(Id, pid, epoch, "t", 1, abortableKnown: true));
        Assert.Equal(ErrorCode.InvalidTxnState, h.Coordinator.VerifyPartition(Id, pid, epoch, "t", 1, abortableKnown: false));
        Assert.Equal(ErrorCode.InvalidProducerIdMapping, h.Coordinator.VerifyPartition("nobody", pid, epoch, "t", 0, abortableKnown: true));
        h.Coordinator.EndTxn(Id, pid, epoch, commit: false);
        Assert.Equal(ErrorCode.TransactionAbortable, h.Coordinator.VerifyPartition(Id, pid, epoch, "t", 0, abortableKnown: true));
    }
}
