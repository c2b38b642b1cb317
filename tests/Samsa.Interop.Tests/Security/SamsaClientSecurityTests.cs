using Samsa.Client;
using Samsa.Client.Admin;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Producer;
using Samsa.TestKit;
using static Samsa.Interop.Tests.Client.SamsaConsumerTests;
using Message = Samsa.Client.Producer.Message<string, string>;

namespace Samsa.Interop.Tests.Security;

/// <summary>Our own client (admin, producer, group consumer) against the broker's TLS, mTLS and SASL listeners.</summary>
public class SamsaClientSecurityTests
{
    private static Dictionary<string, string> Tls(bool clientCertificate = false)
    {
        var settings = new Dictionary<string, string>
        {
            ["security.protocol"] = "SSL",
            ["ssl.ca.location"] = Secured.Certs.CaPem,
        };
        if (clientCertificate)
        {
            settings["ssl.certificate.location"] = Secured.Certs.ClientCertPem;
            settings["ssl.key.location"] = Secured.Certs.ClientKeyPem;
        }
        return settings;
    }

    private static SecurityOptions Security(Dictionary<string, string> settings)
    {
        var options = SecurityOptions.Plaintext;
        foreach (var (key, value) in settings)
            Assert.True(SecurityOptions.TryApply(options, key, value, out options), key);
        return options;
    }

    /// <summary>Admin creates the topic, the producer writes 30 records, a group member reads them all and commits.</summary>
    private static async Task RoundTrip(string bootstrap, SecurityOptions security, string topic)
    {
        await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = bootstrap, Security = security }))
        {
            await admin.CreateTopicsAsync([new NewTopic(topic, 2)]);
            var cluster = await admin.DescribeClusterAsync();
            // The broker advertises the listener the client came in on.
            Assert.Equal(bootstrap, $"{cluster.Brokers[0].Host}:{cluster.Brokers[0].Port}");
        }
        await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = bootstrap, Security = security, Linger = TimeSpan.FromMilliseconds(2) }))
        {
            var sent = Enumerable.Range(0, 30).Select(i => producer.ProduceAsync(topic, new Message($"k{i}", $"v{i}"))).ToList();
            await Task.WhenAll(sent);
        }
        await using var consumer = new KafkaConsumer<string, string>(Options(bootstrap, topic + "-g") with { Security = security, EnableAutoCommit = false });
        consumer.Subscribe(topic);
        var received = await PollUntil(consumer, 30);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"v{i}").Order(), received.Select(r => r.Value).Order());
        await consumer.CommitAsync();
    }

    [Fact]
    public async Task Ssl_mtls_sasl_ssl_scram_and_sasl_plaintext_plain_carry_admin_produce_and_group_consume()
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "carol", "carol-secret");

        await RoundTrip(broker.Bootstrap("SSL"), Security(Tls()), "ssl");
        await RoundTrip(broker.Bootstrap("MTLS"), Security(Tls(clientCertificate: true)), "mtls");
        var scram = Tls();
        scram["security.protocol"] = "SASL_SSL";
        scram["sasl.mechanism"] = "SCRAM-SHA-512";
        scram["sasl.username"] = "carol";
        scram["sasl.password"] = "carol-secret";
        await RoundTrip(broker.Bootstrap("SASL_SSL"), Security(scram), "scram");
        // Java's way of giving credentials, through the consumer's own property reader.
        var plain = ConsumerOptions.FromProperties(new Dictionary<string, string>
        {
            ["bootstrap.servers"] = broker.Bootstrap("SASL_PLAINTEXT"),
            ["security.protocol"] = "SASL_PLAINTEXT",
            ["sasl.mechanism"] = "PLAIN",
            ["sasl.jaas.config"] = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" password=\"alice-secret\";",
        });
        await RoundTrip(broker.Bootstrap("SASL_PLAINTEXT"), plain.Security, "plain");
    }

    [Fact]
    public async Task A_wrong_password_fails_at_once_with_the_brokers_reason_not_after_retries()
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "carol", "carol-secret");
        var wrong = Tls();
        wrong["security.protocol"] = "SASL_SSL";
        wrong["sasl.mechanism"] = "SCRAM-SHA-512";
        wrong["sasl.username"] = "carol";
        wrong["sasl.password"] = "not-it";
        await using var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = broker.Bootstrap("SASL_SSL"), Security = Security(wrong), DefaultApiTimeout = TimeSpan.FromMinutes(5) });
        // The API timeout is five minutes: only a non-retriable failure ends this within the test's patience.
        var e = await Assert.ThrowsAsync<SaslAuthenticationException>(() => admin.DescribeClusterAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("carol", e.Message, StringComparison.Ordinal);
        Assert.False(e.IsRetriable);

        var mechanism = Tls();
        mechanism["security.protocol"] = "SASL_SSL";
        mechanism["sasl.mechanism"] = "SCRAM-SHA-256";
        mechanism["sasl.username"] = "nobody";
        mechanism["sasl.password"] = "x";
        await using var unknown = new KafkaAdminClient(new AdminOptions { BootstrapServers = broker.Bootstrap("SASL_SSL"), Security = Security(mechanism), DefaultApiTimeout = TimeSpan.FromMinutes(5) });
        await Assert.ThrowsAsync<SaslAuthenticationException>(() => unknown.DescribeClusterAsync().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_broker_certificate_we_do_not_trust_or_a_missing_client_certificate_fails_the_handshake()
    {
        await using var broker = await Secured.StartAsync();
        // The system's CAs do not know our test CA.
        var untrusted = new SecurityOptions { SecurityProtocol = SecurityProtocol.Ssl };
        await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = broker.Bootstrap("SSL"), Security = untrusted, DefaultApiTimeout = TimeSpan.FromMinutes(5) }))
        {
            var e = await Assert.ThrowsAsync<SslAuthenticationException>(() => admin.DescribeClusterAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("ssl.truststore.location", e.Message, StringComparison.Ordinal);
        }
        await using (var admin = new KafkaAdminClient(new AdminOptions { BootstrapServers = broker.Bootstrap("MTLS"), Security = Security(Tls()), RequestTimeout = TimeSpan.FromSeconds(5), DefaultApiTimeout = TimeSpan.FromSeconds(15) }))
        {
            // mTLS required and no client certificate: the broker ends the handshake.
            await Assert.ThrowsAnyAsync<KafkaException>(() => admin.DescribeClusterAsync());
        }
    }

    [Fact]
    public async Task A_connection_is_replaced_before_its_sasl_session_lifetime_runs_out()
    {
        // The broker's sessions last 10 minutes of real time; the client runs on fake time, so the
        // client's own clock decides when it stops using a connection (KIP-368's lifetime).
        await using var broker = await Secured.StartAsync(("connections.max.reauth.ms", "600000"));
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var plain = SecurityOptions.Plaintext with
        {
            SecurityProtocol = SecurityProtocol.SaslPlaintext, SaslMechanism = "PLAIN", SaslUsername = "alice", SaslPassword = "alice-secret",
        };
        string[] address = broker.Bootstrap("SASL_PLAINTEXT").Split(':');
        var node = new Samsa.Client.Internal.Network.BrokerNode(0, address[0], int.Parse(address[1], System.Globalization.CultureInfo.InvariantCulture));
        await using var cluster = new Samsa.Client.Internal.Network.ClusterClient(
            new(broker.Bootstrap("SASL_PLAINTEXT"), "reauth", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1),
                AllowAutoCreateTopics: false, Security: Samsa.Client.Internal.Network.ClientSecurity.For(plain)),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, time);
        var first = await cluster.ConnectAsync(node, Samsa.Client.Internal.Network.ConnectionPurpose.Control, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(8));
        Assert.Same(first, await cluster.ConnectAsync(node, Samsa.Client.Internal.Network.ConnectionPurpose.Control, CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(1.5));
        var second = await cluster.ConnectAsync(node, Samsa.Client.Internal.Network.ConnectionPurpose.Control, CancellationToken.None);
        Assert.NotSame(first, second);
        Assert.False(second.IsClosed);
    }

    [Fact]
    public async Task The_cli_takes_a_command_config_for_topics_groups_produce_and_consume_over_sasl_ssl()
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "carol", "carol-secret");
        string config = Path.Combine(Path.GetTempPath(), $"samsa-cli-{Guid.NewGuid():N}.properties");
        // As Kafka's tools take it, with the JAAS line continued by a backslash.
        await File.WriteAllTextAsync(config, $"""
            security.protocol=SASL_SSL
            sasl.mechanism=SCRAM-SHA-512
            ssl.ca.location={Secured.Certs.CaPem}
            sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
                username="carol" password="carol-secret";
            """);
        try
        {
            string[] b = ["--bootstrap-server", broker.Bootstrap("SASL_SSL"), "--command-config", config];
            Assert.Equal(0, (await Cli.CliTests.Samsa("", ["topics", "create", "secured", "--partitions", "1", .. b])).Exit);
            Assert.Contains("secured", (await Cli.CliTests.Samsa("", ["topics", "list", .. b])).Out, StringComparison.Ordinal);
            Assert.Equal(0, (await Cli.CliTests.Samsa("one\ntwo\n", ["produce", "secured", .. b])).Exit);
            var consumed = await Cli.CliTests.Samsa("", ["consume", "secured", "--group", "cli-secured", "--from-beginning", "--max-messages", "2", .. b]);
            Assert.Equal(["one", "two"], consumed.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("cli-secured", (await Cli.CliTests.Samsa("", ["groups", "list", .. b])).Out, StringComparison.Ordinal);

            // Without the file the same listener refuses the CLI, and it says so in one line.
            var refused = await Cli.CliTests.Samsa("", ["topics", "list", "--bootstrap-server", broker.Bootstrap("SASL_PLAINTEXT")]);
            Assert.NotEqual(0, refused.Exit);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void Security_settings_name_the_key_that_is_wrong()
    {
        var e = Assert.Throws<KafkaConfigException>(() => ConsumerOptions.FromProperties(new Dictionary<string, string> { ["security.protocol"] = "TLS" }));
        Assert.Equal("security.protocol", e.Key);
        e = Assert.Throws<KafkaConfigException>(() => ProducerOptions.FromProperties(new Dictionary<string, string> { ["sasl.mechanism"] = "GSSAPI" }));
        Assert.Equal("sasl.mechanism", e.Key);
        e = Assert.Throws<KafkaConfigException>(() => new SecurityOptions { SecurityProtocol = SecurityProtocol.SaslSsl }.Validate());
        Assert.Equal("sasl.username", e.Key);
        e = Assert.Throws<KafkaConfigException>(() => new KafkaAdminClient(new AdminOptions
        {
            BootstrapServers = "localhost:9092",
            Security = new SecurityOptions { SecurityProtocol = SecurityProtocol.Ssl, SslTruststoreLocation = "/nonexistent/ca.pem" },
        }));
        Assert.Equal("ssl.truststore.location", e.Key);
    }
}
