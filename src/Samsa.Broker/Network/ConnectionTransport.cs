using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Samsa.Protocol.Primitives;

namespace Samsa.Broker.Network;

/// <summary>
/// How a connection's bytes travel: the seam between the request loop and the socket. Plaintext
/// reads a <see cref="NetworkStream"/> and sends a response that references record sets as one
/// gather write straight from their buffers; TLS reads and writes through <see cref="SslStream"/>.
/// Neither allocates per request beyond what the socket does.
/// </summary>
internal abstract class ConnectionTransport : IAsyncDisposable
{
    /// <summary>What the frame reader reads.</summary>
    public abstract Stream Stream { get; }

    /// <summary>
    /// Sends a response frame. Not cancellable: an abandoned send could still be reading buffers
    /// that go back to the pool; shutdown closes the socket, which ends a stuck write.
    /// </summary>
    public abstract ValueTask SendAsync(PooledBufferWriter frame);

    /// <summary>Sends bytes the caller owns until the call completes (raw SASL tokens).</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> bytes) => Stream.WriteAsync(bytes, CancellationToken.None);

    public abstract ValueTask DisposeAsync();
}

internal sealed class PlaintextTransport(Socket socket) : ConnectionTransport
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: false);
    private readonly List<ArraySegment<byte>> _segments = [];

    public override Stream Stream => _stream;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(PooledBufferWriter frame)
    {
        if (frame.ReferencedBytes == 0)
        {
            await _stream.WriteAsync(frame.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        // One gather write (writev) of the frame's pieces: the header bytes and the record sets
        // where the log read put them. A stream socket's send completes only once every byte is
        // taken; anything less would corrupt the stream, so it closes it.
        frame.GetSegments(_segments);
        int total = frame.WrittenCount + frame.ReferencedBytes;
        int sent = await socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
        if (sent != total)
            throw new IOException($"The socket took {sent} of a {total}-byte response.");
    }

    public override ValueTask DisposeAsync() => _stream.DisposeAsync();
}

/// <summary>
/// TLS: the frame's pieces are gathered into one staging buffer of a TLS record's size (rented
/// once per connection) so that small pieces do not each become a record; pieces larger than
/// that go to the stream as they are.
/// </summary>
internal sealed class TlsTransport(SslStream stream) : ConnectionTransport
{
    private const int RecordSize = 16 * 1024;
    private readonly List<ArraySegment<byte>> _segments = [];
    private byte[]? _staging;

    public override Stream Stream => stream;

    public SslStream Ssl => stream;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(PooledBufferWriter frame)
    {
        if (frame.ReferencedBytes == 0)
        {
            await stream.WriteAsync(frame.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        frame.GetSegments(_segments);
        var staging = _staging ??= ArrayPool<byte>.Shared.Rent(RecordSize);
        int filled = 0;
        foreach (var segment in _segments)
        {
            if (segment.Count >= RecordSize)
            {
                if (filled > 0)
                {
                    await stream.WriteAsync(staging.AsMemory(0, filled), CancellationToken.None).ConfigureAwait(false);
                    filled = 0;
                }
                await stream.WriteAsync(segment.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            int offset = 0;
            while (offset < segment.Count)
            {
                int n = Math.Min(segment.Count - offset, staging.Length - filled);
                segment.AsSpan(offset, n).CopyTo(staging.AsSpan(filled));
                filled += n;
                offset += n;
                if (filled == staging.Length)
                {
                    await stream.WriteAsync(staging.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                    filled = 0;
                }
            }
        }
        if (filled > 0)
            await stream.WriteAsync(staging.AsMemory(0, filled), CancellationToken.None).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        await stream.DisposeAsync().ConfigureAwait(false);
        if (_staging is { } staging)
        {
            _staging = null;
            ArrayPool<byte>.Shared.Return(staging);
        }
    }
}
