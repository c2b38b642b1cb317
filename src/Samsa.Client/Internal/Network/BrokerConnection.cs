using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Client.Internal.Network;

/// <summary>
/// One connection to one broker: requests are pipelined (several in flight, matched to responses
/// by correlation id), versions are negotiated once with ApiVersions, and a request that outlives
/// request.timeout.ms fails and closes the connection, as Kafka clients do. Thread-safe: the
/// heartbeat and the fetcher may share it without sharing a lock with the poll loop.
/// </summary>
internal sealed class BrokerConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly string _clientId;
    private readonly TimeProvider _time;
    private readonly TimeSpan _requestTimeout;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<ResponseBuffer>> _pending = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Task _reader;
    private Dictionary<ApiKey, (short Min, short Max)> _brokerVersions = [];
    private IReadOnlyDictionary<ApiKey, short> _maxVersions = new Dictionary<ApiKey, short>();
    private int _correlation;
    private Exception? _failure;

    private BrokerConnection(Socket socket, Stream stream, string clientId, TimeProvider time, TimeSpan requestTimeout)
    {
        _socket = socket;
        _stream = stream;
        _clientId = clientId;
        _time = time;
        _requestTimeout = requestTimeout;
        _reader = Task.Run(ReadLoopAsync);
    }

    public string Endpoint { get; private init; } = "";

    /// <summary>True once the connection failed or was disposed; callers open a new one.</summary>
    public bool IsClosed => Volatile.Read(ref _failure) is not null || (_expiresAt != 0 && _time.GetTimestamp() >= _expiresAt);

    /// <summary>When the SASL session's lifetime (KIP-368) makes this connection unusable; 0: never.</summary>
    private long _expiresAt;

    /// <summary>Why the connection closed (the first failure), for logs.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public static async Task<BrokerConnection> ConnectAsync(string host, int port, string clientId, TimeProvider time, TimeSpan requestTimeout, CancellationToken cancellationToken,
        IReadOnlyDictionary<ApiKey, short>? maxVersions = null, ClientSecurity? security = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new KafkaConnectionException($"Cannot connect to {host}:{port}: {e.Message}", e);
        }
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (security is { UsesTls: true })
        {
            try
            {
                stream = await security.HandshakeAsync(stream, host, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw new KafkaConnectionException($"TLS handshake with {host}:{port} did not finish: {e.Message}", e);
            }
        }
        var connection = new BrokerConnection(socket, stream, clientId, time, requestTimeout) { Endpoint = $"{host}:{port}" };
        if (maxVersions is not null)
            connection._maxVersions = maxVersions;
        try
        {
            await connection.NegotiateAsync(cancellationToken).ConfigureAwait(false);
            if (security is { UsesSasl: true })
            {
                var lifetime = await security.AuthenticateAsync(connection, cancellationToken).ConfigureAwait(false);
                // KIP-368: the broker closes a connection whose session ran out; we stop using it a
                // little before (at 85%, with Java's jitter) and open a fresh one instead.
                if (lifetime > TimeSpan.Zero)
                    connection._expiresAt = time.GetTimestamp() + (long)(lifetime.TotalSeconds * (0.85 + Random.Shared.NextDouble() * 0.05) * time.TimestampFrequency);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return connection;
    }

    /// <summary>
    /// ApiVersions with our newest version; a broker that does not know it answers v0 with
    /// UNSUPPORTED_VERSION and its ranges (KIP-511), and we ask again with the newest version both
    /// know (v0 if it did not list ApiVersions, as librdkafka does).
    /// </summary>
    private async Task NegotiateAsync(CancellationToken cancellationToken)
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "samsa-dotnet", ClientSoftwareVersion = "0.1" };
        var response = await SendAsync<ApiVersionsResponse>(request, ApiVersionsRequest.HighestVersion, cancellationToken).ConfigureAwait(false);
        if (response.ErrorCode == ErrorCode.UnsupportedVersion)
        {
            short retry = response.ApiKeys.FirstOrDefault(k => k.ApiKey == (short)ApiKey.ApiVersions) is { } own
                ? Math.Min(own.MaxVersion, ApiVersionsRequest.HighestVersion)
                : (short)0;
            response = await SendAsync<ApiVersionsResponse>(request, retry, cancellationToken).ConfigureAwait(false);
        }
        if (response.ErrorCode != ErrorCode.None)
            throw new KafkaException(response.ErrorCode, $"{Endpoint} refused ApiVersions: {response.ErrorCode}.");
        _brokerVersions = response.ApiKeys.ToDictionary(k => (ApiKey)k.ApiKey, k => (k.MinVersion, k.MaxVersion));
    }

    /// <summary>The newest version of an api both sides speak; false when there is none.</summary>
    public bool TryGetVersion(ApiKey key, out short version)
    {
        version = -1;
        if (!_brokerVersions.TryGetValue(key, out var theirs) || !ApiMessages.TryGetVersions(key, out short ourMin, out short ourMax))
            return false;
        short high = Math.Min(ourMax, theirs.Max), low = Math.Max(ourMin, theirs.Min);
        if (_maxVersions.TryGetValue(key, out short cap))
            high = Math.Min(high, cap);
        if (high < low)
            return false;
        version = high;
        return true;
    }

    /// <summary>Sends with the negotiated version of the request's api.</summary>
    public Task<TResponse> SendAsync<TResponse>(IRequest request, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse> =>
        TryGetVersion(request.ApiKey, out short version)
            ? SendAsync<TResponse>(request, version, cancellationToken)
            : throw new KafkaException(ErrorCode.UnsupportedVersion, $"{Endpoint} shares no version of {request.ApiKey} with this client.");

    public Task<TResponse> SendAsync<TResponse>(IRequest request, short version, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse> =>
        SendAsync<TResponse>(request, version, _requestTimeout, cancellationToken);

    /// <summary>With a longer deadline than request.timeout.ms, for requests the broker parks (JoinGroup, SyncGroup).</summary>
    public Task<TResponse> SendAsync<TResponse>(IRequest request, TimeSpan timeout, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse> =>
        TryGetVersion(request.ApiKey, out short version)
            ? SendAsync<TResponse>(request, version, timeout, cancellationToken)
            : throw new KafkaException(ErrorCode.UnsupportedVersion, $"{Endpoint} shares no version of {request.ApiKey} with this client.");

    public async Task<TResponse> SendAsync<TResponse>(IRequest request, short version, TimeSpan timeout, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var (response, buffer) = await SendLeasedAsync<TResponse>(request, version, timeout, cancellationToken).ConfigureAwait(false);
        buffer.Release();
        return response;
    }

    /// <summary>
    /// For responses that keep slices of their frame (Fetch's record sets): the caller owns one
    /// reference to the pooled frame and releases it when nothing reads the slices any more.
    /// </summary>
    public async Task<(TResponse Response, ResponseBuffer Buffer)> SendLeasedAsync<TResponse>(IRequest request, short version, TimeSpan timeout, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        if (_failure is not null)
            throw new KafkaConnectionException($"Connection to {Endpoint} is closed: {_failure.Message}", _failure);
        int correlation = Interlocked.Increment(ref _correlation);
        var pending = new TaskCompletionSource<ResponseBuffer>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[correlation] = pending;
        // Fail may have swept the pending requests between the check above and the line above:
        // this one would then wait for an answer that cannot come.
        if (Volatile.Read(ref _failure) is { } failed && _pending.TryRemove(correlation, out _))
            throw new KafkaConnectionException($"Connection to {Endpoint} is closed: {failed.Message}", failed);
        // A failed write fails the pending entry too (Fail completes every pending request).
        await WriteAsync(request, version, correlation, throwOnFailure: false, cancellationToken).ConfigureAwait(false);
        ResponseBuffer body;
        try
        {
            body = await pending.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Kafka clients treat a timed-out request as a broken connection.
            Fail(new TimeoutException($"{request.ApiKey} to {Endpoint} got no answer within {timeout.TotalMilliseconds} ms{(timeout == _requestTimeout ? " (request.timeout.ms)" : "")}."));
            throw new KafkaConnectionException(_failure!.Message, _failure);
        }
        finally
        {
            _pending.TryRemove(correlation, out _);
        }
        try
        {
            return (KafkaFrame.ReadResponse<TResponse>(body.Memory, version, out _), body);
        }
        catch
        {
            body.Release();
            throw;
        }
    }

    /// <summary>A request the broker does not answer (Produce with acks=0): written, not awaited.</summary>
    public Task SendOnewayAsync(IRequest request, short version, CancellationToken cancellationToken) =>
        WriteAsync(request, version, Interlocked.Increment(ref _correlation), throwOnFailure: true, cancellationToken);

    private async Task WriteAsync(IRequest request, short version, int correlation, bool throwOnFailure, CancellationToken cancellationToken)
    {
        if (_failure is not null)
            throw new KafkaConnectionException($"Connection to {Endpoint} is closed: {_failure.Message}", _failure);
        using var frame = new PooledBufferWriter(256);
        KafkaFrame.WriteRequest(frame, request, version, correlation, _clientId);
        try
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException e)
        {
            // Disposed by another user of the connection since the check above.
            Fail(e);
            if (throwOnFailure)
                throw new KafkaConnectionException($"Connection to {Endpoint} is closed: {_failure!.Message}", e);
            return;
        }
        try
        {
            await _stream.WriteAsync(frame.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Fail(e);
            if (throwOnFailure)
                throw new KafkaConnectionException($"Connection to {Endpoint} failed: {_failure!.Message}", e);
        }
        finally
        {
            try
            {
                _writeLock.Release();
            }
            catch (ObjectDisposedException)
            {
                // Disposed while this write ran; nobody waits for the lock any more.
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        var size = new byte[4];
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                await _stream.ReadExactlyAsync(size, _closed.Token).ConfigureAwait(false);
                int length = BinaryPrimitives.ReadInt32BigEndian(size);
                if (length < 4 || length > 1 << 30)
                    throw new ProtocolException($"Response frame of {length} bytes from {Endpoint}.");
                var body = new ResponseBuffer(length);
                try
                {
                    await _stream.ReadExactlyAsync(body.Memory, _closed.Token).ConfigureAwait(false);
                }
                catch
                {
                    body.Release();
                    throw;
                }
                int correlation = BinaryPrimitives.ReadInt32BigEndian(body.Memory.Span);
                if (!_pending.TryRemove(correlation, out var pending) || !pending.TrySetResult(body))
                    body.Release(); // the request was cancelled or timed out
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return; // already disposed: everything below has been done
        }
        foreach (var (id, pending) in _pending)
        {
            if (_pending.TryRemove(id, out _))
                pending.TrySetException(new KafkaConnectionException($"Connection to {Endpoint} failed: {_failure!.Message}", _failure));
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new ObjectDisposedException(nameof(BrokerConnection)));
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _writeLock.Dispose();
        _closed.Dispose();
    }
}
