using Confluent.Kafka;

namespace Samsa.Interop.Tests.Cli;

/// <summary>
/// <c>samsa acls</c> with kafka-acls.sh's flags, and <c>samsa topics --create ...</c> as kafka-topics.sh
/// is typed, against a SASL broker with an authorizer. What the CLI grants is checked by what alice
/// (a Confluent.Kafka producer) can then do, not only by the listing.
/// </summary>
public sealed class AclsCliTests : IAsyncLifetime
{
    private const string Jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required user_admin=\"admin-secret\" user_alice=\"alice-secret\";";
    private TempBroker _broker = null!;
    private string _config = null!;

    public async Task InitializeAsync()
    {
        _broker = await TempBroker.StartAsync(o =>
        {
            (string, string)[] settings =
            [
                ("listeners", "SASL_PLAINTEXT://127.0.0.1:0"),
                ("sasl.enabled.mechanisms", "PLAIN"),
                ("sasl.jaas.config", Jaas),
                ("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
                ("super.users", "User:admin"),
            ];
            foreach (var (key, value) in settings)
                o = Samsa.Broker.Configuration.BrokerConfig.Apply(o, key, value);
            return o;
        });
        _config = Path.GetTempFileName();
        await File.WriteAllTextAsync(_config, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=admin\nsasl.password=admin-secret\n");
    }

    public async Task DisposeAsync()
    {
        File.Delete(_config);
        await _broker.DisposeAsync();
    }

    private string[] B => ["--bootstrap-server", _broker.Bootstrap, "--command-config", _config];

    private async Task<ErrorCode> AliceProducesAsync(string topic)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = _broker.Bootstrap,
            SecurityProtocol = SecurityProtocol.SaslPlaintext,
            SaslMechanism = SaslMechanism.Plain,
            SaslUsername = "alice",
            SaslPassword = "alice-secret",
            MessageTimeoutMs = 10000,
        };
        using var producer = new ProducerBuilder<Null, string>(config).Build();
        try
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = "hello" });
            return ErrorCode.NoError;
        }
        catch (ProduceException<Null, string> e)
        {
            return e.Error.Code;
        }
    }

    [Fact]
    public async Task Acls_added_listed_and_removed_with_kafka_acls_flags_decide_what_alice_may_do()
    {
        // kafka-topics.sh's spelling: the action as a flag, --replication-factor 1 on one node.
        var created = await CliTests.Samsa("", ["topics", .. B, "--create", "--topic", "payments", "--replication-factor", "1", "--partitions", "2"]);
        Assert.True(created.Exit == 0, created.Err);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await AliceProducesAsync("payments"));

        var added = await CliTests.Samsa("", ["acls", .. B, "--add", "--allow-principal", "User:alice", "--producer", "--topic", "payments"]);
        Assert.True(added.Exit == 0, added.Err);
        Assert.Contains("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=payments, patternType=LITERAL)`", added.Out, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.NoError, await AliceProducesAsync("payments"));

        var listed = await CliTests.Samsa("", ["acls", .. B, "--list", "--topic", "payments"]);
        Assert.True(listed.Exit == 0, listed.Err);
        foreach (var operation in new[] { "WRITE", "DESCRIBE", "CREATE" })
            Assert.Contains($"(principal=User:alice, host=*, operation={operation}, permissionType=ALLOW)", listed.Out, StringComparison.Ordinal);

        // A deny wins over the allow, and removing it (with --force, as scripts do) gives the allow back.
        var denied = await CliTests.Samsa("", ["acls", .. B, "--add", "--deny-principal", "User:*", "--operation", "Write", "--deny-host", "*", "--topic", "payments"]);
        Assert.True(denied.Exit == 0, denied.Err);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await AliceProducesAsync("payments"));
        var undenied = await CliTests.Samsa("", ["acls", .. B, "--remove", "--force", "--deny-principal", "User:*", "--operation", "Write", "--deny-host", "*", "--topic", "payments"]);
        Assert.True(undenied.Exit == 0, undenied.Err);
        Assert.Contains("operation=WRITE, permissionType=DENY", undenied.Out, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.NoError, await AliceProducesAsync("payments"));

        // Without --force the removal asks first; answering no removes nothing.
        var declined = await CliTests.Samsa("n\n", ["acls", .. B, "--remove", "--topic", "payments"]);
        Assert.Equal(1, declined.Exit);
        Assert.Equal(ErrorCode.NoError, await AliceProducesAsync("payments"));
        var removedAll = await CliTests.Samsa("y\n", ["acls", .. B, "--remove", "--topic", "payments"]);
        Assert.True(removedAll.Exit == 0, removedAll.Err);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await AliceProducesAsync("payments"));
        var empty = await CliTests.Samsa("", ["acls", .. B, "--list", "--topic", "payments"]);
        Assert.Equal((0, ""), (empty.Exit, empty.Out));
    }

    [Fact]
    public async Task Bad_acl_flags_and_refusals_are_one_line_naming_the_problem()
    {
        var noAction = await CliTests.Samsa("", ["acls", .. B, "--topic", "t"]);
        Assert.Equal(2, noAction.Exit);
        Assert.Contains("exactly one of --add, --remove or --list", noAction.Err, StringComparison.Ordinal);

        var badOperation = await CliTests.Samsa("", ["acls", .. B, "--add", "--allow-principal", "User:alice", "--operation", "Fly", "--topic", "t"]);
        Assert.Equal(2, badOperation.Exit);
        Assert.Contains("--operation Fly: not an ACL operation", badOperation.Err, StringComparison.Ordinal);

        var badPrincipal = await CliTests.Samsa("", ["acls", .. B, "--add", "--allow-principal", "alice", "--topic", "t"]);
        Assert.Equal(2, badPrincipal.Exit);
        Assert.Contains("'alice' is not a principal", badPrincipal.Err, StringComparison.Ordinal);

        // alice is not a super user and holds no Alter on the cluster: the broker refuses her.
        var aliceConfig = _config + ".alice";
        await File.WriteAllTextAsync(aliceConfig, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=alice\nsasl.password=alice-secret\n");
        try
        {
            var refused = await CliTests.Samsa("", ["acls", "--bootstrap-server", _broker.Bootstrap, "--command-config", aliceConfig, "--add", "--allow-principal", "User:alice", "--operation", "All", "--cluster"]);
            Assert.Equal(1, refused.Exit);
            Assert.Contains("Not authorized on the cluster", refused.Err, StringComparison.Ordinal);
            Assert.Single(refused.Err.Trim().Split('\n'));
        }
        finally
        {
            File.Delete(aliceConfig);
        }
    }
}
