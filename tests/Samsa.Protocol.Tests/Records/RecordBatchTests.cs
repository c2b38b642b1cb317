using System.Text;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Protocol.Tests.Records;

public class RecordBatchTests
{
    private sealed record Sample(long Timestamp, byte[]? Key, byte[]? Value, (string, byte[]?)[] Headers);

    private static List<Sample> RandomRecords(int seed, int count)
    {
        var random = new Random(seed);
        var list = new List<Sample>();
        long ts = 1_700_000_000_000 + random.Next(1000);
        for (int i = 0; i < count; i++)
        {
            byte[]? Bytes(int max) => random.Next(6) == 0 ? null : Enumerable.Range(0, random.Next(max)).Select(_ => (byte)random.Next(256)).ToArray();
            var headers = Enumerable.Range(0, random.Next(3)).Select(h => ($"h{h}é", Bytes(8))).ToArray();
            list.Add(new Sample(ts + random.Next(-50, 500), Bytes(20), Bytes(300), headers));
        }
        return list;
    }

    private static byte[] Build(IEnumerable<Sample> records, CompressionType compression)
    {
        using var builder = new RecordBatchBuilder { Compression = compression, ProducerId = 7, ProducerEpoch = 1, BaseSequence = 0 };
        foreach (var r in records)
            builder.Add(r.Timestamp, r.Key, r.Key is null, r.Value, r.Value is null, r.Headers);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Batches_round_trip_with_every_codec(CompressionType compression)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var records = RandomRecords(seed, 1 + seed * 3);
            ReadOnlyMemory<byte> bytes = Build(records, compression);
            Assert.True(RecordBatch.TryReadNext(ref bytes, out var batch));
            Assert.True(bytes.IsEmpty);
            Assert.True(batch.CrcMatches);
            Assert.Equal(compression, batch.Header.Compression);
            Assert.Equal(records.Count, batch.Header.RecordCount);
            Assert.Equal(records.Max(r => r.Timestamp), batch.Header.MaxTimestamp);
            Assert.Equal((7L, (short)1), (batch.Header.ProducerId, batch.Header.ProducerEpoch));

            using var scratch = new PooledBufferWriter();
            int i = 0;
            foreach (var record in batch.GetRecords(scratch))
            {
                var expected = records[i];
                Assert.Equal(i, record.Offset);
                Assert.Equal(expected.Timestamp, record.Timestamp);
                Assert.Equal(expected.Key, record.Key?.ToArray());
                Assert.Equal(expected.Value, record.Value?.ToArray());
                var headers = new List<(string, byte[]?)>();
                foreach (var h in record.GetHeaders())
                    headers.Add((Encoding.UTF8.GetString(h.Key.Span), h.Value?.ToArray()));
                Assert.Equal(expected.Headers, headers);
                i++;
            }
            Assert.Equal(records.Count, i);
        }
    }

    [Fact]
    public void A_trailing_partial_batch_is_skipped_not_an_error()
    {
        var one = Build(RandomRecords(1, 3), CompressionType.None);
        var two = Build(RandomRecords(2, 3), CompressionType.None);
        ReadOnlyMemory<byte> buffer = one.Concat(two.Take(two.Length - 5)).ToArray();
        Assert.True(RecordBatch.TryReadNext(ref buffer, out _));
        Assert.False(RecordBatch.TryReadNext(ref buffer, out _));
    }

    [Fact]
    public void Rebasing_offsets_keeps_the_crc_valid()
    {
        var bytes = Build(RandomRecords(3, 5), CompressionType.Lz4);
        RecordBatchHeader.SetBaseOffset(bytes, 1000);
        ReadOnlyMemory<byte> memory = bytes;
        Assert.True(RecordBatch.TryReadNext(ref memory, out var batch));
        Assert.True(batch.CrcMatches);
        Assert.Equal(1004, batch.Header.LastOffset);
        using var scratch = new PooledBufferWriter();
        long first = -1;
        foreach (var r in batch.GetRecords(scratch))
        {
            first = r.Offset;
            break;
        }
        Assert.Equal(1000, first);
    }

    [Fact]
    public void Lz4_frames_use_independent_blocks_as_java_requires()
    {
        var bytes = Build(RandomRecords(4, 50), CompressionType.Lz4);
        var records = bytes.AsSpan(RecordBatchHeader.Size);
        Assert.Equal(new byte[] { 0x04, 0x22, 0x4D, 0x18 }, records[..4].ToArray()); // frame magic
        Assert.Equal(0x60, records[4] & 0xE0); // version 01, block independence set
    }

    [Fact]
    public void Snappy_is_written_xerial_framed_and_both_framings_decode()
    {
        var bytes = Build(RandomRecords(5, 10), CompressionType.Snappy);
        var records = bytes.AsSpan(RecordBatchHeader.Size);
        Assert.Equal(new byte[] { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0 }, records[..8].ToArray());

        byte[] plain = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("raw snappy as librdkafka writes it ", 20)));
        var raw = new byte[Snappier.Snappy.GetMaxCompressedLength(plain.Length)];
        int n = Snappier.Snappy.Compress(plain, raw);
        using var output = new PooledBufferWriter();
        Codecs.Decompress(CompressionType.Snappy, raw.AsSpan(0, n), output, 1 << 20);
        Assert.Equal(plain, output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Decompression_is_bounded(CompressionType compression)
    {
        byte[] zeros = new byte[1 << 20];
        using var compressed = new PooledBufferWriter();
        Codecs.Compress(compression, zeros, compressed);
        using var output = new PooledBufferWriter();
        Assert.Throws<ProtocolException>(() => Codecs.Decompress(compression, compressed.WrittenSpan, output, 64 * 1024));
    }

    [Fact]
    public void Mutated_batches_fail_only_with_protocol_errors()
    {
        var random = new Random(42);
        int rejected = 0;
        foreach (var compression in Enum.GetValues<CompressionType>())
        {
            var valid = Build(RandomRecords(6, 8), compression);
            for (int i = 0; i < 400; i++)
            {
                var copy = (byte[])valid.Clone();
                int flips = 1 + random.Next(3);
                for (int k = 0; k < flips; k++)
                    copy[RecordBatchHeader.Size + random.Next(copy.Length - RecordBatchHeader.Size)] = (byte)random.Next(256);
                try
                {
                    ReadOnlyMemory<byte> memory = copy;
                    if (!RecordBatch.TryReadNext(ref memory, out var batch))
                        continue;
                    using var scratch = new PooledBufferWriter();
                    foreach (var r in batch.GetRecords(scratch))
                        _ = r.Value;
                }
                catch (ProtocolException)
                {
                    rejected++;
                }
            }
        }
        Assert.True(rejected > 0);
    }
}

public class LogAppendTimeTests
{
    [Fact]
    public void Log_append_time_replaces_every_record_timestamp_and_keeps_the_crc_valid()
    {
        using var builder = new RecordBatchBuilder();
        builder.Add(1000, [], true, [1], false);
        builder.Add(2000, [], true, [2], false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        var bytes = output.WrittenSpan.ToArray();
        RecordBatchHeader.SetLogAppendTime(bytes, 99_999);
        ReadOnlyMemory<byte> memory = bytes;
        Assert.True(RecordBatch.TryReadNext(ref memory, out var batch));
        Assert.True(batch.CrcMatches);
        Assert.Equal(TimestampType.LogAppendTime, batch.Header.TimestampType);
        foreach (var r in batch.GetRecords())
            Assert.Equal(99_999, r.Timestamp);
    }
}

public class ControlBatchTests
{
    [Fact]
    public void Control_batches_carry_transaction_markers()
    {
        using var builder = new RecordBatchBuilder { IsControl = true, IsTransactional = true, ProducerId = 9, ProducerEpoch = 2 };
        builder.Add(5, ControlRecord.Key(ControlRecordType.Commit), false, ControlRecord.EndTransactionValue(17), false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        ReadOnlyMemory<byte> memory = output.WrittenSpan.ToArray();
        Assert.True(RecordBatch.TryReadNext(ref memory, out var batch));
        Assert.True(batch.Header.IsControl && batch.Header.IsTransactional && batch.CrcMatches);
        foreach (var r in batch.GetRecords())
        {
            Assert.Equal(ControlRecordType.Commit, ControlRecord.ReadType(r.Key!.Value.Span));
            Assert.Equal(17, ControlRecord.ReadCoordinatorEpoch(r.Value!.Value.Span));
        }
        Assert.Throws<ProtocolException>(() => ControlRecord.ReadType(new byte[] { 0, 1, 0, 0 }));
    }
}
