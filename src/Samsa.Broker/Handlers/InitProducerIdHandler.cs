using Samsa.Broker.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// InitProducerId v0-6 for idempotent producers (no transactional id): hands out producer ids.
// A known producer id comes back with its epoch bumped. Not implemented yet: transactions (a
// transactional id is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, the closest error a
// client reports clearly) and per-partition sequence checks in Produce.
internal sealed class InitProducerIdHandler : IApiHandler
{
    private long _nextProducerId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 8;

    public ApiKey Key => ApiKey.InitProducerId;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (InitProducerIdRequest)request;
        if (!string.IsNullOrEmpty(r.TransactionalId))
            return ValueTask.FromResult<IResponse?>(new InitProducerIdResponse { ErrorCode = ErrorCode.TransactionalIdAuthorizationFailed });
        if (r.ProducerId >= 0)
            return ValueTask.FromResult<IResponse?>(new InitProducerIdResponse { ProducerId = r.ProducerId, ProducerEpoch = (short)(r.ProducerEpoch + 1) });
        return ValueTask.FromResult<IResponse?>(new InitProducerIdResponse { ProducerId = Interlocked.Increment(ref _nextProducerId), ProducerEpoch = 0 });
    }
}
