using System.Buffers;

namespace Samsa.Client.Internal.Network;

/// <summary>
/// A response frame in a pooled array, shared by everything that still reads from it (a fetch
/// response's record sets are slices of it): the array goes back to the pool when the last user
/// releases it. Decoded messages copy every field except <c>records</c>, so only fetches hold it.
/// </summary>
internal sealed class ResponseBuffer
{
    private byte[]? _array;
    private int _references = 1;

    public ResponseBuffer(int length)
    {
        _array = ArrayPool<byte>.Shared.Rent(length);
        Length = length;
    }

    public int Length { get; }

    public Memory<byte> Memory => _array.AsMemory(0, Length);

    public ResponseBuffer AddReference()
    {
        Interlocked.Increment(ref _references);
        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0 && Interlocked.Exchange(ref _array, null) is { } array)
            ArrayPool<byte>.Shared.Return(array);
    }
}
