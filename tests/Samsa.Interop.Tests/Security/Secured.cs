using Samsa.Broker;
using Samsa.Broker.Configuration;
using Samsa.TestKit;

namespace Samsa.Interop.Tests.Security;

/// <summary>Secured brokers for the interop tests: every kind of listener at once, users made in the test.</summary>
internal static class Secured
{
    public const string PlainJaas = "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"alice-secret\";";

    public static TestCertificates Certs => TestCertificates.Shared;

    /// <summary>PLAINTEXT (for setting users up), SSL with required client certificates, SASL_SSL and SASL_PLAINTEXT.</summary>
    public static Task<TempBroker> StartAsync(params (string Key, string Value)[] extra) => TempBroker.StartAsync(o =>
    {
        (string, string)[] settings =
        [
            ("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,MTLS://127.0.0.1:0"),
            ("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,MTLS:SSL"),
            ("ssl.keystore.location", Certs.ServerPem),
            ("ssl.truststore.location", Certs.CaPem),
            ("listener.name.mtls.ssl.client.auth", "required"),
            ("sasl.jaas.config", PlainJaas),
            ("connection.failed.authentication.delay.ms", "20"),
            .. extra,
        ];
        foreach (var (key, value) in settings)
            o = BrokerConfig.Apply(o, key, value);
        return o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(100) };
    });

    public static string Bootstrap(this TempBroker broker, string listener) => broker.Broker.BootstrapServersFor(listener);

    /// <summary>A SCRAM user made through Confluent's admin client (AlterUserScramCredentials) on the PLAINTEXT listener.</summary>
    public static async Task CreateScramUserAsync(TempBroker broker, string user, string password, Confluent.Kafka.Admin.ScramMechanism mechanism = Confluent.Kafka.Admin.ScramMechanism.ScramSha512)
    {
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = broker.Bootstrap("PLAINTEXT") }).Build();
        await admin.AlterUserScramCredentialsAsync(
        [
            new Confluent.Kafka.Admin.UserScramCredentialUpsertion
            {
                User = user,
                Password = System.Text.Encoding.UTF8.GetBytes(password),
                ScramCredentialInfo = new Confluent.Kafka.Admin.ScramCredentialInfo { Mechanism = mechanism, Iterations = 8192 },
            },
        ]);
    }
}
