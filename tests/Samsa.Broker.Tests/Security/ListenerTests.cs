using Samsa.Broker.Configuration;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.TestKit;

namespace Samsa.Broker.Tests.Security;

public sealed class ListenerTests
{
    private readonly TestCertificates _certs = TestCertificates.Shared;

    [Fact]
    public async Task Metadata_and_FindCoordinator_answer_with_the_address_of_the_listener_the_client_came_in_on()
    {
        await using var broker = await SecuredBroker.StartAsync(
        [
            ("listeners", "INTERNAL://127.0.0.1:0,SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"),
            ("listener.security.protocol.map", "INTERNAL:PLAINTEXT,SSL:SSL,PLAINTEXT:PLAINTEXT"),
            ("advertised.listeners", "INTERNAL://internal.example:1234"),
            ("ssl.keystore.location", _certs.ServerPem),
        ]);
        Assert.Equal(["INTERNAL", "SSL", "PLAINTEXT"], broker.Broker.Listeners.Select(l => l.Name));
        Assert.Equal([SecurityProtocol.Plaintext, SecurityProtocol.Ssl, SecurityProtocol.Plaintext], broker.Broker.Listeners.Select(l => l.Protocol));
        Assert.Equal("internal.example:1234", broker.Broker.BootstrapServersFor("INTERNAL"));

        await using (var internalWire = await Wire.ConnectAsync(broker.PortOf("INTERNAL")))
        {
            var metadata = await internalWire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12);
            Assert.Equal(("internal.example", 1234), (metadata.Brokers[0].Host, metadata.Brokers[0].Port));
            var coordinator = await internalWire.SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = ["g"] }, 4);
            Assert.Equal(("internal.example", 1234), (coordinator.Coordinators[0].Host, coordinator.Coordinators[0].Port));
        }
        int sslPort = broker.PortOf("SSL");
        await using (var sslWire = await Wire.ConnectAsync(sslPort, _certs.Ca))
        {
            var metadata = await sslWire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12);
            Assert.Equal(("127.0.0.1", sslPort), (metadata.Brokers[0].Host, metadata.Brokers[0].Port));
            var coordinator = await sslWire.SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { Key = "g", KeyType = 0 }, 3);
            Assert.Equal(("127.0.0.1", sslPort), (coordinator.Host, coordinator.Port));
            var cluster = await sslWire.SendAsync<DescribeClusterResponse>(new DescribeClusterRequest(), 1);
            Assert.Equal(sslPort, cluster.Brokers[0].Port);
        }
        int plainPort = broker.PortOf("PLAINTEXT");
        await using (var plainWire = await Wire.ConnectAsync(plainPort))
        {
            var metadata = await plainWire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 1);
            Assert.Equal(("127.0.0.1", plainPort), (metadata.Brokers[0].Host, metadata.Brokers[0].Port));
        }
    }

    public static TheoryData<string> Keystores => ["pem-file", "pem-inline", "pem-key-and-chain-files", "pkcs12", "pkcs12-inferred"];

    [Theory]
    [MemberData(nameof(Keystores))]
    public async Task Every_keystore_form_serves_tls(string form)
    {
        (string, string)[] keystore = form switch
        {
            "pem-file" => [("ssl.keystore.type", "PEM"), ("ssl.keystore.location", _certs.ServerPem)],
            "pem-inline" => [("ssl.keystore.type", "PEM"), ("ssl.keystore.key", File.ReadAllText(_certs.ServerKeyPem)), ("ssl.keystore.certificate.chain", File.ReadAllText(_certs.ServerCertPem))],
            "pem-key-and-chain-files" => [("ssl.keystore.location", _certs.ServerPem)],
            "pkcs12" => [("ssl.keystore.type", "PKCS12"), ("ssl.keystore.location", _certs.ServerP12), ("ssl.keystore.password", TestCertificates.Password)],
            _ => [("ssl.keystore.location", _certs.ServerP12), ("ssl.keystore.password", TestCertificates.Password)],
        };
        await using var broker = await SecuredBroker.StartAsync([("listeners", "SSL://127.0.0.1:0"), .. keystore]);
        await using var wire = await Wire.ConnectAsync(broker.PortOf("SSL"), _certs.Ca);
        var versions = await wire.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3);
        Assert.Equal(ErrorCode.None, versions.ErrorCode);
    }

    [Fact]
    public async Task Required_client_auth_refuses_a_client_without_a_certificate_and_serves_one_with()
    {
        await using var broker = await SecuredBroker.StartAsync(
        [
            ("listeners", "SSL://127.0.0.1:0"),
            ("ssl.keystore.location", _certs.ServerP12),
            ("ssl.keystore.password", TestCertificates.Password),
            ("ssl.truststore.location", _certs.CaPem),
            ("ssl.client.auth", "required"),
        ]);
        int port = broker.PortOf("SSL");
        await using (var authenticated = await Wire.ConnectAsync(port, _certs.Ca, _certs.Client))
            Assert.Equal(ErrorCode.None, (await authenticated.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3)).ErrorCode);

        // TLS 1.3 finishes the client's side of the handshake before the server has checked the
        // (missing) certificate: the refusal shows as a failed handshake or a closed connection.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var anonymous = await Wire.ConnectAsync(port, _certs.Ca);
            await anonymous.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3);
        });
    }

    [Fact]
    public async Task Requested_client_auth_serves_clients_without_a_certificate_and_a_subject_no_rule_maps_is_refused()
    {
        (string, string)[] settings =
        [
            ("listeners", "SSL://127.0.0.1:0"),
            ("ssl.keystore.location", _certs.ServerPem),
            ("ssl.truststore.location", _certs.TrustP12),
            ("ssl.truststore.password", TestCertificates.Password),
            ("ssl.client.auth", "requested"),
        ];
        await using (var broker = await SecuredBroker.StartAsync(settings))
        {
            await using var anonymous = await Wire.ConnectAsync(broker.PortOf("SSL"), _certs.Ca);
            Assert.Equal(ErrorCode.None, (await anonymous.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3)).ErrorCode);
        }
        await using (var broker = await SecuredBroker.StartAsync([.. settings, ("ssl.principal.mapping.rules", "RULE:^CN=somebody-else,.*$/x/")]))
        {
            await using var unmapped = await Wire.ConnectAsync(broker.PortOf("SSL"), _certs.Ca, _certs.Client);
            await unmapped.WriteAsync(new ApiVersionsRequest(), 3);
            Assert.True(await unmapped.IsClosedByBrokerAsync());
        }
    }

    [Fact]
    public void The_principal_is_the_certificate_subject_in_rfc_2253_through_the_mapping_rules()
    {
        Samsa.Broker.Security.Tls.TlsServer Server(params (string, string)[] extra)
        {
            var options = SecuredBroker.Options([("listeners", "SSL://127.0.0.1:0"), ("ssl.keystore.location", _certs.ServerPem), .. extra], Path.GetTempPath());
            return Samsa.Broker.Security.Tls.TlsServer.Build(new Samsa.Broker.Security.Sasl.ListenerSettings("SSL", options.SecuritySettings));
        }
        Assert.Equal(KafkaPrincipal.User(TestCertificates.ClientSubject), Server().PrincipalOf(_certs.Client));
        Assert.Equal("User:CLIENT@ENG", Server(("ssl.principal.mapping.rules", "RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/U,DEFAULT")).PrincipalOf(_certs.Client)!.ToString());
        Assert.Equal("User:client", Server(("listener.name.ssl.ssl.principal.mapping.rules", "RULE:^CN=([^,]*).*$/$1/"), ("ssl.principal.mapping.rules", "DEFAULT")).PrincipalOf(_certs.Client)!.ToString());
        Assert.Null(Server(("ssl.principal.mapping.rules", "RULE:^O=(.*)$/$1/")).PrincipalOf(_certs.Client));
        Assert.Equal(KafkaPrincipal.Anonymous, Server().PrincipalOf(null));
    }

    [Fact]
    public async Task Slow_and_garbage_handshakes_do_not_hold_up_other_clients_and_time_out()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var broker = await SecuredBroker.StartAsync(
            [("listeners", "SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"), ("ssl.keystore.location", _certs.ServerPem), ("ssl.handshake.timeout.ms", "10000")],
            o => o with { TimeProvider = time });
        int port = broker.PortOf("SSL");
        var silent = new List<System.Net.Sockets.TcpClient>();
        for (int i = 0; i < 8; i++)
        {
            var c = new System.Net.Sockets.TcpClient();
            await c.ConnectAsync("127.0.0.1", port);
            silent.Add(c);
        }
        var garbage = new List<System.Net.Sockets.TcpClient>();
        for (int i = 0; i < 8; i++)
        {
            var c = new System.Net.Sockets.TcpClient();
            await c.ConnectAsync("127.0.0.1", port);
            await c.GetStream().WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            garbage.Add(c);
        }
        try
        {
            // Garbage fails its handshake at once; silence waits for the timeout, which fake time holds.
            foreach (var g in garbage)
                Assert.Equal(0, await g.GetStream().ReadAsync(new byte[64]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
            await using (var good = await Wire.ConnectAsync(port, _certs.Ca))
                Assert.Equal(ErrorCode.None, (await good.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3)).ErrorCode);
            await using (var plain = await Wire.ConnectAsync(broker.PortOf("PLAINTEXT")))
                Assert.Equal(ErrorCode.None, (await plain.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3)).ErrorCode);
            Assert.Equal(silent.Count, broker.Broker.HandshakingConnectionCount);

            var closed = silent.Select(s => s.GetStream().ReadAsync(new byte[1]).AsTask()).ToList();
            time.Advance(TimeSpan.FromSeconds(11));
            foreach (var read in closed)
                Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            foreach (var c in silent.Concat(garbage))
                c.Dispose();
        }
    }

    [Fact]
    public void Listener_settings_are_checked_and_errors_name_their_key()
    {
        var o = BrokerConfig.Apply(new BrokerOptions(), "listeners", "PLAINTEXT://:9092, SASL_SSL://localhost:9093,INTERNAL://127.0.0.1:9094");
        Assert.Equal(["PLAINTEXT", "SASL_SSL", "INTERNAL"], o.Listeners!.Select(l => l.Name));
        Assert.Equal(("localhost", 9093), (o.Listeners![1].Host, o.Listeners[1].Port));
        Assert.Equal(9092, o.Listen.Port);

        var legacy = BrokerConfig.Apply(new BrokerOptions(), "listeners", "127.0.0.1:19092");
        Assert.Null(legacy.Listeners);
        Assert.Equal(19092, legacy.Listen.Port);

        static string KeyOf(Action a) => Assert.Throws<BrokerConfigException>(a).Key;
        Assert.Equal("listeners", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "listeners", "PLAINTEXT://:1,PLAINTEXT://:2")));
        Assert.Equal("listeners", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "listeners", "PLAINTEXT://:1,SSL://:1")));
        Assert.Equal("listener.security.protocol.map", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "listener.security.protocol.map", "X:TLS")));
        Assert.Equal("listener.security.protocol.map", KeyOf(() => Samsa.Broker.Network.ListenerPlan.Resolve(o)));
        var mapped = BrokerConfig.Apply(o, "listener.security.protocol.map", "INTERNAL:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL");
        Assert.Equal(SecurityProtocol.SaslSsl, Samsa.Broker.Network.ListenerPlan.Resolve(mapped)[1].Protocol);
        Assert.Equal("advertised.listeners", KeyOf(() => Samsa.Broker.Network.ListenerPlan.Resolve(BrokerConfig.Apply(mapped, "advertised.listeners", "OTHER://h:1"))));
        Assert.Equal("ssl.client.auth", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "ssl.client.auth", "always")));
        Assert.Equal("listener.name.sasl_ssl.ssl.keystore.type", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "listener.name.sasl_ssl.ssl.keystore.type", "JKS")));
        Assert.Equal("sasl.enabled.mechanisms", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "sasl.enabled.mechanisms", "PLAIN,GSSAPI")));
        Assert.Equal("listener.name.x.gssapi.sasl.jaas.config", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "listener.name.x.gssapi.sasl.jaas.config", "a required;")));
        Assert.Equal("sasl.jaas.config", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=")));
        Assert.Equal("ssl.principal.mapping.rules", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "ssl.principal.mapping.rules", "RULE:[unclosed/x/")));
        Assert.Equal("connections.max.reauth.ms", KeyOf(() => BrokerConfig.Apply(new BrokerOptions(), "connections.max.reauth.ms", "-1")));
    }

    [Fact]
    public async Task A_tls_listener_without_a_keystore_or_with_a_wrong_password_does_not_start_and_names_the_key()
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-sec-" + Guid.NewGuid().ToString("N"));
        try
        {
            var missing = await Assert.ThrowsAsync<BrokerConfigException>(() => SamsaBroker.StartAsync(SecuredBroker.Options([("listeners", "SSL://127.0.0.1:0")], dir)));
            Assert.Equal("ssl.keystore.location", missing.Key);
            var wrong = await Assert.ThrowsAsync<BrokerConfigException>(() => SamsaBroker.StartAsync(SecuredBroker.Options(
                [("listeners", "SSL://127.0.0.1:0"), ("ssl.keystore.location", _certs.ServerP12), ("ssl.keystore.password", "nope")], dir)));
            Assert.Equal("ssl.keystore.location", wrong.Key);
            // The failed starts released the data directory: a good start now works.
            await using var ok = await SamsaBroker.StartAsync(SecuredBroker.Options([("listeners", "SSL://127.0.0.1:0"), ("ssl.keystore.location", _certs.ServerPem)], dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
