using Samsa.Client;
using Samsa.Client.Admin;
using Samsa.Client.Errors;
using Samsa.Client.Producer;
using Samsa.Client.Share;

namespace Samsa.Interop.Tests.Security;

/// <summary>
/// The share-group APIs under ACLs, as Kafka checks them: ShareGroupHeartbeat, ShareFetch and
/// ShareAcknowledge need READ on the group, ShareGroupDescribe and DescribeShareGroupOffsets DESCRIBE.
/// Our own share consumer and admin client, as alice, against a SASL broker with an authorizer.
/// </summary>
public sealed class ShareGroupAclTests : IAsyncLifetime
{
    private const string Jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required user_admin=\"admin-secret\" user_alice=\"alice-secret\";";
    private TempBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TempBroker.StartAsync(o =>
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
        return o with
        {
            ShareAutoOffsetReset = "earliest",
            ShareGroupHeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ShareGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(250),
        };
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private static SecurityOptions As(string user) => new()
    {
        SecurityProtocol = SecurityProtocol.SaslPlaintext,
        SaslMechanism = "PLAIN",
        SaslUsername = user,
        SaslPassword = user + "-secret",
    };

    private KafkaAdminClient Admin(string user) => new(new AdminOptions { BootstrapServers = _broker.Bootstrap, Security = As(user) });

    private KafkaShareConsumer<string, string> AliceConsumer(string group, string topic)
    {
        var consumer = new KafkaShareConsumer<string, string>(new ShareConsumerOptions
        {
            BootstrapServers = _broker.Bootstrap,
            GroupId = group,
            FetchMaxWait = TimeSpan.FromMilliseconds(200),
            RetryBackoff = TimeSpan.FromMilliseconds(50),
            Security = As("alice"),
        }, loggerFactory: Samsa.Interop.Tests.Client.TestLogging.Factory);
        consumer.Subscribe(topic);
        return consumer;
    }

    private static AclBinding Allow(AclResourceType type, string name, AclOperation operation) =>
        new(type, name, AclPatternType.Literal, "User:alice", "*", operation, AclPermissionType.Allow);

    [Fact]
    public async Task Share_consumers_and_share_admin_calls_need_the_groups_acls()
    {
        await using (var admin = Admin("admin"))
        {
            await admin.CreateTopicsAsync([new NewTopic("jobs", 1)]);
            await admin.CreateAclsAsync([Allow(AclResourceType.Topic, "jobs", AclOperation.Read)]);
        }
        await using (var producer = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = _broker.Bootstrap, Security = As("admin") }))
            await producer.ProduceAsync("jobs", new Message<string, string>("k", "job-1"));

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // Alice may read the topic but not the group: her share consumer's heartbeat is refused.
        await using (var refused = AliceConsumer("workers", "jobs"))
        {
            await Assert.ThrowsAsync<GroupAuthorizationException>(async () =>
            {
                while (true)
                    await refused.PollAsync(TimeSpan.FromMilliseconds(200), bound.Token);
            });
        }
        await using (var alice = Admin("alice"))
        {
            await Assert.ThrowsAsync<GroupAuthorizationException>(() => alice.DescribeShareGroupAsync("workers", bound.Token));
            await Assert.ThrowsAsync<GroupAuthorizationException>(() => alice.ListShareGroupOffsetsAsync("workers", bound.Token));
        }

        await using (var admin = Admin("admin"))
            await admin.CreateAclsAsync([Allow(AclResourceType.Group, "workers", AclOperation.Read)]);
        // READ on the group (which implies DESCRIBE): she joins, fetches and acknowledges.
        await using (var consumer = AliceConsumer("workers", "jobs"))
        {
            var received = new List<string>();
            while (received.Count == 0)
                received.AddRange((await consumer.PollAsync(TimeSpan.FromMilliseconds(200), bound.Token)).Select(r => r.Value));
            Assert.Equal(["job-1"], received);
            var committed = await consumer.CommitSyncAsync(TimeSpan.FromSeconds(30), bound.Token);
            Assert.All(committed.Values, Assert.Null);
            await using var alice = Admin("alice");
            var described = await alice.DescribeShareGroupAsync("workers", bound.Token);
            Assert.Single(described.Members);
        }
    }
}
