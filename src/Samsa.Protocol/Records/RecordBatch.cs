using System.Buffers.Binary;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Records;

/// <summary>
/// One magic-2 record batch as a view over its bytes. <see cref="TryReadNext"/> walks a records
/// field (several batches, possibly ending in a partial one, which Kafka allows in fetch responses).
/// </summary>
public readonly struct RecordBatch
{
    private RecordBatch(ReadOnlyMemory<byte> bytes, RecordBatchHeader header)
    {
        Bytes = bytes;
        Header = header;
    }

    public ReadOnlyMemory<byte> Bytes { get; }

    public RecordBatchHeader Header { get; }

    /// <summary>
    /// Takes the next whole batch off <paramref name="buffer"/>. Returns false at the end or when only
    /// a partial batch remains (skipped, as a fetch response may be cut mid-batch). Throws
    /// ProtocolException for a batch that is not magic 2 or has an impossible length.
    /// </summary>
    public static bool TryReadNext(ref ReadOnlyMemory<byte> buffer, out RecordBatch batch)
    {
        batch = default;
        if (buffer.Length < RecordBatchHeader.Size)
            return false;
        var span = buffer.Span;
        int batchLength = BinaryPrimitives.ReadInt32BigEndian(span[RecordBatchHeader.LengthOffset..]);
        if (batchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead)
            throw new ProtocolException($"Record batch length {batchLength} is smaller than a batch header.");
        byte magic = span[RecordBatchHeader.MagicOffset];
        if (magic != RecordBatchHeader.CurrentMagic)
            throw new ProtocolException($"Record batch magic {magic} is not supported (only 2).");
        long total = (long)batchLength + RecordBatchHeader.LogOverhead;
        if (total > buffer.Length)
            return false;
        var bytes = buffer[..(int)total];
        batch = new RecordBatch(bytes, RecordBatchHeader.Read(bytes.Span));
        buffer = buffer[(int)total..];
        return true;
    }

    public bool CrcMatches => RecordBatchHeader.ComputeCrc(Bytes.Span) == Header.Crc;

    /// <summary>The records section, still compressed if the batch is.</summary>
    public ReadOnlyMemory<byte> RecordsSection => Bytes[RecordBatchHeader.Size..];

    /// <summary>Records of an uncompressed batch, read in place.</summary>
    public RecordEnumerator GetRecords()
    {
        if (Header.Compression != CompressionType.None)
            throw new InvalidOperationException("Compressed batch: use Decompress first.");
        return new RecordEnumerator(RecordsSection, Header);
    }

    /// <summary>
    /// Decompresses into <paramref name="scratch"/> (cleared first; reuse it across batches to
    /// avoid allocating) and returns the records over it.
    /// </summary>
    public RecordEnumerator GetRecords(PooledBufferWriter scratch, int maxBytes = 64 * 1024 * 1024)
    {
        if (Header.Compression == CompressionType.None)
            return GetRecords();
        scratch.Clear();
        Codecs.Decompress(Header.Compression, RecordsSection.Span, scratch, maxBytes);
        return new RecordEnumerator(scratch.WrittenMemory, Header);
    }
}
