using System.Buffers;

namespace Samsa.Protocol.Primitives;

/// <summary>
/// A growable buffer rented from <see cref="ArrayPool{T}"/>. Frames are written here and the
/// length prefix patched in place afterwards; Dispose returns the array.
/// A writer with a <see cref="ReferenceThreshold"/> takes large record sets by reference instead
/// of copying them (<see cref="ProtocolWriter.WriteRecords"/>): the frame is then the written bytes
/// with those sets in between, sent with <see cref="GetSegments"/>, and its owner keeps them alive
/// until it is sent.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;
    private List<(int Position, ArraySegment<byte> Data)>? _references;
    private int _referencedBytes;

    public PooledBufferWriter(int initialCapacity = 256) =>
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));

    public int WrittenCount => _written;

    /// <summary>Record sets at least this long are referenced, not copied (off by default).</summary>
    public int ReferenceThreshold { get; init; } = int.MaxValue;

    /// <summary>Bytes of the frame held by reference, not in the buffer.</summary>
    public int ReferencedBytes => _referencedBytes;

    /// <summary>The written bytes; only for a writer that holds nothing by reference.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _referencedBytes == 0 ? _buffer.AsSpan(0, _written) : throw ReferencesHeld();

    public ReadOnlyMemory<byte> WrittenMemory => _referencedBytes == 0 ? _buffer.AsMemory(0, _written) : throw ReferencesHeld();

    private static InvalidOperationException ReferencesHeld() =>
        new("The writer holds record sets by reference: send it with GetSegments.");

    /// <summary>Takes <paramref name="data"/> by reference at the current position; false when it is not array-backed (copy it instead).</summary>
    internal bool TryReference(ReadOnlyMemory<byte> data)
    {
        if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment))
            return false;
        (_references ??= []).Add((_written, segment));
        _referencedBytes += data.Length;
        return true;
    }

    /// <summary>The whole frame in order, for a gather send: written bytes and referenced sets interleaved.</summary>
    public void GetSegments(List<ArraySegment<byte>> segments)
    {
        segments.Clear();
        int from = 0;
        if (_references is not null)
        {
            foreach (var (position, data) in _references)
            {
                if (position > from)
                    segments.Add(new ArraySegment<byte>(_buffer, from, position - from));
                segments.Add(data);
                from = position;
            }
        }
        if (_written > from)
            segments.Add(new ArraySegment<byte>(_buffer, from, _written - from));
    }

    /// <summary>Already-written bytes, for patching a length or CRC after the fact.</summary>
    public Span<byte> WrittenSpanForUpdate => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        if (count < 0 || _written + count > _buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Clear()
    {
        _written = 0;
        _references?.Clear();
        _referencedBytes = 0;
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
            sizeHint = 1;
        if (_buffer.Length - _written >= sizeHint)
            return;
        int newSize = Math.Max(_buffer.Length * 2, _written + sizeHint);
        var bigger = ArrayPool<byte>.Shared.Rent(newSize);
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        _references = null;
        _referencedBytes = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
