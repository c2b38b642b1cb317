namespace Samsa.Broker.Security.Authorization;

/// <summary>
/// Kafka's ACL rules (AclAuthorizer / StandardAuthorizer): super users may do anything; otherwise
/// the ACLs whose pattern covers the resource (literal name, literal <c>*</c>, or a prefix of the
/// name) decide: a matching DENY refuses, else a matching ALLOW permits, else nothing does. A
/// resource no ACL covers at all is allowed only with allow.everyone.if.no.acl.found. An entry
/// matches a principal by equal name or <c>User:*</c>, a host by equal address or <c>*</c>, an
/// operation by equal operation or ALL; an ALLOW of READ, WRITE, DELETE or ALTER also allows
/// DESCRIBE, and one of ALTER_CONFIGS allows DESCRIBE_CONFIGS (denials are never implied).
/// </summary>
public sealed class AclAuthorizer(AclStore store, IReadOnlyCollection<string> superUsers, bool allowEveryoneIfNoAclFound) : IAuthorizer
{
    private readonly HashSet<string> _superUsers = new(superUsers, StringComparer.Ordinal);

    /// <summary>The names Kafka's server.properties uses for its ACL authorizers; either turns ours on.</summary>
    public static readonly string[] KafkaClassNames =
    [
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "kafka.security.authorizer.AclAuthorizer",
    ];

    public bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, AclResourceType resourceType, string resourceName)
    {
        string who = principal.ToString();
        if (_superUsers.Contains(who))
            return true;
        bool covered = false, allowed = false;
        foreach (var acl in store.For(resourceType))
        {
            if (!Covers(acl, resourceName))
                continue;
            covered = true;
            if (!(acl.Principal == who || acl.Principal == AclBinding.WildcardPrincipal) || !(acl.Host == host || acl.Host == AclBinding.Wildcard))
                continue;
            if (acl.Permission == AclPermissionType.Deny)
            {
                if (acl.Operation == operation || acl.Operation == AclOperation.All)
                    return false;
            }
            else if (!allowed && Allows(acl.Operation, operation))
            {
                allowed = true;
            }
        }
        return allowed || (!covered && allowEveryoneIfNoAclFound);
    }

    private static bool Covers(AclBinding acl, string name) => acl.PatternType == AclPatternType.Prefixed
        ? name.StartsWith(acl.ResourceName, StringComparison.Ordinal)
        : acl.ResourceName == name || acl.ResourceName == AclBinding.Wildcard;

    private static bool Allows(AclOperation granted, AclOperation wanted) =>
        granted == wanted || granted == AclOperation.All
        || (wanted == AclOperation.Describe && granted is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter)
        || (wanted == AclOperation.DescribeConfigs && granted == AclOperation.AlterConfigs);

    public IReadOnlyList<string?> CreateAcls(IReadOnlyList<AclBinding> bindings)
    {
        var problems = bindings.Select(b => b.Problem()).ToList();
        store.Add(bindings.Where((_, i) => problems[i] is null).ToList());
        return problems;
    }

    public IReadOnlyList<AclBinding> DescribeAcls(AclBindingFilter filter) => store.All().Where(filter.Matches).ToList();

    public IReadOnlyList<IReadOnlyList<AclBinding>> DeleteAcls(IReadOnlyList<AclBindingFilter> filters) => store.Remove(filters);
}
