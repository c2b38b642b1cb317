using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Samsa.TestKit;

/// <summary>One Kafka frame seen by the proxy (without its 4-byte size).</summary>
public sealed record CapturedFrame(int Connection, bool FromClient, byte[] Body)
{
    public short ApiKey => BinaryPrimitives.ReadInt16BigEndian(Body);

    public short ApiVersion => BinaryPrimitives.ReadInt16BigEndian(Body.AsSpan(2));
}

/// <summary>
/// A loopback TCP proxy in front of a Kafka broker that records every request and response frame,
/// so tests can decode exactly the bytes a real client sent. Pure pass-through otherwise.
/// Clients must be told the proxy's address only for bootstrap; the broker's Metadata still
/// points at itself, so put the proxy in front with <c>advertised.listeners</c> set to the proxy.
/// </summary>
public sealed class FrameCaptureProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private int _connections;
    private readonly ConcurrentDictionary<int, (TcpClient Client, TcpClient Server)> _open = new();
    private volatile bool _severed;

    private readonly Func<CapturedFrame, byte[], byte[]>? _rewriteResponse;

    /// <param name="rewriteResponse">Optional: given the request and the response body, returns the
    /// body to forward (e.g. Metadata with broker addresses pointing back at proxies).</param>
    public FrameCaptureProxy(IPEndPoint upstream, int port = 0, Func<CapturedFrame, byte[], byte[]>? rewriteResponse = null)
    {
        _upstream = upstream;
        _rewriteResponse = rewriteResponse;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<CapturedFrame> Frames { get; } = new();

    public IEnumerable<CapturedFrame> Requests(short apiKey) => Frames.Where(f => f.FromClient && f.ApiKey == apiKey);

    /// <summary>
    /// Cuts every open connection and closes each new one as soon as it is accepted: to the broker,
    /// the client behind the proxy has died without a word (no leave, no more heartbeats), while the
    /// client sees its broker vanish and fails fast instead of hanging on requests.
    /// </summary>
    public void Sever()
    {
        _severed = true;
        foreach (var (id, pair) in _open)
        {
            if (_open.TryRemove(id, out _))
            {
                pair.Client.Dispose();
                pair.Server.Dispose();
            }
        }
    }

    /// <summary>Lets new connections through again after <see cref="Sever"/>: the client's network is back.</summary>
    public void Heal() => _severed = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            if (_severed)
            {
                client.Dispose();
                continue;
            }
            int id = Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using var c = client;
                using var server = new TcpClient();
                _open[id] = (c, server);
                try
                {
                    await server.ConnectAsync(_upstream, _stop.Token);
                    // Sever may have run between the accept and the registration above.
                    if (_severed)
                        return;
                    var inFlight = new ConcurrentDictionary<int, CapturedFrame>();
                    var a = Pump(c.GetStream(), server.GetStream(), id, fromClient: true, inFlight);
                    var b = Pump(server.GetStream(), c.GetStream(), id, fromClient: false, inFlight);
                    await Task.WhenAny(a, b);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
                {
                }
                finally
                {
                    _open.TryRemove(id, out _);
                }
            });
        }
    }

    private async Task Pump(NetworkStream from, NetworkStream to, int connection, bool fromClient, ConcurrentDictionary<int, CapturedFrame> inFlight)
    {
        var size = new byte[4];
        try
        {
            while (true)
            {
                await from.ReadExactlyAsync(size, _stop.Token);
                var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
                await from.ReadExactlyAsync(body, _stop.Token);
                var frame = new CapturedFrame(connection, fromClient, body);
                Frames.Enqueue(frame);
                int correlation = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(fromClient ? 4 : 0));
                if (fromClient)
                {
                    inFlight[correlation] = frame;
                }
                else if (_rewriteResponse is not null && inFlight.TryRemove(correlation, out var request))
                {
                    body = _rewriteResponse(request, body);
                    BinaryPrimitives.WriteInt32BigEndian(size, body.Length);
                }
                await to.WriteAsync(size, _stop.Token);
                await to.WriteAsync(body, _stop.Token);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        _stop.Dispose();
    }
}
