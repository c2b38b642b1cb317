using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Security;

/// <summary>
/// ACLs through Confluent.Kafka 2.16: a SASL_PLAINTEXT broker with StandardAuthorizer's name set,
/// super user admin, and alice, who may do only what the test grants her.
/// </summary>
public sealed class ConfluentAclTests : IAsyncLifetime
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
        return o with { GroupInitialRebalanceDelay = TimeSpan.FromMilliseconds(50) };
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private ClientConfig As(string user) => new()
    {
        BootstrapServers = _broker.Bootstrap,
        SecurityProtocol = SecurityProtocol.SaslPlaintext,
        SaslMechanism = SaslMechanism.Plain,
        SaslUsername = user,
        SaslPassword = user + "-secret",
    };

    private IAdminClient Admin(string user) => new AdminClientBuilder(new AdminClientConfig(As(user))).Build();

    private static AclBinding Acl(ResourceType type, string name, AclOperation operation, AclPermissionType permission = AclPermissionType.Allow,
        ResourcePatternType pattern = ResourcePatternType.Literal, string principal = "User:alice") => new()
    {
        Pattern = new ResourcePattern { Type = type, Name = name, ResourcePatternType = pattern },
        Entry = new AccessControlEntry { Principal = principal, Host = "*", Operation = operation, PermissionType = permission },
    };

    private async Task SetUpAsync(string[] topics, params AclBinding[] acls)
    {
        using var admin = Admin("admin");
        if (topics.Length > 0)
            await admin.CreateTopicsAsync(topics.Select(t => new TopicSpecification { Name = t, NumPartitions = 1, ReplicationFactor = 1 }));
        if (acls.Length > 0)
            await admin.CreateAclsAsync(acls);
    }

    private async Task ProduceAsync(string user, string topic)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig(As(user)) { MessageTimeoutMs = 15000 }).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "v" });
    }

    private async Task<ErrorCode> ProduceErrorAsync(string user, string topic)
    {
        var e = await Assert.ThrowsAsync<ProduceException<string, string>>(() => ProduceAsync(user, topic));
        return e.Error.Code;
    }

    [Fact]
    public async Task Produce_without_write_is_topic_authorization_failed_and_a_super_user_needs_no_acl()
    {
        await SetUpAsync(["orders"]);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceErrorAsync("alice", "orders"));
        await ProduceAsync("admin", "orders");
    }

    [Fact]
    public async Task A_transactional_producer_needs_write_on_its_transactional_id_and_read_on_the_group_it_commits_for()
    {
        await SetUpAsync(["tx"], Acl(ResourceType.Topic, "tx", AclOperation.Write));
        IProducer<string, string> Producer() => new ProducerBuilder<string, string>(new ProducerConfig(As("alice")) { TransactionalId = "alice-tx" }).Build();
        using (var refused = Producer())
        {
            var e = Assert.ThrowsAny<KafkaException>(() => refused.InitTransactions(TimeSpan.FromSeconds(15)));
            Assert.Equal(ErrorCode.TransactionalIdAuthorizationFailed, e.Error.Code);
        }
        using (var admin = Admin("admin"))
            await admin.CreateAclsAsync([Acl((ResourceType)5, "alice-tx", AclOperation.Write)]); // librdkafka's TRANSACTIONAL_ID; Confluent.Kafka has no name for it
        using var producer = Producer();
        producer.InitTransactions(TimeSpan.FromSeconds(15));
        producer.BeginTransaction();
        producer.Produce("tx", new Message<string, string> { Key = "k", Value = "v" });
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(As("admin")) { GroupId = "alice-group" }).Build();
        var denied = Assert.ThrowsAny<KafkaException>(() =>
            producer.SendOffsetsToTransaction([new TopicPartitionOffset("tx", 0, 1)], consumer.ConsumerGroupMetadata, TimeSpan.FromSeconds(15)));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, denied.Error.Code);
    }

    [Fact]
    public async Task Prefixed_allow_grants_and_a_literal_deny_wins_over_it()
    {
        await SetUpAsync(["pre-open", "pre-blocked", "other"],
            Acl(ResourceType.Topic, "pre-", AclOperation.Write, pattern: ResourcePatternType.Prefixed),
            Acl(ResourceType.Topic, "pre-blocked", AclOperation.Write, AclPermissionType.Deny));
        await ProduceAsync("alice", "pre-open");
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceErrorAsync("alice", "pre-blocked"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceErrorAsync("alice", "other"));
    }

    [Fact]
    public async Task Fetch_without_read_is_topic_authorization_failed()
    {
        await SetUpAsync(["watched"], Acl(ResourceType.Topic, "watched", AclOperation.Describe));
        await ProduceAsync("admin", "watched");
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(As("alice")) { GroupId = "unused", EnableAutoCommit = false }).Build();
        consumer.Assign(new TopicPartitionOffset("watched", 0, Offset.Beginning));
        var e = Assert.Throws<ConsumeException>(() => consumer.Consume(TimeSpan.FromSeconds(20)));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, e.Error.Code);
    }

    [Fact]
    public async Task Joining_a_group_without_read_on_it_is_group_authorization_failed()
    {
        await SetUpAsync(["readable"], Acl(ResourceType.Topic, "readable", AclOperation.Read));
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(As("alice")) { GroupId = "closed-group", AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        consumer.Subscribe("readable");
        var e = Assert.Throws<ConsumeException>(() => consumer.Consume(TimeSpan.FromSeconds(20)));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, e.Error.Code);
    }

    [Fact]
    public async Task Commit_needs_read_on_the_group_and_on_the_topic()
    {
        await SetUpAsync(["committed", "unread"],
            Acl(ResourceType.Topic, "committed", AclOperation.Read),
            Acl(ResourceType.Topic, "unread", AclOperation.Describe),
            Acl(ResourceType.Group, "committers", AclOperation.Read));
        using (var denied = new ConsumerBuilder<string, string>(new ConsumerConfig(As("alice")) { GroupId = "strangers" }).Build())
            Assert.Equal(ErrorCode.GroupAuthorizationFailed, CommitError(denied, "committed"));
        using var allowed = new ConsumerBuilder<string, string>(new ConsumerConfig(As("alice")) { GroupId = "committers" }).Build();
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, CommitError(allowed, "unread"));
        allowed.Commit([new TopicPartitionOffset("committed", 0, 0)]);
        Assert.Equal(0, allowed.Committed([new TopicPartition("committed", 0)], TimeSpan.FromSeconds(20)).Single().Offset.Value);
    }

    private static ErrorCode CommitError(IConsumer<string, string> consumer, string topic)
    {
        var e = Assert.ThrowsAny<KafkaException>(() => consumer.Commit([new TopicPartitionOffset(topic, 0, 0)]));
        return e is TopicPartitionOffsetException partitions ? partitions.Results.Single().Error.Code : e.Error.Code;
    }

    [Fact]
    public async Task Creating_a_topic_needs_create_and_describing_configs_needs_describe_configs()
    {
        await SetUpAsync(["configured"], Acl(ResourceType.Topic, "mine-", AclOperation.Create, pattern: ResourcePatternType.Prefixed));
        using var admin = Admin("alice");
        var create = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync([new TopicSpecification { Name = "theirs", NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, create.Results.Single().Error.Code);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "mine-1", NumPartitions = 1, ReplicationFactor = 1 }]);

        var describe = await Assert.ThrowsAsync<DescribeConfigsException>(() => admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "configured" }]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, describe.Results.Single().Error.Code);
        string brokerId = admin.GetMetadata(TimeSpan.FromSeconds(20)).Brokers.Single().BrokerId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var broker = await Assert.ThrowsAsync<DescribeConfigsException>(() => admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = brokerId }]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, broker.Results.Single().Error.Code);
    }

    [Fact]
    public async Task Managing_scram_users_needs_alter_on_the_cluster_and_adding_partitions_alter_on_the_topic()
    {
        await SetUpAsync(["grown"], Acl(ResourceType.Topic, "grown", AclOperation.Describe));
        using var alice = Admin("alice");
        var scram = await Assert.ThrowsAsync<AlterUserScramCredentialsException>(() => alice.AlterUserScramCredentialsAsync(
        [
            new UserScramCredentialUpsertion
            {
                User = "mallory",
                Password = System.Text.Encoding.UTF8.GetBytes("x"),
                ScramCredentialInfo = new ScramCredentialInfo { Mechanism = ScramMechanism.ScramSha512, Iterations = 8192 },
            },
        ]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, scram.Results.Single().Error.Code);
        var grow = await Assert.ThrowsAsync<CreatePartitionsException>(() => alice.CreatePartitionsAsync([new PartitionsSpecification { Topic = "grown", IncreaseTo = 3 }]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, grow.Results.Single().Error.Code);
    }

    [Fact]
    public async Task Authorized_operations_say_what_the_principal_may_do_on_topics_groups_and_the_cluster()
    {
        await SetUpAsync(["ops"], Acl(ResourceType.Topic, "ops", AclOperation.Read), Acl(ResourceType.Group, "ops-group", AclOperation.Read));
        using var alice = Admin("alice");
        var topic = (await alice.DescribeTopicsAsync(TopicCollection.OfTopicNames(["ops"]), new DescribeTopicsOptions { IncludeAuthorizedOperations = true })).TopicDescriptions.Single();
        // READ implies DESCRIBE, as in Kafka's authorizer.
        Assert.Equal([AclOperation.Read, AclOperation.Describe], topic.AuthorizedOperations.Order());
        var cluster = await alice.DescribeClusterAsync(new DescribeClusterOptions { IncludeAuthorizedOperations = true });
        Assert.Empty(cluster.AuthorizedOperations);

        // Kafka's full sets for a super user: eight topic operations, seven cluster operations.
        using var admin = Admin("admin");
        var all = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames(["ops"]), new DescribeTopicsOptions { IncludeAuthorizedOperations = true })).TopicDescriptions.Single();
        Assert.Equal(8, all.AuthorizedOperations.Count);
        Assert.Equal(7, (await admin.DescribeClusterAsync(new DescribeClusterOptions { IncludeAuthorizedOperations = true })).AuthorizedOperations.Count);
    }

    [Fact]
    public async Task Metadata_lists_only_the_topics_the_principal_may_describe()
    {
        await SetUpAsync(["seen-a", "seen-b", "hidden"], Acl(ResourceType.Topic, "seen-", AclOperation.Read, pattern: ResourcePatternType.Prefixed));
        using var alice = Admin("alice");
        var names = alice.GetMetadata(TimeSpan.FromSeconds(20)).Topics.Select(t => t.Topic).Order().ToList();
        Assert.Equal(["seen-a", "seen-b"], names);
        using var admin = Admin("admin");
        Assert.Contains("hidden", admin.GetMetadata(TimeSpan.FromSeconds(20)).Topics.Select(t => t.Topic));
    }

    [Fact]
    public async Task Acls_are_created_described_and_deleted_by_a_super_user_and_refused_to_others()
    {
        using var admin = Admin("admin");
        await admin.CreateAclsAsync(
        [
            Acl(ResourceType.Topic, "t-", AclOperation.Read, pattern: ResourcePatternType.Prefixed),
            Acl(ResourceType.Group, "g", AclOperation.All),
            Acl(ResourceType.Group, "g", AclOperation.Delete, AclPermissionType.Deny, principal: "User:bob"),
        ]);
        var groups = await admin.DescribeAclsAsync(new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Group, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        });
        Assert.Equal(["User:alice", "User:bob"], groups.AclBindings.Select(b => b.Entry.Principal).Order().ToList());
        var matching = await admin.DescribeAclsAsync(new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Topic, Name = "t-orders", ResourcePatternType = ResourcePatternType.Match },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        });
        Assert.Equal(ResourcePatternType.Prefixed, matching.AclBindings.Single().Pattern.ResourcePatternType);

        using var alice = Admin("alice");
        var refused = await Assert.ThrowsAsync<CreateAclsException>(() => alice.CreateAclsAsync([Acl(ResourceType.Topic, "x", AclOperation.Write)]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, refused.Results.Single().Error.Code);

        var deleted = await admin.DeleteAclsAsync(
        [
            new AclBindingFilter
            {
                PatternFilter = new ResourcePatternFilter { Type = ResourceType.Group, Name = "g", ResourcePatternType = ResourcePatternType.Literal },
                EntryFilter = new AccessControlEntryFilter { Principal = "User:bob", Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
            },
        ]);
        Assert.Equal("User:bob", deleted.Single().AclBindings.Single().Entry.Principal);
        var left = await admin.DescribeAclsAsync(new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        });
        Assert.Equal(2, left.AclBindings.Count);

        // Stored in the data directory: they survive a restart.
        await _broker.RestartAsync();
        using var again = Admin("admin");
        var reloaded = await again.DescribeAclsAsync(new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        });
        Assert.Equal(2, reloaded.AclBindings.Count);
    }
}
