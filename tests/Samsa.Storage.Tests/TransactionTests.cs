using System.Buffers.Binary;
using Samsa.Protocol;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>
/// Transactions on the partition side: the last stable offset, markers, the aborted-transaction
/// index (.txnindex) and its lookup, read_committed reads cut at the LSO.
/// </summary>
public sealed class TransactionTests : TxnLogTest
{
    private const long A = 1001, B = 1002;

    [Fact]
    public void A_committed_transaction_holds_the_last_stable_offset_until_its_marker()
    {
        using var log = Open();
        Assert.Equal(ErrorCode.None, Append(log, Data(A, 0)).Error);
        Assert.Equal(ErrorCode.None, Append(log, Data(A, 3)).Error);
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(0, log.LastStableOffset);
        Assert.Equal(1, log.OpenTransactionCount);
        Assert.Equal(new AppendResult(ErrorCode.None, 6, false), Append(log, Marker(A, ControlRecordType.Commit)));
        Assert.Equal(7, log.LogEndOffset);
        Assert.Equal(7, log.LastStableOffset);
        Assert.Equal(0, log.OpenTransactionCount);
        Assert.Null(log.CollectAbortedTransactions(0, 7));
        Assert.Empty(Directory.GetFiles(Dir, "*.txnindex"));
    }

    [Fact]
    public void A_coordinators_transactional_write_that_lost_the_race_with_a_fencing_marker_is_refused()
    {
        using var log = Open();
        // TxnOffsetCommit's records (sequence 0 every time, no sequence check) open the transaction.
        Assert.Equal(ErrorCode.None, log.AppendCoordinatorTransactional(Data(A, 0, epoch: 4)).Error);
        Assert.Equal(0, log.LastStableOffset);
        // A timeout abort fences the producer with epoch 5; a commit of epoch 4 checked before it is late.
        Assert.Equal(ErrorCode.None, Append(log, Marker(A, ControlRecordType.Abort, epoch: 5)).Error);
        long end = log.LogEndOffset;
        Assert.Equal(new AppendResult(ErrorCode.InvalidProducerEpoch, -1, false), log.AppendCoordinatorTransactional(Data(A, 0, epoch: 4)));
        Assert.Equal((end, end, 0), (log.LogEndOffset, log.LastStableOffset, log.OpenTransactionCount));
        // The producer's next epoch writes on.
        Assert.Equal(ErrorCode.None, log.AppendCoordinatorTransactional(Data(A, 0, epoch: 6)).Error);
        Assert.Equal(1, log.OpenTransactionCount);
    }

    [Fact]
    public void An_abort_is_indexed_in_kafkas_txnindex_format_and_found_by_the_lookup()
    {
        using var log = Open();
        Append(log, Data(A, 0));
        Append(log, Marker(A, ControlRecordType.Abort, coordinatorEpoch: 3));
        Assert.Equal(4, log.LastStableOffset);
        var entry = Assert.Single(log.CollectAbortedTransactions(0, 4)!);
        Assert.Equal(new AbortedTransaction(A, 0, 3, 4), entry);

        var bytes = File.ReadAllBytes(Assert.Single(Directory.GetFiles(Dir, "*.txnindex")));
        Assert.Equal(34, bytes.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(bytes));
        Assert.Equal(A, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(2)));
        Assert.Equal(0, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(10)));
        Assert.Equal(3, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(18)));
        Assert.Equal(4, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(26)));
    }

    [Fact]
    public void Interleaved_producers_the_oldest_open_transaction_is_the_last_stable_offset()
    {
        using var log = Open();
        Append(log, Data(A, 0));                          // 0-2
        Append(log, Data(B, 0));                          // 3-5
        Append(log, Data(7, 0, transactional: false));    // 6-8, idempotent only
        Append(log, Data(A, 3));                          // 9-11
        Assert.Equal(0, log.LastStableOffset);
        Append(log, Marker(B, ControlRecordType.Abort));  // 12: B ends while A is open
        Assert.Equal(0, log.LastStableOffset);
        Append(log, Marker(A, ControlRecordType.Commit)); // 13
        Assert.Equal(14, log.LastStableOffset);
        Append(log, Data(B, 3));                          // 14-16: B's next transaction
        Assert.Equal(14, log.LastStableOffset);
        Append(log, Marker(B, ControlRecordType.Abort));  // 17
        Assert.Equal(18, log.LastStableOffset);

        // The first abort's LSO was A's first offset: the lookup must go on past it for a bound above.
        Assert.Equal([new AbortedTransaction(B, 3, 12, 0), new AbortedTransaction(B, 14, 17, 18)], log.CollectAbortedTransactions(0, 18));
        Assert.Equal([new AbortedTransaction(B, 3, 12, 0)], log.CollectAbortedTransactions(0, 6));
        Assert.Equal([new AbortedTransaction(B, 14, 17, 18)], log.CollectAbortedTransactions(13, 18));
        Assert.Null(log.CollectAbortedTransactions(0, 3)); // B's first offset is not below the bound
    }

    [Fact]
    public void A_read_below_the_last_stable_offset_stops_at_the_first_open_batch()
    {
        using var log = Open();
        Append(log, Data(7, 0, transactional: false)); // 0-2
        Append(log, Data(A, 0));                       // 3-5
        Append(log, Data(7, 3, transactional: false)); // 6-8
        using (var committed = log.Read(0, 1 << 20, maxOffset: log.LastStableOffset))
        {
            Assert.Equal([0L], BatchesIn(committed));
            Assert.Equal(2, committed.LastOffset);
        }
        using (var nothing = log.Read(3, 1 << 20, maxOffset: log.LastStableOffset))
            Assert.Equal(0, nothing.Length);
        using (var uncommitted = log.Read(0, 1 << 20))
            Assert.Equal([0L, 3L, 6L], BatchesIn(uncommitted));
        long all = log.BytesAfter(0, long.MaxValue);
        long stable = log.BytesAfter(0, long.MaxValue, upTo: log.LastStableOffset);
        Assert.Equal(Data(7, 0, transactional: false).Length, stable);
        Assert.True(all > stable);
        Assert.Equal(0, log.BytesAfter(3, long.MaxValue, upTo: log.LastStableOffset));
        Append(log, Marker(A, ControlRecordType.Commit));
        Assert.Equal(all + Marker(A, ControlRecordType.Commit).Length, log.BytesAfter(0, long.MaxValue, upTo: log.LastStableOffset));
    }

    [Fact]
    public void Markers_are_checked_against_the_producers_epochs()
    {
        using var log = Open();
        var raised = 0;
        log.MarkerAppended += _ => raised++;
        Append(log, Data(A, 0, epoch: 2));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, Append(log, Marker(A, ControlRecordType.Abort, epoch: 1)).Error);
        Assert.Equal(0, log.LastStableOffset);
        Assert.Equal(ErrorCode.None, Append(log, Marker(A, ControlRecordType.Commit, epoch: 2, coordinatorEpoch: 5)).Error);
        Assert.Equal(ErrorCode.TransactionCoordinatorFenced, Append(log, Marker(A, ControlRecordType.Commit, epoch: 2, coordinatorEpoch: 4)).Error);
        // A resent marker (no open transaction): appended, nothing else changes.
        long end = log.LogEndOffset;
        Assert.Equal(new AppendResult(ErrorCode.None, end, false), Append(log, Marker(A, ControlRecordType.Abort, epoch: 2, coordinatorEpoch: 5)));
        Assert.Equal(end + 1, log.LastStableOffset);
        Assert.Null(log.CollectAbortedTransactions(0, long.MaxValue));
        // A marker for a producer never seen: accepted.
        Assert.Equal(ErrorCode.None, Append(log, Marker(B, ControlRecordType.Abort)).Error);
        Assert.Equal(3, raised);
    }

    [Fact]
    public void Transactional_batches_are_checked_as_idempotent_ones_and_fenced_by_epoch()
    {
        using var log = Open();
        Assert.Equal(ErrorCode.None, Append(log, Data(A, 0, epoch: 1)).Error);
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(log, Data(A, 0, epoch: 1)));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, Append(log, Data(A, 3, epoch: 0)).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Append(log, Data(A, 9, epoch: 1)).Error);
        // Inside a transaction a producer writes transactional batches only, as in Kafka.
        Assert.Equal(ErrorCode.InvalidTxnState, Append(log, Data(A, 3, epoch: 1, transactional: false)).Error);
        Assert.Equal(ErrorCode.None, Append(log, Data(A, 3, epoch: 1)).Error);
        Assert.Equal(0, log.LastStableOffset);
        // A transactional batch without producer id or sequence could never be ended.
        Assert.Equal(ErrorCode.InvalidRecord, Append(log, Data(-1, -1)).Error);
        // A control batch that is not a marker.
        Assert.Equal(ErrorCode.InvalidRecord, Append(log, NotTransactionalMarker()).Error);
        Assert.Equal(6, log.LogEndOffset);
    }

    private byte[] NotTransactionalMarker()
    {
        using var builder = new RecordBatchBuilder { ProducerId = A, ProducerEpoch = 1, IsControl = true };
        builder.Add(Now, ControlRecord.Key(ControlRecordType.Abort), false, ControlRecord.EndTransactionValue(0), false);
        using var output = new Samsa.Protocol.Primitives.PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void The_lookup_follows_an_aborted_transaction_across_segments()
    {
        int size = Data(A, 0).Length;
        using var log = Open(segmentBytes: size * 2);
        Append(log, Data(A, 0));                          // 0-2, segment 0
        Append(log, Data(B, 0, transactional: false));    // 3-5
        Append(log, Data(A, 3));                          // 6-8, segment 6
        Append(log, Data(B, 3, transactional: false));    // 9-11
        Append(log, Marker(A, ControlRecordType.Abort));  // 12, segment 12
        Assert.Equal(3, Directory.GetFiles(Dir, "*.log").Length);
        var txnIndex = Assert.Single(Directory.GetFiles(Dir, "*.txnindex"));
        Assert.EndsWith("00000000000000000012.txnindex", txnIndex);
        Assert.Equal([new AbortedTransaction(A, 0, 12, 13)], log.CollectAbortedTransactions(3, 6));
        Assert.Equal([new AbortedTransaction(A, 0, 12, 13)], log.CollectAbortedTransactions(0, 3));
        Assert.Null(log.CollectAbortedTransactions(13, 14));
    }

    [Fact]
    public void Retention_deletes_a_segments_txnindex_with_it()
    {
        int size = Data(A, 0).Length;
        using var log = Open(segmentBytes: size + 200);
        Append(log, Data(A, 0));
        Append(log, Marker(A, ControlRecordType.Abort)); // 3, same segment
        Append(log, Data(7, 0, transactional: false));   // rolls: segment 4
        Append(log, Data(7, 3, transactional: false));   // segment 7
        Assert.Single(Directory.GetFiles(Dir, "*.txnindex"));
        Time.Advance(TimeSpan.FromDays(8));
        Assert.True(log.EnforceRetention(Now, retentionMs: 1000, retentionBytes: -1) >= 1);
        Assert.Empty(Directory.GetFiles(Dir, "*.txnindex"));
        Assert.Null(log.CollectAbortedTransactions(log.LogStartOffset, log.LogEndOffset));
    }

    [Fact]
    public void Compaction_removes_aborted_records_keeps_markers_and_leaves_open_transactions_alone()
    {
        int size = Data(A, 0).Length;
        using var log = Open(segmentBytes: size * 2);
        Append(log, Data(7, 0, transactional: false));   // 0-2: k0..k2 = v0..v2, committed data
        Append(log, Data(A, 0));                          // 3-5: k0..k2 in a transaction that aborts
        Append(log, Marker(A, ControlRecordType.Abort));  // 6
        Append(log, Data(B, 0));                          // 7-9: open transaction
        Append(log, Data(8, 0, transactional: false, keyPrefix: "x"));
        Append(log, Data(8, 3, transactional: false, keyPrefix: "x"));
        Assert.Equal(7, log.LastStableOffset);
        var result = log.Compact(Now, deleteRetentionMs: long.MaxValue / 2);
        Assert.True(result.RecordsRemoved >= 3, $"removed {result.RecordsRemoved}");
        var batches = log.Batches().Select(b => b.BaseOffset).ToList();
        Assert.Contains(0L, batches);      // the committed values were not shadowed by aborted ones
        Assert.DoesNotContain(3L, batches); // the aborted batch is gone
        Assert.Contains(6L, batches);      // its marker stays
        Assert.Contains(7L, batches);      // past the LSO: not cleaned
        Assert.Equal([new AbortedTransaction(A, 3, 6, 7)], log.CollectAbortedTransactions(0, 7));
        Assert.Equal(7, log.LastStableOffset);
    }

    [Fact]
    public void Unchecked_appends_of_the_brokers_own_logs_end_transactions_too()
    {
        using var log = Open();
        var raised = 0;
        log.MarkerAppended += _ => raised++;
        log.Append(Data(A, 0));
        Assert.Equal(0, log.LastStableOffset);
        log.Append(Marker(A, ControlRecordType.Abort));
        Assert.Equal(4, log.LastStableOffset);
        Assert.Equal([new AbortedTransaction(A, 0, 3, 4)], log.CollectAbortedTransactions(0, 4));
        Assert.Equal(1, raised);
    }

    [Fact]
    public void The_last_stable_offset_is_never_below_the_log_start_and_a_read_never_shows_part_of_an_open_batch()
    {
        using var log = Open();
        Append(log, Data(A, 0)); // 0-2, open
        Append(log, Data(7, 0, transactional: false));
        log.DeleteRecordsBefore(2);
        Assert.Equal(2, log.LastStableOffset);
        using (var read = log.Read(2, 1 << 20, maxOffset: log.LastStableOffset))
            Assert.Equal(0, read.Length); // the batch holding 2 is still open
        Append(log, Marker(A, ControlRecordType.Commit));
        using var after = log.Read(2, 1 << 20, maxOffset: log.LastStableOffset);
        Assert.Equal([0L, 3L, 6L], BatchesIn(after));
    }
}
