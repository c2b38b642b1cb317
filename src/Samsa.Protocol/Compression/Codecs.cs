using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Protocol.Compression;

/// <summary>
/// The four codecs of record batches, through well-kept libraries: gzip (BCL), snappy (Snappier,
/// with xerial framing written here), lz4 frames (K4os, independent blocks as Java requires), zstd
/// (ZstdSharp). Decompression is bounded: a batch that inflates past the limit is a protocol error,
/// not an out-of-memory.
/// </summary>
public static class Codecs
{
    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    private const int XerialHeaderLength = 16;
    private const int XerialBlockSize = 32 * 1024;

    /// <summary>Decompresses into <paramref name="output"/>; fails past <paramref name="maxBytes"/>.</summary>
    public static void Decompress(CompressionType type, ReadOnlySpan<byte> input, PooledBufferWriter output, int maxBytes)
    {
        try
        {
            switch (type)
            {
                case CompressionType.None:
                    Bounded(input.Length, maxBytes);
                    output.Write(input);
                    break;
                case CompressionType.Gzip:
                    Inflate(input, output, maxBytes);
                    break;
                case CompressionType.Snappy:
                    Unsnappy(input, output, maxBytes);
                    break;
                case CompressionType.Lz4:
                {
                    var bounded = new BoundedWriter(output, maxBytes);
                    LZ4Frame.Decode(input, bounded);
                    break;
                }
                case CompressionType.Zstd:
                {
                    using var decompressor = new ZstdSharp.Decompressor();
                    ulong size = ZstdSharp.Decompressor.GetDecompressedSize(input);
                    if (size > (ulong)maxBytes)
                        throw new ProtocolException($"zstd batch claims {size} bytes, more than the {maxBytes} allowed.");
                    if (size > 0)
                    {
                        var span = output.GetSpan((int)size);
                        int n = decompressor.Unwrap(input, span);
                        output.Advance(n);
                    }
                    else
                    {
                        using var stream = new ZstdSharp.DecompressionStream(new MemoryStream(input.ToArray()));
                        CopyBounded(stream, output, maxBytes);
                    }
                    break;
                }
                default:
                    throw new ProtocolException($"Unknown compression type {(int)type}.");
            }
        }
        catch (Exception e) when (e is not ProtocolException)
        {
            throw new ProtocolException($"Corrupt {type} data: {e.Message}", e);
        }
    }

    public static void Compress(CompressionType type, ReadOnlySpan<byte> input, PooledBufferWriter output)
    {
        switch (type)
        {
            case CompressionType.None:
                output.Write(input);
                break;
            case CompressionType.Gzip:
            {
                using var stream = new GZipStream(new WriterStream(output), CompressionLevel.Fastest, leaveOpen: false);
                stream.Write(input);
                break;
            }
            case CompressionType.Snappy:
                XerialSnappy(input, output);
                break;
            case CompressionType.Lz4:
                // Independent blocks: Java rejects frames with dependent (chained) blocks.
                LZ4Frame.Encode(input, output, new LZ4EncoderSettings { ChainBlocks = false, BlockSize = 64 * 1024, CompressionLevel = LZ4Level.L00_FAST });
                break;
            case CompressionType.Zstd:
            {
                using var compressor = new ZstdSharp.Compressor(3);
                var span = output.GetSpan(ZstdSharp.Compressor.GetCompressBound(input.Length));
                output.Advance(compressor.Wrap(input, span));
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown compression type.");
        }
    }

    private static void Inflate(ReadOnlySpan<byte> input, PooledBufferWriter output, int maxBytes)
    {
        unsafe
        {
            fixed (byte* p = input)
            {
                using var source = new UnmanagedMemoryStream(p, input.Length);
                using var gzip = new GZipStream(source, CompressionMode.Decompress);
                CopyBounded(gzip, output, maxBytes);
            }
        }
    }

    private static void CopyBounded(Stream source, PooledBufferWriter output, int maxBytes)
    {
        int start = output.WrittenCount;
        while (true)
        {
            var span = output.GetSpan(16 * 1024);
            int n = source.Read(span);
            if (n == 0)
                return;
            output.Advance(n);
            if (output.WrittenCount - start > maxBytes)
                throw new ProtocolException($"Compressed batch inflates past the {maxBytes} bytes allowed.");
        }
    }

    /// <summary>Accepts both the xerial framing Java writes and raw snappy (what librdkafka writes).</summary>
    private static void Unsnappy(ReadOnlySpan<byte> input, PooledBufferWriter output, int maxBytes)
    {
        if (input.Length >= XerialHeaderLength && input[..8].SequenceEqual(XerialMagic))
        {
            int start = output.WrittenCount;
            var rest = input[XerialHeaderLength..];
            while (!rest.IsEmpty)
            {
                if (rest.Length < 4)
                    throw new ProtocolException("Truncated xerial snappy chunk length.");
                int length = BinaryPrimitives.ReadInt32BigEndian(rest);
                if (length < 0 || length > rest.Length - 4)
                    throw new ProtocolException($"Xerial snappy chunk of {length} bytes exceeds the {rest.Length - 4} left.");
                RawSnappy(rest.Slice(4, length), output, maxBytes - (output.WrittenCount - start));
                rest = rest[(4 + length)..];
            }
            return;
        }
        RawSnappy(input, output, maxBytes);
    }

    private static void RawSnappy(ReadOnlySpan<byte> block, PooledBufferWriter output, int maxBytes)
    {
        int size = Snappier.Snappy.GetUncompressedLength(block);
        Bounded(size, maxBytes);
        int n = Snappier.Snappy.Decompress(block, output.GetSpan(size));
        output.Advance(n);
    }

    private static void XerialSnappy(ReadOnlySpan<byte> input, PooledBufferWriter output)
    {
        var header = output.GetSpan(XerialHeaderLength);
        XerialMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], 1);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], 1);
        output.Advance(XerialHeaderLength);
        while (!input.IsEmpty)
        {
            var chunk = input[..Math.Min(XerialBlockSize, input.Length)];
            var span = output.GetSpan(4 + Snappier.Snappy.GetMaxCompressedLength(chunk.Length));
            int n = Snappier.Snappy.Compress(chunk, span[4..]);
            BinaryPrimitives.WriteInt32BigEndian(span, n);
            output.Advance(4 + n);
            input = input[chunk.Length..];
        }
    }

    private static void Bounded(int adding, int maxBytes)
    {
        if (adding < 0 || adding > maxBytes)
            throw new ProtocolException($"Batch of {adding} uncompressed bytes exceeds the {maxBytes} allowed.");
    }

    /// <summary>Stops LZ4 output at the limit.</summary>
    private sealed class BoundedWriter(PooledBufferWriter inner, int maxBytes) : IBufferWriter<byte>
    {
        private readonly int _start = inner.WrittenCount;

        public void Advance(int count)
        {
            inner.Advance(count);
            if (inner.WrittenCount - _start > maxBytes)
                throw new ProtocolException($"LZ4 batch inflates past the {maxBytes} bytes allowed.");
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    }

    /// <summary>A write-only stream over a PooledBufferWriter, for GZipStream.</summary>
    private sealed class WriterStream(PooledBufferWriter output) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => output.WrittenCount;

        public override long Position { get => output.WrittenCount; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => output.Write(buffer);
    }
}
