using System.Net;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.TestKit;

namespace Samsa.Interop.Tests.Groups;

/// <summary>
/// One <see cref="FrameCaptureProxy"/> per broker of a cluster, opened as the client learns of each
/// broker: Metadata and FindCoordinator answers are rewritten to point at the proxies, so every
/// connection a client bootstrapped here makes goes through one, and <see cref="Sever"/> can cut
/// that client off from the whole cluster at once. Works for any broker count and any cluster
/// (librdkafka's mock, ours), since it rewrites answers instead of relying on advertised listeners.
/// </summary>
internal sealed class ProxiedCluster : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Host, int Port), FrameCaptureProxy> _proxies = [];
    private bool _severed;

    public ProxiedCluster(string bootstrap)
    {
        string first = bootstrap.Split(',')[0];
        int colon = first.LastIndexOf(':');
        int port = ProxyFor(first[..colon], int.Parse(first[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Port;
        Bootstrap = $"127.0.0.1:{port}";
    }

    public string Bootstrap { get; }

    /// <summary>Requests of <paramref name="apiKey"/> the client sent through any of the proxies.</summary>
    public IEnumerable<CapturedFrame> Requests(ApiKey apiKey)
    {
        lock (_gate)
            return [.. _proxies.Values.SelectMany(p => p.Requests((short)apiKey))];
    }

    /// <summary>Cuts the client off every broker, including brokers it has not connected to yet.</summary>
    public void Sever()
    {
        lock (_gate)
        {
            _severed = true;
            foreach (var proxy in _proxies.Values)
                proxy.Sever();
        }
    }

    /// <summary>Lets the client reach the cluster again.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            _severed = false;
            foreach (var proxy in _proxies.Values)
                proxy.Heal();
        }
    }

    private FrameCaptureProxy ProxyFor(string host, int port)
    {
        lock (_gate)
        {
            if (!_proxies.TryGetValue((host, port), out var proxy))
            {
                var address = IPAddress.TryParse(host, out var parsed) ? parsed : IPAddress.Loopback;
                proxy = new FrameCaptureProxy(new IPEndPoint(address, port), 0, Rewrite);
                if (_severed)
                    proxy.Sever();
                _proxies[(host, port)] = proxy;
            }
            return proxy;
        }
    }

    private byte[] Rewrite(CapturedFrame request, byte[] body) =>
        RewriteAddresses(request, body, (host, port) => ProxyFor(host, port).Port);

    /// <summary>Points the broker addresses of Metadata and FindCoordinator answers at the proxy ports <paramref name="proxyPort"/> gives.</summary>
    public static byte[] RewriteAddresses(CapturedFrame request, byte[] body, Func<string, int, int> proxyPort)
    {
        short version = request.ApiVersion;
        switch ((ApiKey)request.ApiKey)
        {
            case ApiKey.Metadata:
            {
                var m = KafkaFrame.ReadResponse<MetadataResponse>(body, version, out int correlation);
                foreach (var b in m.Brokers)
                    (b.Host, b.Port) = ("127.0.0.1", proxyPort(b.Host, b.Port));
                return Encode(m, version, correlation);
            }
            case ApiKey.FindCoordinator:
            {
                var f = KafkaFrame.ReadResponse<FindCoordinatorResponse>(body, version, out int correlation);
                if (f.Port > 0)
                    (f.Host, f.Port) = ("127.0.0.1", proxyPort(f.Host, f.Port));
                foreach (var c in f.Coordinators.Where(c => c.Port > 0))
                    (c.Host, c.Port) = ("127.0.0.1", proxyPort(c.Host, c.Port));
                return Encode(f, version, correlation);
            }
            default:
                return body;
        }
    }

    private static byte[] Encode(IResponse response, short version, int correlation)
    {
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteResponse(buffer, response, version, correlation);
        return buffer.WrittenSpan[KafkaFrame.SizePrefixLength..].ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        List<FrameCaptureProxy> proxies;
        lock (_gate)
            proxies = [.. _proxies.Values];
        foreach (var proxy in proxies)
            await proxy.DisposeAsync();
    }
}
