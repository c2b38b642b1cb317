using Samsa.Protocol;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>
/// Open transactions and the aborted-transaction index across restarts: a clean close, a crash
/// (Dispose without Close: no snapshot, no clean-shutdown marker), a crash that cut the log in the
/// middle of a transaction, and one between the marker's append and its index entry.
/// </summary>
public sealed class TransactionRecoveryTests : TxnLogTest
{
    private const long A = 2001, B = 2002;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_open_transaction_survives_a_restart_and_its_abort_is_indexed_from_its_first_offset(bool clean)
    {
        using (var log = Open())
        {
            Append(log, Data(7, 0, transactional: false)); // 0-2
            Append(log, Data(A, 0));                       // 3-5
            Append(log, Data(B, 0));                       // 6-8
            Append(log, Marker(B, ControlRecordType.Commit)); // 9
            Append(log, Data(A, 3));                       // 10-12
            Assert.Equal(3, log.LastStableOffset);
            if (clean)
                log.Close();
        }
        using var reopened = Open();
        Assert.Equal(clean ? 0 : 5, reopened.ProducerBatchesReplayed);
        Assert.Equal(3, reopened.LastStableOffset);
        Assert.Equal(1, reopened.OpenTransactionCount);
        Assert.Equal(new AppendResult(ErrorCode.None, 10, true), Append(reopened, Data(A, 3))); // still a retry
        Assert.Equal(ErrorCode.None, Append(reopened, Marker(A, ControlRecordType.Abort)).Error);
        Assert.Equal(14, reopened.LastStableOffset);
        Assert.Equal([new AbortedTransaction(A, 3, 13, 14)], reopened.CollectAbortedTransactions(0, 14));
    }

    [Fact]
    public void A_transaction_begun_in_a_rolled_segment_comes_back_from_the_snapshot_after_a_crash()
    {
        int size = Data(A, 0).Length;
        using (var log = Open(segmentBytes: size * 2))
        {
            Append(log, Data(A, 0));                       // 0-2
            Append(log, Data(B, 0));                       // 3-5
            Append(log, Marker(B, ControlRecordType.Abort)); // 6, a new segment: the roll wrote a snapshot
            Append(log, Data(7, 0, transactional: false)); // 7-9
            Append(log, Data(7, 3, transactional: false)); // rolls again
        }
        using var reopened = Open(segmentBytes: size * 2);
        Assert.True(reopened.ProducerSnapshotLoaded > 0, "a roll wrote a snapshot");
        Assert.Equal(0, reopened.LastStableOffset);
        Assert.Equal([new AbortedTransaction(B, 3, 6, 0)], reopened.CollectAbortedTransactions(0, 13));
        Append(reopened, Marker(A, ControlRecordType.Commit));
        Assert.Equal(reopened.LogEndOffset, reopened.LastStableOffset);
    }

    [Fact]
    public void A_crash_that_cut_the_abort_marker_leaves_the_transaction_open_and_drops_its_index_entry()
    {
        using (var log = Open())
        {
            Append(log, Data(A, 0));                         // 0-2
            Append(log, Data(7, 0, transactional: false));   // 3-5
            Append(log, Marker(A, ControlRecordType.Abort)); // 6: written to the log and the index
            Assert.Single(log.CollectAbortedTransactions(0, 7)!);
        }
        // The crash tore the marker's bytes (the segment was not fsynced), not the index entry's.
        var segment = Assert.Single(Directory.GetFiles(Dir, "*.log"));
        using (var file = new FileStream(segment, FileMode.Open))
            file.SetLength(file.Length - 10);
        using var reopened = Open();
        Assert.Equal(6, reopened.LogEndOffset);
        Assert.Equal(0, reopened.LastStableOffset);
        Assert.Equal(1, reopened.OpenTransactionCount);
        Assert.Null(reopened.CollectAbortedTransactions(0, 6));
        // The coordinator resends the marker: indexed once, at its new offset.
        Append(reopened, Marker(A, ControlRecordType.Abort));
        Assert.Equal([new AbortedTransaction(A, 0, 6, 7)], reopened.CollectAbortedTransactions(0, 7));
        Assert.Equal(TxnIndexEntrySize, new FileInfo(Assert.Single(Directory.GetFiles(Dir, "*.txnindex"))).Length);
    }

    private const int TxnIndexEntrySize = 34;

    [Fact]
    public void A_crash_cut_in_the_middle_of_a_transaction_keeps_what_was_whole()
    {
        using (var log = Open())
        {
            Append(log, Data(A, 0)); // 0-2
            Append(log, Data(A, 3)); // 3-5: torn by the crash
        }
        var segment = Assert.Single(Directory.GetFiles(Dir, "*.log"));
        using (var file = new FileStream(segment, FileMode.Open))
            file.SetLength(file.Length - 5);
        using var reopened = Open();
        Assert.Equal(3, reopened.LogEndOffset);
        Assert.Equal(0, reopened.LastStableOffset);
        Assert.Equal(new AppendResult(ErrorCode.None, 3, false), Append(reopened, Data(A, 3))); // the producer retries it
        Append(reopened, Marker(A, ControlRecordType.Commit));
        Assert.Equal(7, reopened.LastStableOffset);
    }

    [Theory]
    [InlineData(0)]  // the index file never written
    [InlineData(-1)] // deleted
    [InlineData(20)] // torn in the middle of the entry
    public void A_txnindex_missing_or_shorter_than_the_log_is_rebuilt_from_the_markers(int keptBytes)
    {
        using (var log = Open())
        {
            Append(log, Data(A, 0));                         // 0-2
            Append(log, Marker(A, ControlRecordType.Abort)); // 3
            Append(log, Data(B, 0));                         // 4-6
            Append(log, Marker(B, ControlRecordType.Abort)); // 7
        }
        var index = Assert.Single(Directory.GetFiles(Dir, "*.txnindex"));
        if (keptBytes < 0)
            File.Delete(index);
        else
        {
            using var file = new FileStream(index, FileMode.Open);
            file.SetLength(TxnIndexEntrySize + keptBytes); // the first entry kept, the second lost or torn
        }
        using var reopened = Open();
        Assert.Equal([new AbortedTransaction(A, 0, 3, 4), new AbortedTransaction(B, 4, 7, 8)], reopened.CollectAbortedTransactions(0, 8));
        Assert.Equal(2 * TxnIndexEntrySize, new FileInfo(index).Length); // fsynced before the start's snapshot
        reopened.Close();
        using var again = Open();
        Assert.Equal(0, again.ProducerBatchesReplayed);
        Assert.Equal(2, again.CollectAbortedTransactions(0, 8)!.Count);
    }

    [Fact]
    public void A_producer_with_an_open_transaction_does_not_expire()
    {
        using var log = PartitionLog.Open(Dir, new LogConfig { ProducerIdExpirationMs = 60_000 }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, Time);
        Append(log, Data(A, 0));
        Append(log, Data(7, 0, transactional: false));
        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, log.RemoveExpiredProducers(Now)); // producer 7 only
        Assert.Equal(0, log.LastStableOffset);
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(log, Data(A, 0)));
    }

    [Fact]
    public void A_snapshot_of_the_version_before_transactions_is_still_read()
    {
        using (var log = Open())
        {
            Append(log, Data(9, 0, transactional: false));
            log.Close();
        }
        // Rewrite the version 2 snapshot as version 1: no coordinator epoch, no open transaction.
        var path = Assert.Single(Directory.GetFiles(Dir, "*.snapshot"));
        var v2 = File.ReadAllBytes(path);
        Assert.Equal(2, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(v2));
        byte[] v1 = [.. v2.AsSpan(0, 20), .. v2.AsSpan(20, 18), .. v2.AsSpan(50)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(v1, 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(v1.AsSpan(4), Crc32C.Compute(v1.AsSpan(8)));
        File.WriteAllBytes(path, v1);
        using var reopened = Open();
        Assert.Equal(3, reopened.ProducerSnapshotLoaded);
        Assert.Equal(new AppendResult(ErrorCode.None, 0, true), Append(reopened, Data(9, 0, transactional: false)));
        Assert.Equal(3, reopened.LastStableOffset);
    }
}
