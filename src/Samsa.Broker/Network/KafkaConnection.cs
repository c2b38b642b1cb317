using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Metrics;
using Samsa.Protocol;

namespace Samsa.Broker.Network;

/// <summary>
/// One client connection. Like Kafka's socket server, it handles one request at a time: the next
/// frame is not read until the previous response is written, which keeps responses in request
/// order and a producer's batches in the order it sent them. On a TLS listener the handshake runs
/// here, on the connection's own task, bounded by ssl.handshake.timeout.ms, so a slow or garbage
/// handshake holds only itself; bytes then go through the <see cref="ConnectionTransport"/>.
/// </summary>
internal sealed class KafkaConnection
{
    private const int SizePrefix = 4;
    private const int MinimumRequest = 8; // api key, version, correlation id

    private readonly Socket _socket;
    private readonly Listener _listener;
    private readonly RequestDispatcher _dispatcher;
    private readonly BrokerOptions _options;
    private readonly ILogger _logger;
    private long _lastActivity;
    private ConnectionSession _session;
    private readonly BrokerMetrics? _metrics;

    public KafkaConnection(long id, Socket socket, Listener listener, RequestDispatcher dispatcher, BrokerOptions options, ILogger logger, BrokerMetrics? metrics = null)
    {
        Id = id;
        _metrics = metrics;
        _socket = socket;
        _listener = listener;
        _dispatcher = dispatcher;
        _options = options;
        _logger = logger;
        _lastActivity = options.TimeProvider.GetTimestamp();
        _session = NewSession(Security.KafkaPrincipal.Anonymous);
    }

    private ConnectionSession NewSession(Security.KafkaPrincipal tlsPrincipal) => new()
    {
        ListenerName = _listener.Name,
        SecurityProtocol = _listener.Protocol,
        Advertised = (_listener.AdvertisedHost, _listener.AdvertisedPort),
        TlsPrincipal = tlsPrincipal,
        Sasl = _listener.Sasl is { } sasl ? new Security.Sasl.SaslServerSession(sasl) : null,
        WhenClientGone = WhenClientGoneAsync,
    };

    private readonly byte[] _probe = new byte[1];

    /// <summary>
    /// A peek (nothing is consumed) that ends on the client's FIN or a reset. If the client sends
    /// another request instead, it is alive: the task then waits for the token. (Over TLS a
    /// client's close_notify arrives before its FIN and reads as "alive"; the wait then simply runs out.)
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

    /// <summary>In a TLS handshake, its timeout running (for tests).</summary>
    public bool IsHandshaking { get; private set; }

    public async Task RunAsync(CancellationToken shutdown)
    {
        ConnectionTransport? transport = null;
        PipeReader? reader = null;
        try
        {
            transport = await OpenTransportAsync(shutdown).ConfigureAwait(false);
            if (transport is null)
                return;
            reader = PipeReader.Create(transport.Stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true, useZeroByteReads: true));
            bool open = true;
            while (open && !shutdown.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(shutdown).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (open && TryTakeFrame(ref buffer, out byte[]? frame, out int length))
                {
                    _busy = true;
                    try
                    {
                        open = _session.Sasl is { ExpectsRawToken: true } sasl
                            ? await HandleRawTokenAsync(sasl, frame!, length, transport).ConfigureAwait(false)
                            : await HandleFrameAsync(frame!, length, transport, shutdown).ConfigureAwait(false);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(frame!);
                        _busy = false;
                        Interlocked.Exchange(ref _lastActivity, _options.TimeProvider.GetTimestamp());
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (open && (result.IsCompleted || result.IsCanceled))
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
            if (reader is not null)
                await reader.CompleteAsync().ConfigureAwait(false);
            if (transport is not null)
                await transport.DisposeAsync().ConfigureAwait(false);
            Close();
        }
    }

    /// <summary>The listener's transport: the socket as it is, or TLS once the handshake is done; null when the handshake failed.</summary>
    private async Task<ConnectionTransport?> OpenTransportAsync(CancellationToken shutdown)
    {
        if (_listener.Tls is not { } tls)
            return new PlaintextTransport(_socket);
        var ssl = new SslStream(new NetworkStream(_socket, ownsSocket: false), leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(_options.SslHandshakeTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, shutdown);
        IsHandshaking = true;
        try
        {
            await ssl.AuthenticateAsServerAsync(tls.Options, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            CloseReason = timeout.IsCancellationRequested
                ? $"TLS handshake not finished within ssl.handshake.timeout.ms ({_options.SslHandshakeTimeout.TotalMilliseconds} ms)"
                : $"TLS handshake failed: {e.Message}";
            _logger.LogDebug("Connection {Id} from {Remote} on {Listener}: {Reason}", Id, _socket.RemoteEndPoint, _listener.Name, CloseReason);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        finally
        {
            IsHandshaking = false;
        }
        if (tls.PrincipalOf(ssl.RemoteCertificate) is not { } principal)
        {
            CloseReason = "no ssl.principal.mapping.rules rule matches the client certificate's subject";
            _logger.LogInformation("Connection {Id} from {Remote}: {Reason}", Id, _socket.RemoteEndPoint, CloseReason);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        _session = NewSession(principal);
        return new TlsTransport(ssl);
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
    /// the body is waited for, so an oversized or nonsensical frame never gets buffered; before
    /// SASL authentication the limit is sasl.server.max.receive.size.
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
        var sasl = _session.Sasl;
        // A raw SASL token (after a v0 handshake) has no request header to be at least 8 bytes long.
        if (size < (sasl is { ExpectsRawToken: true } ? 0 : MinimumRequest))
            throw new ProtocolException($"Frame size {size} is too small for a request header.");
        if (sasl is { Authenticating: true } && size > _listener.Sasl!.MaxReceiveSize)
            throw new ProtocolException($"Frame of {size} bytes before SASL authentication exceeds sasl.server.max.receive.size ({_listener.Sasl.MaxReceiveSize}).");
        if (size > _options.SocketRequestMaxBytes)
            throw new ProtocolException($"Frame of {size} bytes exceeds socket.request.max.bytes ({_options.SocketRequestMaxBytes}).");
        if (buffer.Length < SizePrefix + size)
            return false;
        frame = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        buffer.Slice(SizePrefix, size).CopyTo(frame);
        length = size;
        buffer = buffer.Slice(SizePrefix + size);
        _metrics?.Received(SizePrefix + size);
        return true;
    }

    /// <summary>Handles one request; false when the connection must close (a failed authentication, after its answer).</summary>
    private async Task<bool> HandleFrameAsync(byte[] frame, int length, ConnectionTransport transport, CancellationToken shutdown)
    {
        var outgoing = await _dispatcher.DispatchAsync(frame.AsMemory(0, length), _socket.RemoteEndPoint, Id, _session, shutdown).ConfigureAwait(false);
        if (_session.Sasl?.Failure is not null)
            await DelayFailureAsync().ConfigureAwait(false);
        if (outgoing is { } response)
        {
            using (response)
            {
                // Straight from the response buffer to the transport: one request at a time means
                // nothing else is being written, so no second buffer is needed.
                await transport.SendAsync(response.Output).ConfigureAwait(false);
                _metrics?.Sent(response.Output.WrittenCount + response.Output.ReferencedBytes);
            }
        }
        if (_session.Sasl?.Failure is { } failed)
        {
            CloseReason = $"SASL authentication failed: {failed}";
            _logger.LogInformation("Closing connection {Id} from {Remote} on {Listener}: {Reason}", Id, _socket.RemoteEndPoint, _listener.Name, CloseReason);
            return false;
        }
        return true;
    }

    /// <summary>A v0 SASL token: the reply goes back size-prefixed, as Kafka does; a failure closes after the delay, with no answer (v0 has none).</summary>
    private async Task<bool> HandleRawTokenAsync(Security.Sasl.SaslServerSession sasl, byte[] frame, int length, ConnectionTransport transport)
    {
        var reply = sasl.RawToken(frame.AsSpan(0, length));
        if (reply is null)
        {
            await DelayFailureAsync().ConfigureAwait(false);
            CloseReason = $"SASL authentication failed: {sasl.Failure}";
            _logger.LogInformation("Closing connection {Id} from {Remote} on {Listener}: {Reason}", Id, _socket.RemoteEndPoint, _listener.Name, CloseReason);
            return false;
        }
        var framed = new byte[SizePrefix + reply.Length];
        BinaryPrimitives.WriteInt32BigEndian(framed, reply.Length);
        reply.CopyTo(framed, SizePrefix);
        await transport.SendAsync(framed).ConfigureAwait(false);
        _metrics?.Sent(framed.Length);
        return true;
    }

    /// <summary>connection.failed.authentication.delay.ms (KIP-306): slows password guessing down; only this connection waits.</summary>
    private Task DelayFailureAsync() =>
        _listener.Sasl is { FailedAuthenticationDelay: var delay } && delay > TimeSpan.Zero
            ? Task.Delay(delay, _options.TimeProvider)
            : Task.CompletedTask;
}
