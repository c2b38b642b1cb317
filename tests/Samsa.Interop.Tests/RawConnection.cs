using System.Buffers.Binary;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Interop.Tests;

/// <summary>One connection speaking our generated messages, for tests that must see the broker's exact answers.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly TcpClient _client = new();
    private int _correlation;

    private RawConnection()
    {
    }

    public static async Task<RawConnection> ConnectAsync(string bootstrap)
    {
        var connection = new RawConnection();
        int colon = bootstrap.LastIndexOf(':');
        await connection._client.ConnectAsync(bootstrap[..colon], int.Parse(bootstrap[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return connection;
    }

    public async Task<TResponse> SendAsync<TResponse>(IRequest request, short version)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var stream = _client.GetStream();
        int correlation = ++_correlation;
        using (var buffer = new PooledBufferWriter())
        {
            KafkaFrame.WriteRequest(buffer, request, version, correlation, "raw-test");
            await stream.WriteAsync(buffer.WrittenMemory);
        }
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var response = KafkaFrame.ReadResponse<TResponse>(body, version, out int got);
        Assert.Equal(correlation, got);
        return response;
    }

    /// <summary>Writes bytes as they are: a raw SASL token frame, or a frame the broker must refuse.</summary>
    public async Task WriteAsync(byte[] bytes) => await _client.GetStream().WriteAsync(bytes);

    /// <summary>Reads one size-prefixed frame without a response header (a raw SASL token).</summary>
    public async Task<byte[]> ReadRawFrameAsync()
    {
        var stream = _client.GetStream();
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return body;
    }

    /// <summary>True once the broker has closed the connection (end of stream or reset) with nothing more sent.</summary>
    public async Task<bool> ClosedByBrokerAsync()
    {
        try
        {
            return await _client.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _client.Dispose();
}
