namespace Samsa.Broker.Security.Authorization;

/// <summary>
/// Decides whether a principal may do an operation on a resource, and keeps the ACLs that decide
/// it (CreateAcls, DescribeAcls, DeleteAcls). Handlers reach it only through
/// <see cref="Network.RequestContext.Authorize"/>; without one configured, everything is allowed.
/// </summary>
public interface IAuthorizer
{
    bool Authorize(KafkaPrincipal principal, string host, AclOperation operation, AclResourceType resourceType, string resourceName);

    /// <summary>Adds the bindings; per binding, null or why it was refused. Stored before this returns.</summary>
    IReadOnlyList<string?> CreateAcls(IReadOnlyList<AclBinding> bindings);

    IReadOnlyList<AclBinding> DescribeAcls(AclBindingFilter filter);

    /// <summary>Removes every binding each filter matches, stored before this returns; per filter, what it removed.</summary>
    IReadOnlyList<IReadOnlyList<AclBinding>> DeleteAcls(IReadOnlyList<AclBindingFilter> filters);
}
