using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Samsa.Client.Errors;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Client.Internal.Network;

/// <summary>
/// One TCP connection to one broker. Requests are pipelined: Kafka answers in send order, so pending
/// requests sit in a FIFO and each response is checked against the head's correlation id. Any failure
/// (socket error, timeout, mismatched id) closes the connection and fails every pending request with a
/// retriable <see cref="KafkaNetworkException"/>, as Kafka's NetworkClient does.
/// </summary>
internal sealed partial class BrokerConnection : IAsyncDisposable
{
    private const int MaxResponseSize = 256 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly string _clientId;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentQueue<Pending> _pending = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Dictionary<ApiKey, short> _versions = [];
    private int _nextCorrelationId;
    private Exception? _failure;

    private BrokerConnection(Socket socket, string endpoint, string clientId, TimeSpan requestTimeout, TimeProvider time, ILogger logger)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Endpoint = endpoint;
        _clientId = clientId;
        _requestTimeout = requestTimeout;
        _time = time;
        _logger = logger;
    }

    public string Endpoint { get; }

    public bool IsConnected => _failure is null;

    /// <summary>Connects, starts the read loop and negotiates API versions.</summary>
    public static async ValueTask<BrokerConnection> ConnectAsync(
        string host, int port, string clientId, TimeSpan requestTimeout, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, ct).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new KafkaNetworkException($"Could not connect to broker {host}:{port}: {e.SocketErrorCode}. Check bootstrap.servers and that the broker is up.", e);
        }

        var connection = new BrokerConnection(socket, $"{host}:{port}", clientId, requestTimeout, time, logger);
        _ = connection.ReadLoopAsync();
        try
        {
            await connection.NegotiateVersionsAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return connection;
    }

    /// <summary>The version to use for <paramref name="key"/>: min(our highest, broker highest), if the ranges overlap.</summary>
    public bool TryGetVersion(ApiKey key, out short version) => _versions.TryGetValue(key, out version);

    public short GetVersion(ApiKey key) => TryGetVersion(key, out var v) ? v
        : throw new UnsupportedVersionException($"Broker {Endpoint} shares no version of {key} with this client; upgrade the broker or the client.");

    public async ValueTask<TResponse> SendAsync<TRequest, TResponse>(TRequest request, short version, CancellationToken ct)
        where TRequest : IRequest
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var pending = new Pending(version, static (body, v) => KafkaFrame.ReadResponse<TResponse>(body, v, out _));
        await WriteAsync(request, version, pending, ct).ConfigureAwait(false);
        using var timer = _time.CreateTimer(static s => { var (c, p) = ((BrokerConnection, Pending))s!; c.OnTimeout(p); },
            (this, pending), _requestTimeout, Timeout.InfiniteTimeSpan);
        await using var reg = ct.Register(static s => ((Pending)s!).Completion.TrySetCanceled(), pending).ConfigureAwait(false);
        return (TResponse)await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Sends a request that gets no response (Produce with acks=0).</summary>
    public ValueTask SendOneWayAsync(IRequest request, short version, CancellationToken ct) =>
        WriteAsync(request, version, null, ct);

    private async ValueTask WriteAsync(IRequest request, short version, Pending? pending, CancellationToken ct)
    {
        ThrowIfFailed();
        using var buffer = new PooledBufferWriter();
        await _writeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            int correlationId = _nextCorrelationId++;
            KafkaFrame.WriteRequest(buffer, request, version, correlationId, _clientId);
            if (pending is not null)
            {
                pending.CorrelationId = correlationId;
                _pending.Enqueue(pending);
            }
            await _stream.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Fail(new KafkaNetworkException($"Connection to {Endpoint} failed while sending {request.ApiKey}.", e));
            ThrowIfFailed();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var sizeBuffer = new byte[4];
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                await _stream.ReadExactlyAsync(sizeBuffer, _closed.Token).ConfigureAwait(false);
                int size = BinaryPrimitives.ReadInt32BigEndian(sizeBuffer);
                if (size < 4 || size > MaxResponseSize)
                    throw new ProtocolException($"Broker {Endpoint} sent a response frame of {size} bytes.");
                var body = new byte[size];
                await _stream.ReadExactlyAsync(body, _closed.Token).ConfigureAwait(false);
                int correlationId = BinaryPrimitives.ReadInt32BigEndian(body);
                if (!_pending.TryDequeue(out var pending) || pending.CorrelationId != correlationId)
                    throw new ProtocolException($"Broker {Endpoint} answered correlation id {correlationId} out of order.");
                try
                {
                    pending.Completion.TrySetResult(pending.Decode(body, pending.Version));
                }
                catch (Exception e) when (e is ProtocolException or IndexOutOfRangeException or ArgumentException)
                {
                    pending.Completion.TrySetException(new KafkaException(ErrorCode.CorruptMessage, $"Could not decode a response from {Endpoint}.", e));
                }
            }
        }
        catch (Exception e)
        {
            Fail(e as KafkaException ?? new KafkaNetworkException($"Connection to {Endpoint} closed: {e.Message}", e));
        }
    }

    private bool OnTimeout(Pending pending)
    {
        if (pending.Completion.Task.IsCompleted)
            return false;
        Fail(new KafkaTimeoutException($"No response from {Endpoint} within request.timeout.ms ({_requestTimeout.TotalMilliseconds} ms); the connection was closed."));
        return true;
    }

    private void Fail(Exception error)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is not null)
            return;
        LogConnectionFailed(_logger, Endpoint, error.Message);
        _closed.Cancel();
        _socket.Dispose();
        while (_pending.TryDequeue(out var p))
            p.Completion.TrySetException(error);
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } f)
            throw f is KafkaTimeoutException ? new KafkaNetworkException($"Connection to {Endpoint} is closed.", f) : f;
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new KafkaNetworkException($"Connection to {Endpoint} was closed by the client."));
        await _stream.DisposeAsync().ConfigureAwait(false);
        _writeGate.Dispose();
        _closed.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Endpoint} failed: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, string endpoint, string reason);

    private sealed class Pending(short version, Func<ReadOnlyMemory<byte>, short, object> decode)
    {
        public short Version { get; } = version;
        public Func<ReadOnlyMemory<byte>, short, object> Decode { get; } = decode;
        public int CorrelationId { get; set; }
        public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
