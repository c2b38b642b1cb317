using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

// CreateAcls, DescribeAcls and DeleteAcls: what kafka-acls.sh does. ACL requests go to any broker
// (Kafka forwards them to the controller); they need an authorizer on the broker, or the broker
// answers SECURITY_DISABLED.
public sealed partial class KafkaAdminClient
{
    /// <inheritdoc />
    public async Task CreateAclsAsync(IEnumerable<AclBinding> acls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(acls);
        var bindings = acls.ToList();
        if (bindings.Count == 0)
            return;
        var request = new CreateAclsRequest
        {
            Creations = bindings.Select(b => new CreateAclsRequest.AclCreation
            {
                ResourceType = (sbyte)b.ResourceType,
                ResourceName = b.ResourceName,
                ResourcePatternType = (sbyte)b.PatternType,
                Principal = b.Principal,
                Host = b.Host,
                Operation = (sbyte)b.Operation,
                PermissionType = (sbyte)b.Permission,
            }).ToList(),
        };
        var response = await ToControllerAsync<CreateAclsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Results.Select((r, i) => (r.ErrorCode, r.ErrorMessage, $"ACL {Describe(bindings[Math.Min(i, bindings.Count - 1)])}")));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AclBinding>> DescribeAclsAsync(AclBindingFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var request = new DescribeAclsRequest
        {
            ResourceTypeFilter = (sbyte)filter.ResourceType,
            ResourceNameFilter = filter.ResourceName,
            PatternTypeFilter = (sbyte)filter.PatternType,
            PrincipalFilter = filter.Principal,
            HostFilter = filter.Host,
            Operation = (sbyte)filter.Operation,
            PermissionType = (sbyte)filter.Permission,
        };
        var response = await ToControllerAsync<DescribeAclsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst([(response.ErrorCode, response.ErrorMessage, "describe ACLs")]);
        return response.Resources.SelectMany(r => r.Acls.Select(a => new AclBinding(
            (AclResourceType)r.ResourceType, r.ResourceName, (AclPatternType)r.PatternType,
            a.Principal, a.Host, (AclOperation)a.Operation, (AclPermissionType)a.PermissionType))).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AclBinding>> DeleteAclsAsync(IEnumerable<AclBindingFilter> filters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var list = filters.ToList();
        if (list.Count == 0)
            return [];
        var request = new DeleteAclsRequest
        {
            Filters = list.Select(f => new DeleteAclsRequest.DeleteAclsFilter
            {
                ResourceTypeFilter = (sbyte)f.ResourceType,
                ResourceNameFilter = f.ResourceName,
                PatternTypeFilter = (sbyte)f.PatternType,
                PrincipalFilter = f.Principal,
                HostFilter = f.Host,
                Operation = (sbyte)f.Operation,
                PermissionType = (sbyte)f.Permission,
            }).ToList(),
        };
        var response = await ToControllerAsync<DeleteAclsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.FilterResults.Select(r => (r.ErrorCode, r.ErrorMessage, "delete ACLs")));
        ThrowFirst(response.FilterResults.SelectMany(r => r.MatchingAcls).Select(m => (m.ErrorCode, m.ErrorMessage, "delete ACL")));
        return response.FilterResults.SelectMany(r => r.MatchingAcls).Select(m => new AclBinding(
            (AclResourceType)m.ResourceType, m.ResourceName, (AclPatternType)m.PatternType,
            m.Principal, m.Host, (AclOperation)m.Operation, (AclPermissionType)m.PermissionType)).ToList();
    }

    private static string Describe(AclBinding b) =>
        $"{b.Permission} {b.Principal} from {b.Host} {b.Operation} on {b.ResourceType}:{b.PatternType}:{b.ResourceName}";
}
