using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Network;

/// <summary>One Kafka API. Handlers may complete asynchronously (fetch waiting, group joins);
/// the connection still writes responses in request order.</summary>
internal interface IApiHandler
{
    ApiKey Key { get; }

    /// <summary>The oldest version served, when older schema versions are not (e.g. SaslHandshake v0's raw tokens).</summary>
    short LowestVersion => -1;

    /// <summary>Returns the response, or null when none is sent (Produce with acks=0).</summary>
    ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken);
}
