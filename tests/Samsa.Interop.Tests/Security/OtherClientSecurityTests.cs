using System.Diagnostics;

namespace Samsa.Interop.Tests.Security;

/// <summary>
/// kcat (librdkafka 2.0.2: SaslHandshake v1 after it sees v0 in our range) and kafka-python 2.0.2
/// (SaslHandshake v0 and raw tokens) over TLS, mTLS and SASL, both from Debian (.ci/install-deps).
/// </summary>
public class OtherClientSecurityTests
{
    private static async Task<(int Code, string Out, string Err)> Run(string file, string args, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        using var p = Process.Start(psi)!;
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (p.ExitCode, await output, await error);
    }

    public static TheoryData<string> KcatModes => ["ssl", "mtls", "sasl-ssl-scram-512", "sasl-plaintext-scram-256", "sasl-ssl-plain"];

    [Theory]
    [MemberData(nameof(KcatModes))]
    public async Task Kcat_produces_and_consumes(string mode)
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "kc", "kc-pw", Confluent.Kafka.Admin.ScramMechanism.ScramSha512);
        await Secured.CreateScramUserAsync(broker, "kc256", "kc-pw", Confluent.Kafka.Admin.ScramMechanism.ScramSha256);
        string tls = $"-X ssl.ca.location={Secured.Certs.CaPem}";
        string args = mode switch
        {
            "ssl" => $"-b {broker.Bootstrap("SSL")} -X security.protocol=SSL {tls}",
            "mtls" => $"-b {broker.Bootstrap("MTLS")} -X security.protocol=SSL {tls} -X ssl.certificate.location={Secured.Certs.ClientCertPem} -X ssl.key.location={Secured.Certs.ClientKeyPem}",
            "sasl-ssl-scram-512" => $"-b {broker.Bootstrap("SASL_SSL")} -X security.protocol=SASL_SSL {tls} -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=kc -X sasl.password=kc-pw",
            "sasl-plaintext-scram-256" => $"-b {broker.Bootstrap("SASL_PLAINTEXT")} -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=kc256 -X sasl.password=kc-pw",
            _ => $"-b {broker.Bootstrap("SASL_SSL")} -X security.protocol=SASL_SSL {tls} -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=alice-secret",
        };
        var lines = Enumerable.Range(0, 30).Select(i => $"key{i % 3}:value-{i}").ToList();
        var produce = await Run("kcat", $"{args} -t kt -P -K :", string.Join("\n", lines) + "\n");
        Assert.True(produce.Code == 0, produce.Err);
        var consume = await Run("kcat", $"{args} -t kt -C -e -o beginning -f %k:%s\\n");
        Assert.True(consume.Code == 0, consume.Err);
        Assert.Equal(lines, consume.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Kcat_with_a_wrong_password_fails_to_authenticate()
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "kc", "kc-pw");
        var result = await Run("kcat", $"-b {broker.Bootstrap("SASL_SSL")} -X security.protocol=SASL_SSL -X ssl.ca.location={Secured.Certs.CaPem} " +
            "-X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=kc -X sasl.password=wrong -L -m 5");
        Assert.NotEqual(0, result.Code);
        Assert.Contains("Authentication failed", result.Err, StringComparison.Ordinal);
    }

    public static TheoryData<string> PythonModes => ["ssl", "sasl-plaintext-plain", "sasl-ssl-scram-512"];

    [Theory]
    [MemberData(nameof(PythonModes))]
    public async Task Kafka_python_produces_and_consumes_in_a_group_with_commits(string mode)
    {
        await using var broker = await Secured.StartAsync();
        await Secured.CreateScramUserAsync(broker, "py", "py-pw");
        string security = mode switch
        {
            "ssl" => $"bootstrap_servers='{broker.Bootstrap("SSL")}', security_protocol='SSL', ssl_cafile='{Secured.Certs.CaPem}'",
            "sasl-plaintext-plain" => $"bootstrap_servers='{broker.Bootstrap("SASL_PLAINTEXT")}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', sasl_plain_username='alice', sasl_plain_password='alice-secret'",
            _ => $"bootstrap_servers='{broker.Bootstrap("SASL_SSL")}', security_protocol='SASL_SSL', ssl_cafile='{Secured.Certs.CaPem}', sasl_mechanism='SCRAM-SHA-512', sasl_plain_username='py', sasl_plain_password='py-pw'",
        };
        string script = $$"""
            from kafka import KafkaProducer, KafkaConsumer, TopicPartition
            p = KafkaProducer({{security}})
            for i in range(20):
                p.send('py', key=b'k', value=('v%d' % i).encode())
            p.flush()
            c = KafkaConsumer('py', {{security}}, group_id='pyg', auto_offset_reset='earliest',
                              enable_auto_commit=False, consumer_timeout_ms=15000)
            got = []
            for m in c:
                got.append(m.value.decode())
                if len(got) == 20:
                    break
            c.commit()
            print(','.join(got))
            print(c.committed(TopicPartition('py', 0)))
            c.close()
            """;
        var result = await Run("/usr/bin/python3", "-", script);
        Assert.True(result.Code == 0, result.Err);
        var outLines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20).Select(i => $"v{i}")), outLines[0]);
        Assert.Equal("20", outLines[1]);
    }

    [Fact]
    public async Task Kafka_python_with_a_wrong_password_is_refused()
    {
        await using var broker = await Secured.StartAsync();
        string script = $$"""
            import kafka.errors
            from kafka import KafkaProducer
            try:
                KafkaProducer(bootstrap_servers='{{broker.Bootstrap("SASL_PLAINTEXT")}}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN',
                              sasl_plain_username='alice', sasl_plain_password='wrong', api_version_auto_timeout_ms=5000, max_block_ms=5000)
                print('connected')
            except kafka.errors.KafkaError as e:
                print('refused', type(e).__name__)
            """;
        var result = await Run("/usr/bin/python3", "-", script);
        Assert.StartsWith("refused", result.Out, StringComparison.Ordinal);
    }
}
