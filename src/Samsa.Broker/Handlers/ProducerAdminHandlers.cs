using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DescribeProducers v0 (KIP-664): the producers each partition keeps state for, from its producer
// state table: epoch, last sequence and timestamp, the coordinator epoch of the last marker and the
// first offset of the open transaction. READ on the topic, as Kafka checks. Internal topics are
// described like any other.
internal sealed class DescribeProducersHandler(TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeProducers;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeProducersRequest)request;
        var response = new DescribeProducersResponse();
        foreach (var t in r.Topics)
        {
            var result = new DescribeProducersResponse.TopicResponse { Name = t.Name };
            response.Topics.Add(result);
            bool authorized = context.Authorize(AclOperation.Read, AclResourceType.Topic, t.Name);
            topics.TryGet(t.Name, out var topic);
            foreach (int p in t.PartitionIndexes)
            {
                var partition = new DescribeProducersResponse.PartitionResponse { PartitionIndex = p, ErrorMessage = null };
                result.Partitions.Add(partition);
                if (!authorized)
                    partition.ErrorCode = ErrorCode.TopicAuthorizationFailed;
                else if (topic is null || p < 0 || p >= topic.Partitions.Length)
                    partition.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                else
                {
                    partition.ActiveProducers = topic.Partitions[p].ActiveProducers().Select(s => new DescribeProducersResponse.ProducerState
                    {
                        ProducerId = s.ProducerId,
                        ProducerEpoch = s.Epoch,
                        LastSequence = s.LastSequence,
                        LastTimestamp = s.LastTimestamp,
                        CoordinatorEpoch = s.CoordinatorEpoch,
                        CurrentTxnStartOffset = s.CurrentTxnStartOffset,
                    }).ToList();
                }
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// WriteTxnMarkers v1 (v0 was removed in Kafka 4.0): what an admin client sends to abort a hanging
// transaction (KIP-664; kafka-transactions.sh abort). Our own transaction coordinator writes its
// markers in process, never through this API. Needs CLUSTER_ACTION on the cluster. A marker on a
// data partition is appended with the request's coordinator epoch, so the log refuses one older than
// the producer's last (TRANSACTION_COORDINATOR_FENCED) or of an older producer epoch
// (INVALID_PRODUCER_EPOCH); one on __consumer_offsets goes through the group coordinator, which
// completes or drops the transaction's offsets.
internal sealed class WriteTxnMarkersHandler(ITxnMarkerWriter markers) : IApiHandler
{
    public ApiKey Key => ApiKey.WriteTxnMarkers;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (WriteTxnMarkersRequest)request;
        bool authorized = context.AuthorizeCluster(AclOperation.ClusterAction);
        var response = new WriteTxnMarkersResponse();
        foreach (var marker in r.Markers)
        {
            var result = new WriteTxnMarkersResponse.WritableTxnMarkerResult { ProducerId = marker.ProducerId };
            response.Markers.Add(result);
            foreach (var t in marker.Topics)
            {
                result.Topics.Add(new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult
                {
                    Name = t.Name,
                    Partitions = t.PartitionIndexes.Select(p => new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult
                    {
                        PartitionIndex = p,
                        ErrorCode = authorized ? Write(t.Name, p, marker) : ErrorCode.ClusterAuthorizationFailed,
                    }).ToList(),
                });
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    private ErrorCode Write(string topic, int partition, WriteTxnMarkersRequest.WritableTxnMarker marker)
    {
        try
        {
            return markers.Write(topic, partition, marker.ProducerId, marker.ProducerEpoch, marker.TransactionResult, marker.CoordinatorEpoch);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or Samsa.Storage.StorageException)
        {
            // A storage failure is this partition's error, not the connection's.
            return ErrorCode.KafkaStorageError;
        }
    }
}
