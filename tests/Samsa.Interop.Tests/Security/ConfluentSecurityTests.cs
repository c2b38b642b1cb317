using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Security;

/// <summary>Confluent.Kafka 2.16 (librdkafka with OpenSSL and SASL) against secured listeners.</summary>
public class ConfluentSecurityTests
{
    private static ClientConfig Ssl(string bootstrap, bool clientCertificate = false)
    {
        var config = new ClientConfig
        {
            BootstrapServers = bootstrap,
            SecurityProtocol = SecurityProtocol.Ssl,
            SslCaLocation = Secured.Certs.CaPem,
            SslEndpointIdentificationAlgorithm = SslEndpointIdentificationAlgorithm.Https,
        };
        if (clientCertificate)
        {
            config.SslCertificateLocation = Secured.Certs.ClientCertPem;
            config.SslKeyLocation = Secured.Certs.ClientKeyPem;
        }
        return config;
    }

    private static ClientConfig Scram(string bootstrap, string user, string password) => new(Ssl(bootstrap))
    {
        SecurityProtocol = SecurityProtocol.SaslSsl,
        SaslMechanism = SaslMechanism.ScramSha512,
        SaslUsername = user,
        SaslPassword = password,
    };

    /// <summary>Admin creates a topic and reads the cluster, a producer writes, a group member reads it all and commits.</summary>
    private static async Task ProduceConsumeAdmin(ClientConfig security, string topic)
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig(security)).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 1 }]);
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(20));
            Assert.Equal(2, metadata.Topics.Single().Partitions.Count);
            Assert.Equal(security.BootstrapServers, $"{metadata.Brokers[0].Host}:{metadata.Brokers[0].Port}");
        }
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig(security) { MessageTimeoutMs = 20000 }).Build())
        {
            for (int i = 0; i < 20; i++)
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
        }
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(security)
        {
            GroupId = topic + "-group",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build())
        {
            consumer.Subscribe(topic);
            var seen = new HashSet<string>();
            var until = DateTime.UtcNow.AddSeconds(60);
            while (seen.Count < 20 && DateTime.UtcNow < until)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } record)
                    seen.Add(record.Message.Value);
            }
            Assert.Equal(20, seen.Count);
            consumer.Commit();
            consumer.Close();
        }
        using (var admin = new AdminClientBuilder(new AdminClientConfig(security)).Build())
        {
            var offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(topic + "-group", null)]);
            Assert.Equal(20, offsets.Single().Partitions.Sum(p => p.Offset.Value));
        }
    }

    [Fact]
    public async Task Ssl_produce_consume_in_a_group_and_admin()
    {
        await using var broker = await Secured.StartAsync();
        await ProduceConsumeAdmin(Ssl(broker.Bootstrap("SSL")), "over-ssl");
    }

    [Fact]
    public async Task Mutual_tls_serves_a_client_with_a_certificate_and_refuses_one_without()
    {
        await using var broker = await Secured.StartAsync();
        await ProduceConsumeAdmin(Ssl(broker.Bootstrap("MTLS"), clientCertificate: true), "over-mtls");

        var errors = new List<Error>();
        using var anonymous = new AdminClientBuilder(new AdminClientConfig(Ssl(broker.Bootstrap("MTLS"))))
            .SetErrorHandler((_, e) => { lock (errors) errors.Add(e); }).Build();
        Assert.ThrowsAny<KafkaException>(() => anonymous.GetMetadata(TimeSpan.FromSeconds(5)));
        lock (errors)
            Assert.NotEmpty(errors);
    }

    [Fact]
    public async Task Sasl_ssl_with_scram_sha_512_produce_consume_in_a_group_and_admin()
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "alice", "alice-scram");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap("PLAINTEXT") }).Build())
        {
            var described = await admin.DescribeUserScramCredentialsAsync(["alice"]);
            var info = Assert.Single(Assert.Single(described.UserScramCredentialsDescriptions).ScramCredentialInfos);
            Assert.Equal((ScramMechanism.ScramSha512, 8192), (info.Mechanism, info.Iterations));
        }
        await ProduceConsumeAdmin(Scram(broker.Bootstrap("SASL_SSL"), "alice", "alice-scram"), "over-sasl-ssl");
    }

    [Theory]
    [InlineData("SASL_SSL")]
    [InlineData("SASL_PLAINTEXT")]
    public async Task A_wrong_password_is_an_authentication_error_with_kafkas_message(string listener)
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "alice", "alice-scram");
        var config = Scram(broker.Bootstrap(listener), "alice", "not-it");
        if (listener == "SASL_PLAINTEXT")
            config.SecurityProtocol = SecurityProtocol.SaslPlaintext;
        var errors = new List<Error>();
        using var admin = new AdminClientBuilder(new AdminClientConfig(config))
            .SetErrorHandler((_, e) => { lock (errors) errors.Add(e); }).Build();
        Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(5)));
        lock (errors)
        {
            var auth = errors.First(e => e.Code == ErrorCode.Local_Authentication);
            Assert.Contains("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512", auth.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sasl_plain_users_from_jaas_config_authenticate_over_tls()
    {
        await using var broker = await Secured.StartAsync();
        var config = new ClientConfig(Ssl(broker.Bootstrap("SASL_SSL")))
        {
            SecurityProtocol = SecurityProtocol.SaslSsl,
            SaslMechanism = SaslMechanism.Plain,
            SaslUsername = "alice",
            SaslPassword = "alice-secret",
        };
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig(config) { MessageTimeoutMs = 20000 }).Build();
        Assert.Equal(0, (await producer.ProduceAsync("plain-over-tls", new Message<Null, string> { Value = "x" })).Offset.Value);
    }
}
