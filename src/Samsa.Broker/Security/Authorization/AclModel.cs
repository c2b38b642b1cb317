namespace Samsa.Broker.Security.Authorization;

/// <summary>Kafka's resource types, by their wire codes (org.apache.kafka.common.resource.ResourceType).</summary>
public enum AclResourceType : sbyte
{
    Unknown = 0,
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
}

/// <summary>Kafka's pattern types: a binding is LITERAL or PREFIXED; filters also take ANY and MATCH.</summary>
public enum AclPatternType : sbyte
{
    Unknown = 0,
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
}

/// <summary>Kafka's ACL operations, by their wire codes (org.apache.kafka.common.acl.AclOperation).</summary>
public enum AclOperation : sbyte
{
    Unknown = 0,
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
}

/// <summary>ALLOW or DENY (ANY in filters only).</summary>
public enum AclPermissionType : sbyte
{
    Unknown = 0,
    Any = 1,
    Deny = 2,
    Allow = 3,
}

/// <summary>
/// One ACL as Kafka stores it: the resource pattern it applies to and the entry
/// (principal, host, operation, permission). A resource name of <c>*</c> (literal) matches every
/// resource of its type; principal <c>User:*</c> and host <c>*</c> match everyone.
/// </summary>
public sealed record AclBinding(AclResourceType ResourceType, string ResourceName, AclPatternType PatternType,
    string Principal, string Host, AclOperation Operation, AclPermissionType Permission)
{
    public const string Wildcard = "*";
    public const string WildcardPrincipal = "User:*";

    /// <summary>Why Kafka would refuse to store this binding, or null when it is valid.</summary>
    public string? Problem()
    {
        if (ResourceType is AclResourceType.Unknown or AclResourceType.Any || !Enum.IsDefined(ResourceType))
            return "the resource type must be a concrete type (topic, group, cluster, transactional id, ...)";
        if (PatternType is not (AclPatternType.Literal or AclPatternType.Prefixed))
            return "the pattern type must be LITERAL or PREFIXED";
        if (string.IsNullOrEmpty(ResourceName))
            return "the resource name must not be empty";
        if (ResourceType == AclResourceType.Cluster && (ResourceName != "kafka-cluster" || PatternType != AclPatternType.Literal))
            return "a cluster ACL's resource must be the literal name kafka-cluster";
        if (Operation is AclOperation.Unknown or AclOperation.Any || !Enum.IsDefined(Operation))
            return "the operation must be a concrete operation";
        if (Permission is not (AclPermissionType.Allow or AclPermissionType.Deny))
            return "the permission type must be ALLOW or DENY";
        int colon = Principal.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == Principal.Length - 1)
            return $"'{Principal}' is not a principal (expected Type:name, e.g. User:alice)";
        if (string.IsNullOrEmpty(Host))
            return "the host must not be empty (use * for any host)";
        return null;
    }
}

/// <summary>
/// What DescribeAcls and DeleteAcls select: Any (or null strings) match everything; pattern type
/// MATCH selects the bindings that would apply to the named resource (literal, wildcard and prefixes of it).
/// </summary>
public sealed record AclBindingFilter(AclResourceType ResourceType, string? ResourceName, AclPatternType PatternType,
    string? Principal, string? Host, AclOperation Operation, AclPermissionType Permission)
{
    public bool Matches(AclBinding binding)
    {
        if (ResourceType != AclResourceType.Any && ResourceType != binding.ResourceType)
            return false;
        if (!MatchesPattern(binding))
            return false;
        return (Principal is null || Principal == binding.Principal)
            && (Host is null || Host == binding.Host)
            && (Operation == AclOperation.Any || Operation == binding.Operation)
            && (Permission == AclPermissionType.Any || Permission == binding.Permission);
    }

    private bool MatchesPattern(AclBinding binding)
    {
        switch (PatternType)
        {
            case AclPatternType.Any:
                return ResourceName is null || ResourceName == binding.ResourceName;
            case AclPatternType.Match:
                if (ResourceName is null)
                    return true;
                return binding.PatternType == AclPatternType.Literal
                    ? binding.ResourceName == ResourceName || binding.ResourceName == AclBinding.Wildcard
                    : ResourceName.StartsWith(binding.ResourceName, StringComparison.Ordinal);
            default:
                return PatternType == binding.PatternType && (ResourceName is null || ResourceName == binding.ResourceName);
        }
    }

    /// <summary>Why the filter is not one Kafka accepts, or null.</summary>
    public string? Problem() =>
        ResourceType == AclResourceType.Unknown || !Enum.IsDefined(ResourceType) ? "unknown resource type"
        : PatternType == AclPatternType.Unknown || !Enum.IsDefined(PatternType) ? "unknown pattern type"
        : Operation == AclOperation.Unknown || !Enum.IsDefined(Operation) ? "unknown operation"
        : Permission == AclPermissionType.Unknown || !Enum.IsDefined(Permission) ? "unknown permission type"
        : null;
}
