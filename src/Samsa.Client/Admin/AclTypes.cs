namespace Samsa.Client.Admin;

/// <summary>What an ACL protects (Kafka's <c>ResourceType</c>, with its wire codes).</summary>
public enum AclResourceType : sbyte
{
    /// <summary>A type this client does not know.</summary>
    Unknown = 0,
    /// <summary>Filters only: any type.</summary>
    Any = 1,
    /// <summary>A topic.</summary>
    Topic = 2,
    /// <summary>A consumer or share group.</summary>
    Group = 3,
    /// <summary>The cluster (resource name <c>kafka-cluster</c>).</summary>
    Cluster = 4,
    /// <summary>A producer's transactional id.</summary>
    TransactionalId = 5,
    /// <summary>A delegation token.</summary>
    DelegationToken = 6,
    /// <summary>A user (for quotas and SCRAM credentials).</summary>
    User = 7,
}

/// <summary>How an ACL's resource name matches (Kafka's <c>PatternType</c>).</summary>
public enum AclPatternType : sbyte
{
    /// <summary>A pattern type this client does not know.</summary>
    Unknown = 0,
    /// <summary>Filters only: any pattern type.</summary>
    Any = 1,
    /// <summary>Filters only: every binding that applies to the named resource (literal, wildcard and prefixes).</summary>
    Match = 2,
    /// <summary>The name exactly, or <c>*</c> for every resource of the type.</summary>
    Literal = 3,
    /// <summary>Every resource whose name starts with the given one.</summary>
    Prefixed = 4,
}

/// <summary>What an ACL allows or denies (Kafka's <c>AclOperation</c>).</summary>
public enum AclOperation : sbyte
{
    /// <summary>An operation this client does not know.</summary>
    Unknown = 0,
    /// <summary>Filters only: any operation.</summary>
    Any = 1,
    /// <summary>Every operation.</summary>
    All = 2,
    /// <summary>Read (fetch, join a group, commit offsets).</summary>
    Read = 3,
    /// <summary>Write (produce).</summary>
    Write = 4,
    /// <summary>Create topics.</summary>
    Create = 5,
    /// <summary>Delete topics, records or groups.</summary>
    Delete = 6,
    /// <summary>Alter (partitions, ACLs).</summary>
    Alter = 7,
    /// <summary>Describe (metadata, offsets, groups).</summary>
    Describe = 8,
    /// <summary>Broker-to-broker actions.</summary>
    ClusterAction = 9,
    /// <summary>Describe configs.</summary>
    DescribeConfigs = 10,
    /// <summary>Alter configs.</summary>
    AlterConfigs = 11,
    /// <summary>Idempotent produce.</summary>
    IdempotentWrite = 12,
    /// <summary>Create delegation tokens.</summary>
    CreateTokens = 13,
    /// <summary>Describe delegation tokens.</summary>
    DescribeTokens = 14,
}

/// <summary>Allow or deny (Kafka's <c>AclPermissionType</c>).</summary>
public enum AclPermissionType : sbyte
{
    /// <summary>A permission type this client does not know.</summary>
    Unknown = 0,
    /// <summary>Filters only: either.</summary>
    Any = 1,
    /// <summary>Deny: wins over any allow.</summary>
    Deny = 2,
    /// <summary>Allow.</summary>
    Allow = 3,
}

/// <summary>
/// One ACL (Kafka's <c>AclBinding</c>: a resource pattern and an access control entry): the principal
/// (<c>User:alice</c>, <c>User:*</c>) connecting from the host (<c>*</c> for any) may or may not perform
/// the operation on the resource.
/// </summary>
/// <param name="ResourceType">The resource's type.</param>
/// <param name="ResourceName">The resource's name, <c>*</c> for all, or a prefix with <see cref="AclPatternType.Prefixed"/>.</param>
/// <param name="PatternType">Literal or prefixed.</param>
/// <param name="Principal">Who, as <c>Type:name</c>.</param>
/// <param name="Host">From which address; <c>*</c> for any.</param>
/// <param name="Operation">What.</param>
/// <param name="Permission">Allow or deny.</param>
public sealed record AclBinding(AclResourceType ResourceType, string ResourceName, AclPatternType PatternType,
    string Principal, string Host, AclOperation Operation, AclPermissionType Permission)
{
    /// <summary>The name of the one cluster resource.</summary>
    public const string ClusterResourceName = "kafka-cluster";
}

/// <summary>
/// Which ACLs to describe or delete (Kafka's <c>AclBindingFilter</c>): each field narrows the match;
/// the defaults (Any, null) match every ACL.
/// </summary>
/// <param name="ResourceType">The resource type, or Any.</param>
/// <param name="ResourceName">The resource name, or null for any.</param>
/// <param name="PatternType">Any, Match, Literal or Prefixed.</param>
/// <param name="Principal">The principal, or null for any.</param>
/// <param name="Host">The host, or null for any.</param>
/// <param name="Operation">The operation, or Any.</param>
/// <param name="Permission">The permission, or Any.</param>
public sealed record AclBindingFilter(AclResourceType ResourceType = AclResourceType.Any, string? ResourceName = null,
    AclPatternType PatternType = AclPatternType.Any, string? Principal = null, string? Host = null,
    AclOperation Operation = AclOperation.Any, AclPermissionType Permission = AclPermissionType.Any)
{
    /// <summary>Matches every ACL.</summary>
    public static AclBindingFilter All { get; } = new();
}
