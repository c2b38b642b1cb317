using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using Samsa.Broker;
using Samsa.Broker.Configuration;
using Samsa.Protocol.Messages;
using ProtocolError = Samsa.Protocol.ErrorCode;

namespace Samsa.Interop.Tests.Broker;

/// <summary>SASL_PLAINTEXT with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 against real clients and raw frames.</summary>
public class SaslMechanismTests
{
    private static BrokerOptions Secured(BrokerOptions o) =>
        BrokerConfig.Apply(o with
        {
            SaslPlainUsers = new Dictionary<string, string> { ["alice"] = "s3cret" },
            GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100),
        }, "sasl.scram.users", "alice:s3cret");

    private static ClientConfig Config(TempBroker broker, SaslMechanism mechanism, string password) => new()
    {
        BootstrapServers = broker.Bootstrap,
        SecurityProtocol = SecurityProtocol.SaslPlaintext,
        SaslMechanism = mechanism,
        SaslUsername = "alice",
        SaslPassword = password,
    };

    [Theory]
    [InlineData(SaslMechanism.Plain)]
    [InlineData(SaslMechanism.ScramSha256)]
    [InlineData(SaslMechanism.ScramSha512)]
    public async Task Confluent_produces_and_consumes_in_a_group(SaslMechanism mechanism)
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        string topic = "t-" + mechanism;
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Config(broker, mechanism, "s3cret")) { MessageTimeoutMs = 10000 }).Build())
        {
            for (int i = 0; i < 5; i++)
                await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" });
        }
        var config = new ConsumerConfig(Config(broker, mechanism, "s3cret")) { GroupId = "g", AutoOffsetReset = AutoOffsetReset.Earliest };
        using var consumer = new ConsumerBuilder<Null, string>(config).Build();
        consumer.Subscribe(topic);
        var got = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (got.Count < 5 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } r)
                got.Add(r.Message.Value);
        }
        Assert.Equal(["v0", "v1", "v2", "v3", "v4"], got);
        consumer.Commit();
        consumer.Close();
    }

    [Theory]
    [InlineData(SaslMechanism.Plain)]
    [InlineData(SaslMechanism.ScramSha512)]
    public async Task Confluent_with_a_wrong_password_gets_an_authentication_error(SaslMechanism mechanism)
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        using var admin = new AdminClientBuilder(Config(broker, mechanism, "wrong")).Build();
        var e = Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(10)));
        Assert.NotEqual(ErrorCode.NoError, e.Error.Code);
    }

    [Fact]
    public async Task A_failed_authentication_is_answered_with_kafkas_error_and_the_connection_closed()
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        using var raw = await RawConnection.ConnectAsync(broker.Bootstrap);
        var handshake = await raw.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
        Assert.Equal(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], handshake.Mechanisms);
        var failed = await raw.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes("\0alice\0wrong") }, 2);
        Assert.Equal(ProtocolError.SaslAuthenticationFailed, failed.ErrorCode);
        Assert.Equal("Authentication failed: Invalid username or password", failed.ErrorMessage);
        Assert.True(await raw.ClosedByBrokerAsync());
    }

    [Theory]
    [InlineData("metadata before authentication")]
    [InlineData("authenticate before handshake")]
    public async Task Requests_out_of_the_sasl_order_close_the_connection(string what)
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        using var raw = await RawConnection.ConnectAsync(broker.Bootstrap);
        await Assert.ThrowsAnyAsync<Exception>(() => what == "metadata before authentication"
            ? raw.SendAsync<MetadataResponse>(new MetadataRequest(), 1)
            : raw.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes("\0alice\0s3cret") }, 2));
        Assert.True(await raw.ClosedByBrokerAsync());
    }

    [Fact]
    public async Task Handshake_v0_takes_raw_tokens_then_serves_requests()
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        using var raw = await RawConnection.ConnectAsync(broker.Bootstrap);
        var handshake = await raw.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 0);
        Assert.Equal(ProtocolError.None, handshake.ErrorCode);
        await raw.WriteAsync(Frame(Encoding.UTF8.GetBytes("\0alice\0s3cret")));
        Assert.Empty(await raw.ReadRawFrameAsync());
        var metadata = await raw.SendAsync<MetadataResponse>(new MetadataRequest(), 1);
        Assert.Single(metadata.Brokers);
    }

    [Fact]
    public async Task An_oversized_frame_before_authentication_is_refused_before_it_is_read()
    {
        await using var broker = await TempBroker.StartAsync(o => Secured(o) with { SaslServerMaxReceiveSize = 1024 });
        using var raw = await RawConnection.ConnectAsync(broker.Bootstrap);
        // Only the size prefix is sent: the broker must close on it without waiting for the body.
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, 1025);
        await raw.WriteAsync(prefix);
        Assert.True(await raw.ClosedByBrokerAsync());
    }

    private static byte[] Frame(byte[] token)
    {
        var frame = new byte[4 + token.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, token.Length);
        token.CopyTo(frame, 4);
        return frame;
    }

    [Fact]
    public async Task Kcat_authenticates_with_plain()
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        string sasl = "-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=s3cret";
        var produce = await OtherClientTests.Run("kcat", $"-b {broker.Bootstrap} {sasl} -t kc -P", "a\nb\n");
        Assert.True(produce.Code == 0, produce.Err);
        var consume = await OtherClientTests.Run("kcat", $"-b {broker.Bootstrap} {sasl} -t kc -C -e -o beginning");
        Assert.True(consume.Code == 0, consume.Err);
        Assert.Equal(["a", "b"], consume.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("SCRAM-SHA-512")]
    public async Task Kafka_python_authenticates_over_the_v0_handshake(string mechanism)
    {
        await using var broker = await TempBroker.StartAsync(Secured);
        string script = $$"""
            from kafka import KafkaProducer, KafkaConsumer
            sasl = dict(bootstrap_servers='{{broker.Bootstrap}}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='{{mechanism}}',
                        sasl_plain_username='alice', sasl_plain_password='s3cret')
            p = KafkaProducer(**sasl)
            for i in range(3):
                p.send('py', value=('v%d' % i).encode())
            p.flush()
            c = KafkaConsumer('py', group_id='pyg', auto_offset_reset='earliest', consumer_timeout_ms=15000, **sasl)
            got = []
            for m in c:
                got.append(m.value.decode())
                if len(got) == 3:
                    break
            print(','.join(got))
            c.close()
            """;
        var result = await OtherClientTests.Run("/usr/bin/python3", "-", script);
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal("v0,v1,v2", result.Out.Trim());
    }
}
