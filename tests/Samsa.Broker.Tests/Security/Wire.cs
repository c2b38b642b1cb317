using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Broker.Tests.Security;

/// <summary>One raw connection to a listener, plain or TLS, speaking our generated messages, for tests that must see the broker's exact answers and closes.</summary>
internal sealed class Wire : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private int _correlation;

    private Wire(TcpClient client, Stream stream)
    {
        _client = client;
        _stream = stream;
    }

    public Stream Stream => _stream;

    public static async Task<Wire> ConnectAsync(int port, X509Certificate2? ca = null, X509Certificate2? clientCertificate = null)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        if (ca is null)
            return new Wire(client, client.GetStream());
        var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return cert is X509Certificate2 c && chain.Build(c);
            },
        };
        await ssl.AuthenticateAsClientAsync(options).WaitAsync(TimeSpan.FromSeconds(30));
        return new Wire(client, ssl);
    }

    public async Task<TResponse> SendAsync<TResponse>(IRequest request, short version)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        await WriteAsync(request, version);
        var body = await ReadFrameAsync() ?? throw new IOException($"The broker closed the connection instead of answering {request.ApiKey}.");
        var response = KafkaFrame.ReadResponse<TResponse>(body, version, out int correlation);
        Assert.Equal(_correlation, correlation);
        return response;
    }

    public async Task WriteAsync(IRequest request, short version)
    {
        using var buffer = new PooledBufferWriter();
        KafkaFrame.WriteRequest(buffer, request, version, ++_correlation, "wire-test");
        await _stream.WriteAsync(buffer.WrittenMemory);
    }

    /// <summary>A size-prefixed frame of raw bytes (a v0 SASL token).</summary>
    public async Task WriteTokenAsync(ReadOnlyMemory<byte> token)
    {
        var frame = new byte[4 + token.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, token.Length);
        token.CopyTo(frame.AsMemory(4));
        await _stream.WriteAsync(frame);
    }

    public async Task WriteRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>The next frame's body, or null when the broker closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync()
    {
        var size = new byte[4];
        if (!await ReadExactly(size))
            return null;
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        return await ReadExactly(body) ? body : null;
    }

    /// <summary>True once the broker closed the connection (end of stream or a reset) with nothing more sent.</summary>
    public async Task<bool> IsClosedByBrokerAsync()
    {
        var one = new byte[1];
        try
        {
            return await _stream.ReadAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> ReadExactly(byte[] buffer)
    {
        int read = 0;
        try
        {
            while (read < buffer.Length)
            {
                int n = await _stream.ReadAsync(buffer.AsMemory(read)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                if (n == 0)
                    return false;
                read += n;
            }
        }
        catch (IOException)
        {
            return false;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
