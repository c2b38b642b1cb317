using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// ApiVersions v0-4. Advertises exactly the apis this broker has handlers for, each over its full
// schema range (old versions included: librdkafka probes features by the advertised minimums).
// A version we do not know is answered by the dispatcher with a v0 body (KIP-511). The share-group
// APIs (76-79, 90-92) are there only with share.version 1, the default (they have no handler otherwise).
// Not implemented: SupportedFeatures/FinalizedFeatures (no feature flags on a single node: share.version
// is a broker setting here, not a finalized feature).
internal sealed class ApiVersionsHandler(Func<IReadOnlyList<ApiVersionsResponse.ApiVersion>> advertised) : IApiHandler
{
    public ApiKey Key => ApiKey.ApiVersions;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IResponse?>(new ApiVersionsResponse { ApiKeys = [.. advertised()] });
}
