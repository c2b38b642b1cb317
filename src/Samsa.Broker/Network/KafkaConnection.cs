using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Metrics;
using Samsa.Protocol;

namespace Samsa.Broker.Network;

/// <summary>
/// One client connection. Like Kafka's socket server, it handles one request at a time: the next
/// frame is not read until the previous response is written, which keeps responses in request
/// order and a producer's batches in the order it sent them.
/// </summary>
internal sealed class KafkaConnection
{
    private const int SizePrefix = 4;
    private const int MinimumRequest = 8; // api key, version, correlation id

    private readonly Socket _socket;
    private readonly RequestDispatcher _dispatcher;
    private readonly BrokerOptions _options;
    private readonly ILogger _logger;
    private long _lastActivity;
    private readonly ConnectionSession _session = new();
    private readonly BrokerMetrics? _metrics;

    public KafkaConnection(long id, Socket socket, RequestDispatcher dispatcher, BrokerOptions options, ILogger logger, BrokerMetrics? metrics = null)
    {
        Id = id;
        _metrics = metrics;
        _socket = socket;
        _dispatcher = dispatcher;
        _options = options;
        _logger = logger;
        _lastActivity = options.TimeProvider.GetTimestamp();
        _session.WhenClientGone = WhenClientGoneAsync;
    }

    private readonly byte[] _probe = new byte[1];

    /// <summary>
    /// A peek (nothing is consumed) that ends on the client's FIN or a reset. If the client sends
    /// another request instead, it is alive: the task then waits for the token.
    /// </summary>
    private async Task WhenClientGoneAsync(CancellationToken token)
    {
        try
        {
            if (await _socket.ReceiveAsync(_probe, SocketFlags.Peek, token).ConfigureAwait(false) > 0)
                await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public long Id { get; }

    /// <summary>Why the connection closed, for logs and tests.</summary>
    public string? CloseReason { get; private set; }

    public bool IsIdle => _options.TimeProvider.GetElapsedTime(Interlocked.Read(ref _lastActivity)) > _options.ConnectionsMaxIdle && !_busy;

    private volatile bool _busy;

    public bool IsBusy => _busy;

    public async Task RunAsync(CancellationToken shutdown)
    {
        var stream = new NetworkStream(_socket, ownsSocket: false);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true, useZeroByteReads: true));
        try
        {
            while (!shutdown.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(shutdown).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (TryTakeFrame(ref buffer, out byte[]? frame, out int length))
                {
                    _busy = true;
                    try
                    {
                        await HandleFrameAsync(frame!, length, stream, shutdown).ConfigureAwait(false);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(frame!);
                        _busy = false;
                        Interlocked.Exchange(ref _lastActivity, _options.TimeProvider.GetTimestamp());
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    CloseReason ??= "client closed the connection";
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            CloseReason ??= "broker shutting down";
        }
        catch (ProtocolException e)
        {
            CloseReason = e.Message;
            _logger.LogInformation("Closing connection {Id} from {Remote}: {Reason}", Id, _socket.RemoteEndPoint, e.Message);
        }
        catch (Samsa.Storage.StorageException e)
        {
            // A handler let a storage failure out instead of answering KAFKA_STORAGE_ERROR: a bug to
            // log loudly, not a socket error to pass over in silence.
            CloseReason = e.Message;
            _logger.LogError(e, "Closing connection {Id}: a storage failure escaped its handler", Id);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            CloseReason ??= e.Message;
        }
        catch (Exception e)
        {
            // A handler bug: close this connection only; the broker keeps serving others.
            CloseReason = e.Message;
            _logger.LogError(e, "Closing connection {Id}: handler failed", Id);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            Close();
        }
    }

    /// <summary>Closes the socket, which ends <see cref="RunAsync"/> (used for idle and shutdown).</summary>
    public void Close(string? reason = null)
    {
        if (reason is not null)
            CloseReason ??= reason;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
    }

    /// <summary>
    /// Takes one whole frame off the buffer into a pooled array. The size is checked before any of
    /// the body is waited for, so an oversized or nonsensical frame never gets buffered.
    /// </summary>
    private bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out byte[]? frame, out int length)
    {
        frame = null;
        length = 0;
        if (buffer.Length < SizePrefix)
            return false;
        Span<byte> prefix = stackalloc byte[SizePrefix];
        buffer.Slice(0, SizePrefix).CopyTo(prefix);
        int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        // A raw SASL token (after SaslHandshake v0) has no request header.
        if (size < (_session.RawSaslTokens ? 0 : MinimumRequest))
            throw new ProtocolException($"Frame size {size} is too small for a request header.");
        if (size > _options.SocketRequestMaxBytes)
            throw new ProtocolException($"Frame of {size} bytes exceeds socket.request.max.bytes ({_options.SocketRequestMaxBytes}).");
        // Kafka's cap for clients nobody has vouched for yet, so unauthenticated uploads cannot
        // make the broker buffer socket.request.max.bytes each.
        if (size > _options.SaslServerMaxReceiveSize && _dispatcher.RequireAuthentication && !_session.Authenticated)
            throw new ProtocolException($"Frame of {size} bytes before authentication exceeds sasl.server.max.receive.size ({_options.SaslServerMaxReceiveSize}).");
        if (buffer.Length < SizePrefix + size)
            return false;
        frame = ArrayPool<byte>.Shared.Rent(size);
        buffer.Slice(SizePrefix, size).CopyTo(frame);
        length = size;
        buffer = buffer.Slice(SizePrefix + size);
        _metrics?.Received(SizePrefix + size);
        return true;
    }

    private async Task HandleFrameAsync(byte[] frame, int length, NetworkStream stream, CancellationToken shutdown)
    {
        if (_session.RawSaslTokens)
        {
            using (var token = RequestDispatcher.AuthenticateRaw(frame.AsSpan(0, length), _session))
            {
                if (token is not null)
                {
                    await stream.WriteAsync(token.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
                    _metrics?.Sent(token.WrittenCount);
                }
            }
            await CloseIfAuthenticationFailedAsync(shutdown).ConfigureAwait(false);
            return;
        }
        await SendResponseAsync(frame, length, stream, shutdown).ConfigureAwait(false);
        await CloseIfAuthenticationFailedAsync(shutdown).ConfigureAwait(false);
    }

    /// <summary>
    /// Kafka answers a failed authentication, then closes the connection after
    /// connection.failed.authentication.delay.ms, which slows down password guessing. Nothing else
    /// is read from the connection meanwhile.
    /// </summary>
    private async Task CloseIfAuthenticationFailedAsync(CancellationToken shutdown)
    {
        if (_session.AuthenticationFailure is not { } failure)
            return;
        if (_options.ConnectionFailedAuthenticationDelay > TimeSpan.Zero)
            await Task.Delay(_options.ConnectionFailedAuthenticationDelay, _options.TimeProvider, shutdown).ConfigureAwait(false);
        throw new ProtocolException($"SASL authentication failed: {failure}");
    }

    private async Task SendResponseAsync(byte[] frame, int length, NetworkStream stream, CancellationToken shutdown)
    {
        if (await _dispatcher.DispatchAsync(frame.AsMemory(0, length), _socket.RemoteEndPoint, Id, _session, shutdown).ConfigureAwait(false) is not { } response)
            return;
        using (response)
        {
            // Straight from the response buffer to the socket: one request at a time means nothing
            // else is being written, so no second buffer is needed.
            var output = response.Output;
            if (output.ReferencedBytes == 0)
            {
                // Not cancelled by shutdown: a request answered while the broker stops (a fetch
                // whose wait shutdown cut short) still gets its answer; closing the socket ends a stuck write.
                await stream.WriteAsync(output.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
                _metrics?.Sent(output.WrittenCount);
                return;
            }
            output.GetSegments(_segments);
            await SendAsync(output.WrittenCount + output.ReferencedBytes).ConfigureAwait(false);
            _metrics?.Sent(output.WrittenCount + output.ReferencedBytes);
        }
    }

    private readonly List<ArraySegment<byte>> _segments = [];

    /// <summary>One gather write (writev) of the frame's pieces: the header bytes and the record sets where the log read put them.</summary>
    private async Task SendAsync(int total)
    {
        // No cancellation here: an abandoned send could still be reading buffers we return to the
        // pool. Shutdown closes the socket, which ends the send. A stream socket's send completes
        // only once every byte is taken; anything less would corrupt the stream, so it closes it.
        int sent = await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
        if (sent != total)
            throw new IOException($"The socket took {sent} of a {total}-byte response.");
    }
}
