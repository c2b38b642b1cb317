namespace Samsa.Client.Consumer;

/// <summary>
/// Who a consumer is in its group right now (Kafka's ConsumerGroupMetadata, KIP-447), taken from
/// <see cref="IKafkaConsumer{TKey, TValue}.GroupMetadata"/> and handed to a transactional
/// producer's <c>SendOffsetsToTransactionAsync</c>. The group coordinator checks the generation
/// and member id of a transactional offset commit as it does for a consumer's own commit, so a
/// consumer that lost its partitions in a rebalance cannot commit offsets for them through a
/// transaction: the commit fails with <see cref="CommitFailedException"/> and the transaction
/// must abort.
/// </summary>
/// <param name="GroupId">group.id.</param>
/// <param name="GenerationId">The classic protocol's generation, or the consumer protocol's (KIP-848) member epoch; -1 while not in the group.</param>
/// <param name="MemberId">The member id the coordinator knows this consumer by; empty while not in the group.</param>
/// <param name="GroupInstanceId">group.instance.id for a static member, else null.</param>
public sealed record ConsumerGroupMetadata(string GroupId, int GenerationId, string MemberId, string? GroupInstanceId)
{
    /// <summary>Metadata naming only the group, as Java's <c>new ConsumerGroupMetadata(groupId)</c>: the coordinator then checks no generation (a producer that is not fed by a group member).</summary>
    /// <param name="groupId">group.id.</param>
    public ConsumerGroupMetadata(string groupId) : this(groupId, -1, "", null) { }
}
