using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DescribeAcls v0-3: the bindings a filter selects, grouped by resource pattern. Needs DESCRIBE on
// the cluster (else CLUSTER_AUTHORIZATION_FAILED); without an authorizer SECURITY_DISABLED, as Kafka
// answers; a filter with unknown codes INVALID_REQUEST. v0 filters are LITERAL (no pattern field).
internal sealed class DescribeAclsHandler(IAuthorizer? authorizer) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeAcls;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeAclsRequest)request;
        var response = new DescribeAclsResponse { ErrorMessage = null };
        var filter = new AclBindingFilter((AclResourceType)r.ResourceTypeFilter, r.ResourceNameFilter, (AclPatternType)r.PatternTypeFilter,
            r.PrincipalFilter, r.HostFilter, (AclOperation)r.Operation, (AclPermissionType)r.PermissionType);
        if (authorizer is null)
            (response.ErrorCode, response.ErrorMessage) = (ErrorCode.SecurityDisabled, AclErrors.Disabled);
        else if (!context.AuthorizeCluster(AclOperation.Describe))
            (response.ErrorCode, response.ErrorMessage) = (ErrorCode.ClusterAuthorizationFailed, AclErrors.Denied("describe ACLs"));
        else if (filter.Problem() is { } problem)
            (response.ErrorCode, response.ErrorMessage) = (ErrorCode.InvalidRequest, problem);
        else
        {
            foreach (var group in authorizer.DescribeAcls(filter).GroupBy(b => (b.ResourceType, b.ResourceName, b.PatternType)))
            {
                response.Resources.Add(new DescribeAclsResponse.DescribeAclsResource
                {
                    ResourceType = (sbyte)group.Key.ResourceType,
                    ResourceName = group.Key.ResourceName,
                    PatternType = (sbyte)group.Key.PatternType,
                    Acls = group.Select(b => new DescribeAclsResponse.AclDescription
                    {
                        Principal = b.Principal,
                        Host = b.Host,
                        Operation = (sbyte)b.Operation,
                        PermissionType = (sbyte)b.Permission,
                    }).ToList(),
                });
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// CreateAcls v0-3: needs ALTER on the cluster; each creation is stored or refused on its own
// (INVALID_REQUEST with the reason), the stored ones written to the data directory before the answer.
internal sealed class CreateAclsHandler(IAuthorizer? authorizer) : IApiHandler
{
    public ApiKey Key => ApiKey.CreateAcls;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (CreateAclsRequest)request;
        var response = new CreateAclsResponse();
        var refusal = AclErrors.Refusal(authorizer, context, "create ACLs");
        if (refusal is { } refused)
        {
            response.Results = r.Creations.Select(_ => new CreateAclsResponse.AclCreationResult { ErrorCode = refused.Code, ErrorMessage = refused.Message }).ToList();
            return ValueTask.FromResult<IResponse?>(response);
        }
        var bindings = r.Creations.Select(c => new AclBinding((AclResourceType)c.ResourceType, c.ResourceName, (AclPatternType)c.ResourcePatternType,
            c.Principal, c.Host, (AclOperation)c.Operation, (AclPermissionType)c.PermissionType)).ToList();
        var problems = authorizer!.CreateAcls(bindings);
        response.Results = problems.Select(p => p is null
            ? new CreateAclsResponse.AclCreationResult { ErrorMessage = null }
            : new CreateAclsResponse.AclCreationResult { ErrorCode = ErrorCode.InvalidRequest, ErrorMessage = p }).ToList();
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// DeleteAcls v0-3: needs ALTER on the cluster; every binding a filter matches is removed (and
// listed in that filter's result), written to the data directory before the answer.
internal sealed class DeleteAclsHandler(IAuthorizer? authorizer) : IApiHandler
{
    public ApiKey Key => ApiKey.DeleteAcls;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DeleteAclsRequest)request;
        var response = new DeleteAclsResponse();
        var filters = r.Filters.Select(f => new AclBindingFilter((AclResourceType)f.ResourceTypeFilter, f.ResourceNameFilter, (AclPatternType)f.PatternTypeFilter,
            f.PrincipalFilter, f.HostFilter, (AclOperation)f.Operation, (AclPermissionType)f.PermissionType)).ToList();
        var refusal = AclErrors.Refusal(authorizer, context, "delete ACLs");
        if (refusal is null && filters.Select(f => f.Problem()).FirstOrDefault(p => p is not null) is { } problem)
            refusal = (ErrorCode.InvalidRequest, problem);
        if (refusal is { } refused)
        {
            response.FilterResults = filters.Select(_ => new DeleteAclsResponse.DeleteAclsFilterResult { ErrorCode = refused.Code, ErrorMessage = refused.Message }).ToList();
            return ValueTask.FromResult<IResponse?>(response);
        }
        foreach (var removed in authorizer!.DeleteAcls(filters))
        {
            response.FilterResults.Add(new DeleteAclsResponse.DeleteAclsFilterResult
            {
                ErrorMessage = null,
                MatchingAcls = removed.Select(b => new DeleteAclsResponse.DeleteAclsMatchingAcl
                {
                    ErrorMessage = null,
                    ResourceType = (sbyte)b.ResourceType,
                    ResourceName = b.ResourceName,
                    PatternType = (sbyte)b.PatternType,
                    Principal = b.Principal,
                    Host = b.Host,
                    Operation = (sbyte)b.Operation,
                    PermissionType = (sbyte)b.Permission,
                }).ToList(),
            });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

internal static class AclErrors
{
    public const string Disabled = "No authorizer is configured on the broker (authorizer.class.name).";

    public static string Denied(string what) => $"Cluster authorization failed: not allowed to {what}.";

    /// <summary>Why an ACL change is refused before looking at it: no authorizer, or no ALTER on the cluster.</summary>
    public static (ErrorCode Code, string Message)? Refusal(IAuthorizer? authorizer, RequestContext context, string what) =>
        authorizer is null ? (ErrorCode.SecurityDisabled, Disabled)
        : !context.AuthorizeCluster(AclOperation.Alter) ? (ErrorCode.ClusterAuthorizationFailed, Denied(what))
        : null;
}
