using Samsa.Broker.Configuration;
using Samsa.Broker.Security;
using Samsa.Broker.Security.Authorization;

namespace Samsa.Broker.Tests.Security;

/// <summary>Kafka's matching rules on the authorizer itself, and the ACL file.</summary>
public sealed class AclAuthorizerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "samsa-acl-" + Guid.NewGuid().ToString("N"));
    private static readonly KafkaPrincipal Alice = KafkaPrincipal.User("alice");
    private static readonly KafkaPrincipal Bob = KafkaPrincipal.User("bob");

    public AclAuthorizerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private AclAuthorizer Authorizer(bool allowIfNone = false, params AclBinding[] acls)
    {
        var authorizer = new AclAuthorizer(new AclStore(_dir), ["User:admin"], allowIfNone);
        Assert.All(authorizer.CreateAcls(acls), Assert.Null);
        return authorizer;
    }

    private static AclBinding Topic(string name, AclOperation operation, AclPermissionType permission = AclPermissionType.Allow,
        AclPatternType pattern = AclPatternType.Literal, string principal = "User:alice", string host = "*") =>
        new(AclResourceType.Topic, name, pattern, principal, host, operation, permission);

    [Fact]
    public void Literal_prefixed_and_wildcard_names_cover_their_resources_only()
    {
        var a = Authorizer(false, Topic("exact", AclOperation.Read), Topic("pre-", AclOperation.Read, pattern: AclPatternType.Prefixed), Topic("*", AclOperation.Write));
        Assert.True(a.Authorize(Alice, "10.0.0.1", AclOperation.Read, AclResourceType.Topic, "exact"));
        Assert.False(a.Authorize(Alice, "10.0.0.1", AclOperation.Read, AclResourceType.Topic, "exactly"));
        Assert.True(a.Authorize(Alice, "10.0.0.1", AclOperation.Read, AclResourceType.Topic, "pre-x"));
        Assert.False(a.Authorize(Alice, "10.0.0.1", AclOperation.Read, AclResourceType.Topic, "pr"));
        Assert.True(a.Authorize(Alice, "10.0.0.1", AclOperation.Write, AclResourceType.Topic, "anything"));
        // The topic ACLs say nothing about groups of the same name.
        Assert.False(a.Authorize(Alice, "10.0.0.1", AclOperation.Read, AclResourceType.Group, "exact"));
        Assert.False(a.Authorize(Bob, "10.0.0.1", AclOperation.Read, AclResourceType.Topic, "exact"));
    }

    [Fact]
    public void Deny_wins_over_allow_and_all_and_wildcard_principal_and_host_match()
    {
        var a = Authorizer(false,
            Topic("t", AclOperation.All, principal: "User:*"),
            Topic("t", AclOperation.Write, AclPermissionType.Deny, pattern: AclPatternType.Prefixed),
            Topic("h", AclOperation.Read, host: "10.0.0.9"));
        Assert.True(a.Authorize(Bob, "1.2.3.4", AclOperation.Write, AclResourceType.Topic, "t"));
        Assert.False(a.Authorize(Alice, "1.2.3.4", AclOperation.Write, AclResourceType.Topic, "t"));
        Assert.True(a.Authorize(Alice, "1.2.3.4", AclOperation.Read, AclResourceType.Topic, "t"));
        Assert.True(a.Authorize(Alice, "10.0.0.9", AclOperation.Read, AclResourceType.Topic, "h"));
        Assert.False(a.Authorize(Alice, "10.0.0.8", AclOperation.Read, AclResourceType.Topic, "h"));
    }

    [Fact]
    public void Read_write_delete_alter_imply_describe_and_alter_configs_implies_describe_configs_but_denials_are_not_implied()
    {
        foreach (var op in new[] { AclOperation.Read, AclOperation.Write, AclOperation.Delete, AclOperation.Alter })
        {
            var a = new AclAuthorizer(new AclStore(Path.Combine(_dir, op.ToString())), [], false);
            a.CreateAcls([Topic("t", op)]);
            Assert.True(a.Authorize(Alice, "h", AclOperation.Describe, AclResourceType.Topic, "t"));
            Assert.False(a.Authorize(Alice, "h", AclOperation.DescribeConfigs, AclResourceType.Topic, "t"));
        }
        var configs = Authorizer(false, Topic("c", AclOperation.AlterConfigs), Topic("c", AclOperation.Read), Topic("c", AclOperation.Read, AclPermissionType.Deny, principal: "User:bob"), Topic("c", AclOperation.Describe, principal: "User:bob"));
        Assert.True(configs.Authorize(Alice, "h", AclOperation.DescribeConfigs, AclResourceType.Topic, "c"));
        Assert.False(configs.Authorize(Alice, "h", AclOperation.Write, AclResourceType.Topic, "c"));
        // A READ denial does not deny DESCRIBE.
        Assert.True(configs.Authorize(Bob, "h", AclOperation.Describe, AclResourceType.Topic, "c"));
    }

    [Fact]
    public void Super_users_bypass_and_allow_everyone_applies_only_to_resources_no_acl_covers()
    {
        var closed = Authorizer(false, Topic("t", AclOperation.Write, AclPermissionType.Deny, principal: "User:*"));
        Assert.True(closed.Authorize(KafkaPrincipal.User("admin"), "h", AclOperation.Write, AclResourceType.Topic, "t"));
        Assert.False(closed.Authorize(Alice, "h", AclOperation.Read, AclResourceType.Topic, "free"));

        var open = new AclAuthorizer(new AclStore(_dir), [], allowEveryoneIfNoAclFound: true);
        Assert.True(open.Authorize(Alice, "h", AclOperation.Read, AclResourceType.Topic, "free"));
        Assert.False(open.Authorize(Alice, "h", AclOperation.Read, AclResourceType.Topic, "t"));
    }

    [Fact]
    public void Acls_persist_bad_ones_are_refused_and_delete_filters_remove_what_they_match()
    {
        var a = Authorizer(false, Topic("a b/ü", AclOperation.Read), Topic("p", AclOperation.Write, pattern: AclPatternType.Prefixed, principal: "User:bob"));
        var problems = a.CreateAcls(
        [
            Topic("", AclOperation.Read),
            Topic("x", AclOperation.Any),
            Topic("x", AclOperation.Read, AclPermissionType.Any),
            Topic("x", AclOperation.Read, principal: "alice"),
            new AclBinding(AclResourceType.Cluster, "other", AclPatternType.Literal, "User:alice", "*", AclOperation.Alter, AclPermissionType.Allow),
        ]);
        Assert.All(problems, Assert.NotNull);

        var reopened = new AclAuthorizer(new AclStore(_dir), [], false);
        Assert.True(reopened.Authorize(Alice, "h", AclOperation.Read, AclResourceType.Topic, "a b/ü"));
        Assert.True(reopened.Authorize(Bob, "h", AclOperation.Write, AclResourceType.Topic, "px"));

        var removed = reopened.DeleteAcls([new AclBindingFilter(AclResourceType.Topic, "px", AclPatternType.Match, null, null, AclOperation.Any, AclPermissionType.Any)]);
        Assert.Equal("User:bob", removed.Single().Single().Principal);
        Assert.False(new AclAuthorizer(new AclStore(_dir), [], false).Authorize(Bob, "h", AclOperation.Write, AclResourceType.Topic, "px"));
        Assert.Single(reopened.DescribeAcls(new AclBindingFilter(AclResourceType.Any, null, AclPatternType.Any, null, null, AclOperation.Any, AclPermissionType.Any)));
    }

    [Fact]
    public void A_damaged_acl_file_names_its_line()
    {
        File.WriteAllLines(Path.Combine(_dir, AclStore.FileName), ["# header", "v1 Topic Literal t User%3Aalice * Read"]);
        var e = Assert.Throws<Samsa.Storage.StorageException>(() => new AclStore(_dir));
        Assert.Contains(":2:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_keys_turn_the_authorizer_on_and_name_themselves_when_wrong()
    {
        var o = BrokerConfig.Apply(new BrokerOptions(), "authorizer.class.name", "kafka.security.authorizer.AclAuthorizer");
        o = BrokerConfig.Apply(o, "super.users", "User:alice; User:CN=ops,O=acme");
        o = BrokerConfig.Apply(o, "allow.everyone.if.no.acl.found", "true");
        Assert.True(o.AclAuthorizer);
        Assert.Equal(["User:alice", "User:CN=ops,O=acme"], o.SuperUsers);
        Assert.True(o.AllowEveryoneIfNoAclFound);
        Assert.False(new BrokerOptions().AclAuthorizer);
        Assert.Contains("authorizer.class.name", Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "authorizer.class.name", "com.example.Mine")).Message, StringComparison.Ordinal);
        Assert.Contains("super.users", Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "super.users", "alice")).Message, StringComparison.Ordinal);
        Assert.Contains("allow.everyone.if.no.acl.found", Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "allow.everyone.if.no.acl.found", "yes")).Message, StringComparison.Ordinal);
    }
}
