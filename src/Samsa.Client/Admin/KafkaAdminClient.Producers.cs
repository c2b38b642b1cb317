using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

/// <summary>A producer as a partition's leader keeps it (DescribeProducers, KIP-664).</summary>
/// <param name="ProducerId">The producer id.</param>
/// <param name="ProducerEpoch">Its current epoch.</param>
/// <param name="LastSequence">The last sequence of its newest batch, or -1.</param>
/// <param name="LastTimestamp">Its newest batch's timestamp (Unix ms), or -1.</param>
/// <param name="CoordinatorEpoch">The coordinator epoch of its last transaction marker, or -1.</param>
/// <param name="TransactionStartOffset">The first offset of its open transaction, or null when none is open.</param>
public sealed record ProducerState(long ProducerId, int ProducerEpoch, int LastSequence, long LastTimestamp, int CoordinatorEpoch, long? TransactionStartOffset);

/// <summary>
/// Which transaction to abort on one partition (Java's <c>AbortTransactionSpec</c>): the producer,
/// its epoch and the coordinator epoch, as <see cref="KafkaAdminClient.DescribeProducersAsync"/> reports them.
/// </summary>
/// <param name="Partition">The partition the transaction hangs on.</param>
/// <param name="ProducerId">The producer id of the open transaction.</param>
/// <param name="ProducerEpoch">Its epoch.</param>
/// <param name="CoordinatorEpoch">The coordinator epoch to write the marker with.</param>
public sealed record AbortTransactionSpec(TopicPartition Partition, long ProducerId, short ProducerEpoch, int CoordinatorEpoch);

public sealed partial class KafkaAdminClient
{
    /// <summary>
    /// The producers each partition's leader keeps state for, with the first offset of any open
    /// transaction: how a hanging transaction is found (kafka-transactions.sh describe-producers).
    /// </summary>
    public async Task<IReadOnlyDictionary<TopicPartition, IReadOnlyList<ProducerState>>> DescribeProducersAsync(IEnumerable<TopicPartition> partitions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var wanted = partitions.Distinct().ToList();
        var result = new Dictionary<TopicPartition, IReadOnlyList<ProducerState>>();
        foreach (var (node, group) in await ByLeaderAsync(wanted, cancellationToken).ConfigureAwait(false))
        {
            var request = new DescribeProducersRequest
            {
                Topics = group.GroupBy(p => p.Topic).Select(t => new DescribeProducersRequest.TopicRequest
                {
                    Name = t.Key,
                    PartitionIndexes = t.Select(p => p.Partition).ToList(),
                }).ToList(),
            };
            var response = await _cluster.SendAsync<DescribeProducersResponse>(node, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
            foreach (var t in response.Topics)
            {
                foreach (var p in t.Partitions)
                {
                    ThrowFirst([(p.ErrorCode, p.ErrorMessage, $"{t.Name}-{p.PartitionIndex}")]);
                    result[new TopicPartition(t.Name, p.PartitionIndex)] = p.ActiveProducers.Select(s => new ProducerState(
                        s.ProducerId, s.ProducerEpoch, s.LastSequence, s.LastTimestamp, s.CoordinatorEpoch,
                        s.CurrentTxnStartOffset >= 0 ? s.CurrentTxnStartOffset : null)).ToList();
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Aborts a hanging transaction on one partition (KIP-664): writes an ABORT marker for the
    /// producer through the partition's leader (WriteTxnMarkers), which needs CLUSTER_ACTION. Use it
    /// for a transaction its coordinator no longer knows; a live one is ended by its producer.
    /// </summary>
    public async Task AbortTransactionAsync(AbortTransactionSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (node, _) = (await ByLeaderAsync([spec.Partition], cancellationToken).ConfigureAwait(false)).Single();
        var request = new WriteTxnMarkersRequest
        {
            Markers =
            [
                new WriteTxnMarkersRequest.WritableTxnMarker
                {
                    ProducerId = spec.ProducerId,
                    ProducerEpoch = spec.ProducerEpoch,
                    TransactionResult = false,
                    CoordinatorEpoch = spec.CoordinatorEpoch,
                    Topics = [new WriteTxnMarkersRequest.WritableTxnMarkerTopic { Name = spec.Partition.Topic, PartitionIndexes = [spec.Partition.Partition] }],
                },
            ],
        };
        var response = await _cluster.SendAsync<WriteTxnMarkersResponse>(node, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Markers.SelectMany(m => m.Topics).SelectMany(t => t.Partitions.Select(p => (p.ErrorCode, (string?)null, $"{t.Name}-{p.PartitionIndex}"))));
    }

    private async Task<List<(BrokerNode Node, List<TopicPartition> Partitions)>> ByLeaderAsync(IReadOnlyCollection<TopicPartition> partitions, CancellationToken cancellationToken)
    {
        var metadata = await _cluster.RefreshMetadataAsync(partitions.Select(p => p.Topic).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
        var result = new List<(BrokerNode, List<TopicPartition>)>();
        foreach (var byLeader in partitions.GroupBy(p => metadata.Partition(p.Topic, p.Partition)?.Leader ?? -1))
        {
            if (byLeader.Key < 0 || _cluster.Node(byLeader.Key) is not { } node)
                throw new Errors.UnknownTopicException($"No leader for {string.Join(", ", byLeader)}: check the topic exists.");
            result.Add((node, byLeader.ToList()));
        }
        return result;
    }
}
