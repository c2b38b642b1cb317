using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// AddPartitionsToTxn v0-4. v0-3 (producers): one transaction; a partition of an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, otherwise the coordinator's
// answer for all. v4 (brokers, CLUSTER_ACTION): several transactions, VerifyOnly answers KIP-890's
// check per partition (TRANSACTION_ABORTABLE for one not added). PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH before v2. With an authorizer: WRITE on the transactional id and each topic.
internal sealed class AddPartitionsToTxnHandler(TransactionCoordinator transactions, TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.AddPartitionsToTxn;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (AddPartitionsToTxnRequest)request;
        var response = new AddPartitionsToTxnResponse();
        if (context.ApiVersion >= 4)
        {
            if (!context.AuthorizeCluster(AclOperation.ClusterAction))
            {
                response.ErrorCode = ErrorCode.ClusterAuthorizationFailed;
                return ValueTask.FromResult<IResponse?>(response);
            }
            foreach (var t in r.Transactions)
            {
                var partitions = Partitions(t.Topics);
                Dictionary<(string Topic, int Partition), ErrorCode> results;
                if (t.VerifyOnly)
                    results = transactions.Verify(t.TransactionalId, t.ProducerId, t.ProducerEpoch, partitions).Partitions;
                else
                {
                    var error = transactions.AddPartitions(t.TransactionalId, t.ProducerId, t.ProducerEpoch, partitions);
                    results = partitions.ToDictionary(p => p, _ => error);
                }
                response.ResultsByTransaction.Add(new AddPartitionsToTxnResponse.AddPartitionsToTxnResult { TransactionalId = t.TransactionalId, TopicResults = Results(results) });
            }
            return ValueTask.FromResult<IResponse?>(response);
        }

        var requested = Partitions(r.V3AndBelowTopics);
        var errors = new Dictionary<(string, int), ErrorCode>();
        bool txnAuthorized = context.Authorize(AclOperation.Write, AclResourceType.TransactionalId, r.V3AndBelowTransactionalId);
        foreach (var p in requested)
        {
            if (!txnAuthorized)
                errors[p] = ErrorCode.TransactionalIdAuthorizationFailed;
            else if (!context.Authorize(AclOperation.Write, AclResourceType.Topic, p.Topic))
                errors[p] = ErrorCode.TopicAuthorizationFailed;
            else if (!topics.TryGet(p.Topic, out var topic) || p.Partition < 0 || p.Partition >= topic.Partitions.Length || topic.IsInternal)
                errors[p] = ErrorCode.UnknownTopicOrPartition;
        }
        if (errors.Count > 0)
        {
            foreach (var p in requested)
                errors.TryAdd(p, ErrorCode.OperationNotAttempted);
        }
        else
        {
            var error = transactions.AddPartitions(r.V3AndBelowTransactionalId, r.V3AndBelowProducerId, r.V3AndBelowProducerEpoch, requested);
            if (error == ErrorCode.ProducerFenced && context.ApiVersion < 2)
                error = ErrorCode.InvalidProducerEpoch;
            foreach (var p in requested)
                errors[p] = error;
        }
        response.ResultsByTopicV3AndBelow = Results(errors);
        return ValueTask.FromResult<IResponse?>(response);
    }

    private static List<(string Topic, int Partition)> Partitions(IEnumerable<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics) =>
        topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p))).Distinct().ToList();

    private static List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> Results(Dictionary<(string Topic, int Partition), ErrorCode> errors) =>
        errors.GroupBy(kv => kv.Key.Topic, StringComparer.Ordinal).Select(g => new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult
        {
            Name = g.Key,
            ResultsByPartition = g.Select(kv => new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult { PartitionIndex = kv.Key.Partition, PartitionErrorCode = (short)kv.Value }).ToList(),
        }).ToList();
}

// AddOffsetsToTxn v0-4: adds the group's __consumer_offsets partition to the transaction, before
// TxnOffsetCommit. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2. With an authorizer: WRITE on
// the transactional id, READ on the group.
internal sealed class AddOffsetsToTxnHandler(TransactionCoordinator transactions) : IApiHandler
{
    public ApiKey Key => ApiKey.AddOffsetsToTxn;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (AddOffsetsToTxnRequest)request;
        ErrorCode error;
        if (!context.Authorize(AclOperation.Write, AclResourceType.TransactionalId, r.TransactionalId))
            error = ErrorCode.TransactionalIdAuthorizationFailed;
        else if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            error = ErrorCode.GroupAuthorizationFailed;
        else
            error = transactions.AddOffsets(r.TransactionalId, r.ProducerId, r.ProducerEpoch, r.GroupId);
        if (error == ErrorCode.ProducerFenced && context.ApiVersion < 2)
            error = ErrorCode.InvalidProducerEpoch;
        return ValueTask.FromResult<IResponse?>(new AddOffsetsToTxnResponse { ErrorCode = error });
    }
}

// EndTxn v0-4 (transaction version 1; v5's per-transaction epoch bump is not served): commit or
// abort. Answered after the Prepare record, every marker and the Complete record are written; a
// marker that fails leaves the transaction prepared and is retried by the coordinator's periodic
// check. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2. Authorizer: WRITE on the id.
internal sealed class EndTxnHandler(TransactionCoordinator transactions) : IApiHandler
{
    public ApiKey Key => ApiKey.EndTxn;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (EndTxnRequest)request;
        var error = context.Authorize(AclOperation.Write, AclResourceType.TransactionalId, r.TransactionalId)
            ? transactions.EndTxn(r.TransactionalId, r.ProducerId, r.ProducerEpoch, r.Committed)
            : ErrorCode.TransactionalIdAuthorizationFailed;
        if (error == ErrorCode.ProducerFenced && context.ApiVersion < 2)
            error = ErrorCode.InvalidProducerEpoch;
        return ValueTask.FromResult<IResponse?>(new EndTxnResponse { ErrorCode = error });
    }
}

// TxnOffsetCommit v0-4: the producer must have added the group's __consumer_offsets partition to its
// open transaction (AddOffsetsToTxn; else INVALID_TXN_STATE, a fenced epoch INVALID_PRODUCER_EPOCH,
// as Kafka's verification answers these versions); then the group's member checks (v3+, KIP-447)
// and the offsets are written as the producer's transactional batch, pending until its marker.
// Authorizer: WRITE on the id, READ on the group and on each topic.
internal sealed class TxnOffsetCommitHandler(TransactionCoordinator transactions, GroupCoordinator groups, TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.TxnOffsetCommit;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (TxnOffsetCommitRequest)request;
        ErrorCode error = ErrorCode.None;
        if (!context.Authorize(AclOperation.Write, AclResourceType.TransactionalId, r.TransactionalId))
            error = ErrorCode.TransactionalIdAuthorizationFailed;
        else if (!context.Authorize(AclOperation.Read, AclResourceType.Group, r.GroupId))
            error = ErrorCode.GroupAuthorizationFailed;
        else
        {
            var (topic, partition) = transactions.OffsetsPartitionOf(r.GroupId);
            error = transactions.VerifyPartition(r.TransactionalId, r.ProducerId, r.ProducerEpoch, topic, partition, abortableKnown: false);
        }
        if (error != ErrorCode.None)
            return ValueTask.FromResult<IResponse?>(Answer(r, (_, _) => error));

        var refused = new Dictionary<(string, int), ErrorCode>();
        foreach (var t in r.Topics)
        {
            bool authorized = context.Authorize(AclOperation.Read, AclResourceType.Topic, t.Name);
            bool known = topics.TryGet(t.Name, out var found);
            foreach (var p in t.Partitions)
            {
                if (!authorized)
                    refused[(t.Name, p.PartitionIndex)] = ErrorCode.TopicAuthorizationFailed;
                else if (!known || p.PartitionIndex < 0 || p.PartitionIndex >= found!.Partitions.Length)
                    refused[(t.Name, p.PartitionIndex)] = ErrorCode.UnknownTopicOrPartition;
            }
        }
        var accepted = new TxnOffsetCommitRequest
        {
            TransactionalId = r.TransactionalId,
            GroupId = r.GroupId,
            ProducerId = r.ProducerId,
            ProducerEpoch = r.ProducerEpoch,
            GenerationId = r.GenerationId,
            MemberId = r.MemberId,
            GroupInstanceId = r.GroupInstanceId,
            Topics = r.Topics.Select(t => new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Where(p => !refused.ContainsKey((t.Name, p.PartitionIndex))).ToList(),
            }).Where(t => t.Partitions.Count > 0).ToList(),
        };
        var committed = accepted.Topics.Count == 0 ? new TxnOffsetCommitResponse() : groups.ShardFor(r.GroupId).TxnOffsetCommit(accepted, context.ApiVersion);
        var results = committed.Topics.SelectMany(t => t.Partitions.Select(p => ((t.Name, p.PartitionIndex), p.ErrorCode))).ToDictionary(x => x.Item1, x => x.ErrorCode);
        return ValueTask.FromResult<IResponse?>(Answer(r, (topic, partition) =>
            refused.TryGetValue((topic, partition), out var e) ? e : results.GetValueOrDefault((topic, partition))));
    }

    private static TxnOffsetCommitResponse Answer(TxnOffsetCommitRequest r, Func<string, int, ErrorCode> error) => new()
    {
        Topics = r.Topics.Select(t => new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error(t.Name, p.PartitionIndex) }).ToList(),
        }).ToList(),
    };
}
