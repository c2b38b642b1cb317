using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Handlers;

// KIP-890 part 1: a transactional batch is appended only to a partition the producer's open
// transaction has added (Kafka's partition leader asks the coordinator, AddPartitionsToTxn v4
// VerifyOnly; here it is one call). Refusals as Kafka gives them: TRANSACTION_ABORTABLE from
// Produce v11 (INVALID_TXN_STATE before), INVALID_PRODUCER_EPOCH for a fenced epoch,
// INVALID_PRODUCER_ID_MAPPING for a producer the id does not have. With an authorizer the
// transactional id needs WRITE (TRANSACTIONAL_ID_AUTHORIZATION_FAILED). Not done: Kafka refuses
// transactional batches sent without a transactional id; here they are appended unverified.
internal sealed partial class ProduceHandler
{
    private (ErrorCode, string)? VerifyTransaction(ProduceRequest request, Network.RequestContext context, string topic, ProduceRequest.PartitionProduceData partition)
    {
        if (transactions is null || request.TransactionalId is not { Length: > 0 } transactionalId)
            return null;
        var records = (partition.Records ?? default).Span;
        if (records.Length < RecordBatchHeader.Size)
            return null;
        var h = RecordBatchHeader.Read(records);
        if (h.Magic != RecordBatchHeader.CurrentMagic || !h.IsTransactional || h.IsControl)
            return null;
        if (!context.Authorize(Security.Authorization.AclOperation.Write, Security.Authorization.AclResourceType.TransactionalId, transactionalId))
            return (ErrorCode.TransactionalIdAuthorizationFailed, $"Not authorized to write for transactional id {transactionalId}.");
        var error = transactions.VerifyPartition(transactionalId, h.ProducerId, h.ProducerEpoch, topic, partition.Index, abortableKnown: context.ApiVersion >= 11);
        // As Kafka's partition leader: a producer does not retry CONCURRENT_TRANSACTIONS (markers being
        // written) or coordinator errors from Produce, so they go out as NOT_ENOUGH_REPLICAS, which it does.
        if (error is ErrorCode.ConcurrentTransactions or ErrorCode.CoordinatorNotAvailable or ErrorCode.CoordinatorLoadInProgress or ErrorCode.NotCoordinator)
            error = ErrorCode.NotEnoughReplicas;
        return error == ErrorCode.None
            ? null
            : (error, $"Transactional id {transactionalId} (producer {h.ProducerId} epoch {h.ProducerEpoch}) has not added {topic}-{partition.Index} to an open transaction ({error}).");
    }
}
