using System.Net;
using System.Text;
using Confluent.Kafka;
using Samsa.Protocol.Messages;
using Samsa.TestKit;
using ApiKey = Samsa.Protocol.ApiKey;

namespace Samsa.Interop.Tests.Broker;

public class SaslTests
{
    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task Sasl_plain_clients_authenticate_and_their_handshake_bytes_decode()
    {
        int proxyPort = FreePort();
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            AdvertisedHost = "127.0.0.1",
            AdvertisedPort = proxyPort,
            SaslPlainUsers = new Dictionary<string, string> { ["alice"] = "s3cret" },
        });
        await using var proxy = new FrameCaptureProxy(new IPEndPoint(IPAddress.Loopback, broker.Broker.Port), proxyPort);
        ProducerConfig Config(string password) => new()
        {
            BootstrapServers = $"127.0.0.1:{proxyPort}",
            SecurityProtocol = SecurityProtocol.SaslPlaintext,
            SaslMechanism = SaslMechanism.Plain,
            SaslUsername = "alice",
            SaslPassword = password,
            MessageTimeoutMs = 5000,
        };

        using (var producer = new ProducerBuilder<Null, string>(Config("s3cret")).Build())
        {
            var d = await producer.ProduceAsync("secured", new Message<Null, string> { Value = "ok" });
            Assert.Equal(0, d.Offset.Value);
        }
        using (var producer = new ProducerBuilder<Null, string>(Config("wrong")).Build())
        {
            var ex = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("secured", new Message<Null, string> { Value = "no" }));
            Assert.NotEqual(ErrorCode.NoError, ex.Error.Code);
        }

        var handshake = (SaslHandshakeRequest)KafkaFrame.ReadRequest(proxy.Requests((short)ApiKey.SaslHandshake).First().Body, out _);
        Assert.Equal("PLAIN", handshake.Mechanism);
        var authenticate = (SaslAuthenticateRequest)KafkaFrame.ReadRequest(proxy.Requests((short)ApiKey.SaslAuthenticate).First().Body, out _);
        Assert.Equal("\0alice\0s3cret", Encoding.UTF8.GetString(authenticate.AuthBytes));
    }
}
