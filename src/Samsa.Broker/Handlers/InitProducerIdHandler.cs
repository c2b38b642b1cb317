using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// InitProducerId v0-6. Without a transactional id: an idempotent producer gets a new id from the
// shared allocator (a known id comes back with its epoch bumped). With one: the transaction
// coordinator (new id, epoch bumps, KIP-360 bumps with the caller's id and epoch, an open transaction
// aborted first, epoch exhaustion rotating the id, INVALID_TRANSACTION_TIMEOUT above
// transaction.max.timeout.ms); PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4, as Kafka answers.
// An empty transactional id, or a producer id without an epoch (or the reverse), is INVALID_REQUEST.
// With an authorizer a transactional id needs WRITE on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
// Not implemented: KIP-939 two-phase commit (Enable2Pc is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// as Kafka does when transaction.two.phase.commit.enable is off).
internal sealed class InitProducerIdHandler(TransactionCoordinator transactions) : IApiHandler
{
    public ApiKey Key => ApiKey.InitProducerId;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (InitProducerIdRequest)request;
        InitProducerIdResponse response;
        if ((r.ProducerId == -1) != (r.ProducerEpoch == -1))
            response = new InitProducerIdResponse { ErrorCode = ErrorCode.InvalidRequest }; // an id without an epoch, or the reverse (Kafka's check)
        else if (r.TransactionalId is null)
        {
            response = r.ProducerId >= 0
                ? new InitProducerIdResponse { ProducerId = r.ProducerId, ProducerEpoch = (short)(r.ProducerEpoch + 1) }
                : new InitProducerIdResponse { ProducerId = transactions.Ids.Next(), ProducerEpoch = 0 };
        }
        else if (!context.Authorize(AclOperation.Write, AclResourceType.TransactionalId, r.TransactionalId) || r.Enable2Pc)
            response = new InitProducerIdResponse { ErrorCode = ErrorCode.TransactionalIdAuthorizationFailed };
        else
            response = transactions.InitProducerId(r.TransactionalId, r.TransactionTimeoutMs, r.ProducerId, r.ProducerEpoch);
        if (response.ErrorCode == ErrorCode.ProducerFenced && context.ApiVersion < 4)
            response.ErrorCode = ErrorCode.InvalidProducerEpoch;
        if (response.ErrorCode != ErrorCode.None)
            (response.ProducerId, response.ProducerEpoch) = (-1, -1);
        return ValueTask.FromResult<IResponse?>(response);
    }
}
