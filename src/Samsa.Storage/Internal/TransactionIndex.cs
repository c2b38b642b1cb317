using System.Buffers.Binary;
using Microsoft.Extensions.Logging;

namespace Samsa.Storage.Internal;

/// <summary>
/// A segment's aborted transactions, Kafka's <c>.txnindex</c>: one 34-byte entry per abort marker
/// the segment holds (version int16 = 0, producer id, first offset, last offset = the marker's,
/// the last stable offset once that transaction ended; big-endian). The file exists only once an
/// abort landed in the segment, as Kafka creates it lazily. Entries come in marker order, so a
/// lookup walks them from the start and stops at the first whose last stable offset reaches the
/// fetch's upper bound (no later transaction can overlap it).
/// One writer (the log's lock); readers walk the entries without a lock.
/// An entry is written to the file when its marker is appended (no fsync: a process crash keeps
/// it, and a lost one is re-derived by the replay of the log after the producer snapshot); the
/// file is fsynced before any snapshot is written, so entries below a snapshot are durable.
/// </summary>
internal sealed class TransactionIndex(string path)
{
    public const string Suffix = ".txnindex";
    public const int EntrySize = 2 + 8 + 8 + 8 + 8;
    private const short EntryVersion = 0;

    private readonly AppendOnlyArray<AbortedTransaction> _entries = new();
    // Entries [0, _written) are in the file; a failed write leaves the rest for the next Flush.
    private int _written;
    private bool _unsynced;

    public string Path { get; } = path;

    public int Count => _entries.Count;

    public ReadOnlySpan<AbortedTransaction> Entries => _entries.Items;

    /// <summary>The last entry's marker offset; -1 when there is none.</summary>
    public long LastMarkerOffset => _entries.Count == 0 ? -1 : _entries.Items[^1].LastOffset;

    /// <summary>
    /// Reads the file (whole entries; a torn last entry is dropped and cut) keeping only entries
    /// whose marker is below <paramref name="nextOffset"/> (a crash can take back the log's tail
    /// while the index kept it). A missing file is an empty index.
    /// </summary>
    public static TransactionIndex Load(string path, long nextOffset, ILogger logger)
    {
        var index = new TransactionIndex(path);
        if (!File.Exists(path))
            return index;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            logger.LogWarning("{Path}: unreadable ({Message}); the aborted transactions it held are rebuilt only from the log after the producer snapshot", path, e.Message);
            return index;
        }
        int at = 0;
        long previous = -1;
        for (; at + EntrySize <= bytes.Length; at += EntrySize)
        {
            var span = bytes.AsSpan(at);
            var entry = new AbortedTransaction(
                BinaryPrimitives.ReadInt64BigEndian(span[2..]),
                BinaryPrimitives.ReadInt64BigEndian(span[10..]),
                BinaryPrimitives.ReadInt64BigEndian(span[18..]),
                BinaryPrimitives.ReadInt64BigEndian(span[26..]));
            if (BinaryPrimitives.ReadInt16BigEndian(span) != EntryVersion || entry.LastOffset >= nextOffset || entry.LastOffset <= previous || entry.FirstOffset > entry.LastOffset)
                break;
            index._entries.Add(entry);
            previous = entry.LastOffset;
        }
        index._written = index._entries.Count;
        if (at != bytes.Length)
        {
            // What follows the last good entry is rewritten by the next Flush, or by replay.
            logger.LogWarning("{Path}: {Bytes} byte(s) after entry {Count} dropped (torn write, or markers a crash took back)", path, bytes.Length - at, index._entries.Count);
            index.Truncate(at);
        }
        return index;
    }

    /// <summary>Adds an abort; written to the file at once, or by the next Flush if that write fails.</summary>
    public void Append(in AbortedTransaction entry, ILogger logger)
    {
        if (entry.LastOffset <= LastMarkerOffset)
            throw new InvalidOperationException($"{Path}: aborted transaction ending at {entry.LastOffset} is not after the last one ({LastMarkerOffset}).");
        _entries.Add(entry);
        TryWrite(logger, sync: false);
    }

    /// <summary>fsyncs the file (and writes what an earlier failure left out): before a producer snapshot, at roll and at close.</summary>
    public void Flush(ILogger logger) => TryWrite(logger, sync: true);

    private void TryWrite(ILogger logger, bool sync)
    {
        if (_written == _entries.Count && !(sync && _unsynced))
            return;
        try
        {
            using var file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.Write);
            file.Position = (long)_written * EntrySize;
            var entries = _entries.Items;
            Span<byte> buffer = stackalloc byte[EntrySize];
            for (int i = _written; i < entries.Length; i++)
            {
                Write(buffer, entries[i]);
                file.Write(buffer);
            }
            file.SetLength(file.Position);
            if (sync)
                file.Flush(flushToDisk: true);
            _written = entries.Length;
            _unsynced = !sync;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("{Path}: aborted-transaction entry not written ({Message}); retried at the next flush", Path, e.Message);
        }
    }

    private static void Write(Span<byte> buffer, in AbortedTransaction entry)
    {
        BinaryPrimitives.WriteInt16BigEndian(buffer, EntryVersion);
        BinaryPrimitives.WriteInt64BigEndian(buffer[2..], entry.ProducerId);
        BinaryPrimitives.WriteInt64BigEndian(buffer[10..], entry.FirstOffset);
        BinaryPrimitives.WriteInt64BigEndian(buffer[18..], entry.LastOffset);
        BinaryPrimitives.WriteInt64BigEndian(buffer[26..], entry.LastStableOffset);
    }

    private void Truncate(long length)
    {
        try
        {
            using var file = new FileStream(Path, FileMode.Open, FileAccess.Write);
            file.SetLength(length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _written = 0; // rewrite it whole at the next flush
        }
    }

    /// <summary>
    /// Kafka's collectAbortedTxns: the entries whose transaction overlaps [<paramref name="fetchOffset"/>,
    /// <paramref name="upperBound"/>). True when the search is complete: an entry's last stable offset
    /// reached the upper bound, so no later segment can hold one that overlaps.
    /// </summary>
    public bool Collect(long fetchOffset, long upperBound, List<AbortedTransaction> into)
    {
        foreach (var entry in _entries.Items)
        {
            if (entry.LastOffset >= fetchOffset && entry.FirstOffset < upperBound)
                into.Add(entry);
            if (entry.LastStableOffset >= upperBound)
                return true;
        }
        return false;
    }

    public void Delete()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // An orphan is deleted at the next start.
        }
    }
}
