using Samsa.Client.Errors;
using Samsa.Client.Internal.Producer;
using Samsa.Protocol;

namespace Samsa.Client.Tests.Producer;

/// <summary>The transactional producer's states and transitions (Java's TransactionManager), without I/O.</summary>
public class TransactionStateMachineTests
{
    private static TransactionStateMachine Ready()
    {
        var state = new TransactionStateMachine("t");
        state.BeginInit();
        state.Initialized(7, 0);
        return state;
    }

    [Fact]
    public void Only_Javas_transitions_are_valid()
    {
        var all = Enum.GetValues<TransactionState>();
        var valid = all.SelectMany(from => all.Where(to => TransactionStateMachine.IsTransitionValid(from, to)).Select(to => $"{from}>{to}")).ToHashSet();
        string[] expected =
        [
            "Uninitialized>Initializing", "AbortingTransaction>Initializing",
            "Initializing>Ready", "CommittingTransaction>Ready", "AbortingTransaction>Ready",
            "Ready>InTransaction",
            "InTransaction>CommittingTransaction",
            "InTransaction>AbortingTransaction", "AbortableError>AbortingTransaction",
            "InTransaction>AbortableError", "CommittingTransaction>AbortableError", "AbortableError>AbortableError", "Initializing>AbortableError",
            .. all.Select(from => $"{from}>FatalError"),
        ];
        Assert.Equal(expected.Order(), valid.Order());
    }

    [Fact]
    public void A_transaction_commits_and_the_next_one_starts_clean()
    {
        var state = Ready();
        state.BeginTransaction();
        state.CheckSend("t1");
        state.MaybeAddPartition("t1", 0);
        state.MaybeAddPartition("t1", 0);
        Assert.False(state.IsSendAllowed("t1", 0));
        var adding = state.TakePartitionsToAdd();
        Assert.Equal([("t1", 0)], adding);
        state.MaybeAddPartition("t1", 0); // being added: not asked for twice
        Assert.False(state.HasPartitionsToAdd);
        state.PartitionsAnswered(adding, added: true, retry: false);
        Assert.True(state.IsSendAllowed("t1", 0));
        Assert.True(state.TransactionStarted);

        state.BeginCommit();
        Assert.Throws<InvalidOperationException>(() => state.CheckSend("t1"));
        state.MaybeAddPartition("t1", 1); // admitted before the commit began
        Assert.False(state.CompleteTransaction());
        Assert.Equal(TransactionState.Ready, state.State);
        Assert.False(state.TransactionStarted);
        Assert.False(state.IsSendAllowed("t1", 0));
        Assert.False(state.HasPartitionsToAdd);
    }

    [Fact]
    public void Calls_out_of_order_are_invalid_operations()
    {
        var state = new TransactionStateMachine("t");
        Assert.Throws<InvalidOperationException>(state.BeginTransaction);
        Assert.Throws<InvalidOperationException>(() => state.CheckSend("x"));
        Assert.Throws<InvalidOperationException>(state.BeginCommit);
        Assert.Throws<InvalidOperationException>(state.BeginAbort);
        state.BeginInit();
        Assert.Throws<InvalidOperationException>(state.BeginInit);
        state.Initialized(1, 0);
        Assert.Throws<InvalidOperationException>(state.BeginInit);
        Assert.Throws<InvalidOperationException>(() => state.CheckSend("x"));
        Assert.Throws<InvalidOperationException>(state.BeginCommit);
        state.BeginTransaction();
        Assert.Throws<InvalidOperationException>(state.BeginTransaction);
        state.BeginAbort();
        Assert.Throws<TransactionAbortedException>(() => state.MaybeAddPartition("x", 0));
        Assert.Throws<InvalidOperationException>(state.BeginCommit);
    }

    [Fact]
    public void An_abortable_error_refuses_everything_but_abort_and_the_abort_bumps_the_epoch()
    {
        var state = Ready();
        state.BeginTransaction();
        state.BatchFailed(new KafkaException(ErrorCode.InvalidRecord, "refused"));
        Assert.Equal(TransactionState.AbortableError, state.State);
        Assert.True(state.EpochBumpRequired);
        var commit = Assert.Throws<KafkaException>(state.BeginCommit);
        Assert.Equal(ErrorCode.InvalidRecord, commit.Error);
        Assert.Contains("AbortTransactionAsync", commit.Message);
        Assert.Throws<KafkaException>(state.BeginTransaction);
        Assert.Throws<KafkaException>(() => state.CheckSend("x"));

        state.BeginAbort();
        state.AbortableError(new KafkaException(ErrorCode.InvalidRecord, "another, while aborting"));
        Assert.Equal(TransactionState.AbortingTransaction, state.State);
        Assert.True(state.CompleteTransaction()); // the epoch must be bumped before the next transaction
        Assert.Equal(TransactionState.Initializing, state.State);
        state.Initialized(7, 1);
        Assert.Equal((TransactionState.Ready, (short)1, false), (state.State, state.Epoch, state.EpochBumpRequired));
        Assert.Null(state.LastError);
        state.BeginTransaction();
    }

    [Fact]
    public void An_abort_without_an_error_needs_no_epoch_bump()
    {
        var state = Ready();
        state.BeginTransaction();
        state.BeginAbort();
        Assert.False(state.CompleteTransaction());
        Assert.Equal(TransactionState.Ready, state.State);
    }

    [Fact]
    public void Fencing_is_fatal_and_every_later_call_throws_ProducerFenced()
    {
        var state = Ready();
        state.BeginTransaction();
        state.BatchFailed(new ProducerFencedException("fenced"));
        Assert.Equal(TransactionState.FatalError, state.State);
        Assert.Throws<ProducerFencedException>(state.BeginAbort);
        Assert.Throws<ProducerFencedException>(state.BeginCommit);
        Assert.Throws<ProducerFencedException>(state.BeginTransaction);
        Assert.Throws<ProducerFencedException>(() => state.CheckSend("x"));
        Assert.False(state.IsSendAllowed("x", 0));
        state.AbortableError(new KafkaException(ErrorCode.InvalidRecord, "later"));
        Assert.IsType<ProducerFencedException>(state.LastError); // a fatal error is never replaced
    }

    [Theory]
    [InlineData(ErrorCode.TransactionalIdAuthorizationFailed, true)]
    [InlineData(ErrorCode.ClusterAuthorizationFailed, true)]
    [InlineData(ErrorCode.UnsupportedVersion, true)]
    [InlineData(ErrorCode.ProducerFenced, true)]
    [InlineData(ErrorCode.InvalidProducerEpoch, false)] // from Produce: KIP-588 made it abortable
    [InlineData(ErrorCode.MessageTooLarge, false)]
    [InlineData(ErrorCode.RequestTimedOut, false)]
    public void A_failed_batch_is_fatal_only_for_Javas_fatal_errors(ErrorCode error, bool fatal)
    {
        var state = Ready();
        state.BeginTransaction();
        state.BatchFailed(KafkaException.FromError(error));
        Assert.Equal(fatal ? TransactionState.FatalError : TransactionState.AbortableError, state.State);
    }

    [Fact]
    public void A_coordinator_that_cannot_bump_epochs_turns_an_error_needing_a_bump_fatal()
    {
        var state = Ready();
        state.CanBumpEpoch = false;
        state.BeginTransaction();
        state.AbortableError(new KafkaException(ErrorCode.UnknownProducerId, "gone"), bumpEpoch: true);
        Assert.Equal(TransactionState.FatalError, state.State);
        state = Ready();
        state.CanBumpEpoch = false;
        state.BeginTransaction();
        state.AbortableError(new KafkaException(ErrorCode.GroupAuthorizationFailed, "no"));
        Assert.Equal(TransactionState.AbortableError, state.State);
    }

    [Fact]
    public void Partitions_that_failed_to_join_are_retried_only_while_the_transaction_goes_on()
    {
        var state = Ready();
        state.BeginTransaction();
        state.MaybeAddPartition("t", 0);
        var first = state.TakePartitionsToAdd();
        state.PartitionsAnswered(first, added: false, retry: true);
        Assert.True(state.HasPartitionsToAdd);
        var second = state.TakePartitionsToAdd();
        state.BeginAbort();
        state.PartitionsAnswered(second, added: false, retry: true);
        Assert.False(state.HasPartitionsToAdd);
    }
}
