namespace Samsa.Client.Admin;

/// <summary>
/// The admin client's surface (the Java client's <c>Admin</c>, Confluent.Kafka's <c>IAdminClient</c>), so
/// that applications can take it from dependency injection and mock it. <see cref="KafkaAdminClient"/>
/// implements it and is safe for concurrent use.
/// </summary>
public interface IKafkaAdminClient : IDisposable, IAsyncDisposable
{
    /// <summary>Creates topics; throws <see cref="Errors.TopicExistsException"/> and the like per topic.</summary>
    Task CreateTopicsAsync(IEnumerable<NewTopic> topics, bool validateOnly = false, CancellationToken cancellationToken = default);

    /// <summary>Deletes topics.</summary>
    Task DeleteTopicsAsync(IEnumerable<string> topics, CancellationToken cancellationToken = default);

    /// <summary>Grows topics to the given partition counts.</summary>
    Task CreatePartitionsAsync(IReadOnlyDictionary<string, int> totalCounts, bool validateOnly = false, CancellationToken cancellationToken = default);

    /// <summary>Describes the given topics (null: all).</summary>
    Task<IReadOnlyList<TopicDescription>> DescribeTopicsAsync(IEnumerable<string>? topics = null, bool includeInternal = false, CancellationToken cancellationToken = default);

    /// <summary>The cluster's id, controller and brokers.</summary>
    Task<ClusterDescription> DescribeClusterAsync(CancellationToken cancellationToken = default);

    /// <summary>A topic's configuration entries.</summary>
    Task<IReadOnlyList<ConfigEntry>> DescribeTopicConfigsAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Sets (or, with null, removes) topic configuration entries.</summary>
    Task AlterTopicConfigsAsync(string topic, IReadOnlyDictionary<string, string?> changes, bool validateOnly = false, CancellationToken cancellationToken = default);

    /// <summary>Deletes records before the given offsets; returns the new low watermarks.</summary>
    Task<IReadOnlyDictionary<TopicPartition, long>> DeleteRecordsAsync(IReadOnlyDictionary<TopicPartition, long> before, CancellationToken cancellationToken = default);

    /// <summary>Lists groups, optionally filtered by state.</summary>
    Task<IReadOnlyList<GroupListing>> ListGroupsAsync(IEnumerable<string>? states = null, CancellationToken cancellationToken = default);

    /// <summary>Lists groups filtered by state and type.</summary>
    Task<IReadOnlyList<GroupListing>> ListGroupsAsync(IEnumerable<string>? states, IEnumerable<GroupType>? types, CancellationToken cancellationToken = default);

    /// <summary>Describes a group of either protocol.</summary>
    Task<GroupDescription> DescribeGroupAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>Describes a share group (KIP-932).</summary>
    Task<GroupDescription> DescribeShareGroupAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>A share group's start offset and lag on each partition it has state for, with the partition's end offset.</summary>
    Task<IReadOnlyList<SharePartitionOffsets>> ListShareGroupOffsetsAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>Sets an empty share group's start offsets.</summary>
    Task AlterShareGroupOffsetsAsync(string groupId, IReadOnlyDictionary<TopicPartition, long> startOffsets, CancellationToken cancellationToken = default);

    /// <summary>Resets an empty share group's start offsets (a dry run unless <paramref name="execute"/>).</summary>
    Task<IReadOnlyDictionary<TopicPartition, long>> ResetShareGroupOffsetsAsync(string groupId, OffsetResetSpec spec, IEnumerable<string>? topics, bool execute, CancellationToken cancellationToken = default);

    /// <summary>Forgets an empty share group's state for whole topics.</summary>
    Task DeleteShareGroupOffsetsAsync(string groupId, IEnumerable<string> topics, CancellationToken cancellationToken = default);

    /// <summary>Deletes empty share groups (an id that is not a share group is refused).</summary>
    Task DeleteShareGroupsAsync(IEnumerable<string> groupIds, CancellationToken cancellationToken = default);

    /// <summary>Deletes empty groups.</summary>
    Task DeleteGroupsAsync(IEnumerable<string> groupIds, CancellationToken cancellationToken = default);

    /// <summary>A group's committed offsets with each partition's end offset (lag).</summary>
    Task<IReadOnlyList<PartitionLag>> ListGroupOffsetsAsync(string groupId, CancellationToken cancellationToken = default);

    /// <summary>Resets an empty group's offsets (a dry run unless <paramref name="execute"/>).</summary>
    Task<IReadOnlyDictionary<TopicPartition, long>> ResetGroupOffsetsAsync(string groupId, OffsetResetSpec spec, IEnumerable<string>? topics, bool execute, CancellationToken cancellationToken = default);

    /// <summary>Sets an empty group's offsets.</summary>
    Task AlterGroupOffsetsAsync(string groupId, IReadOnlyDictionary<TopicPartition, long> offsets, CancellationToken cancellationToken = default);

    /// <summary>Removes static members from a group.</summary>
    Task RemoveMembersAsync(string groupId, IEnumerable<string> groupInstanceIds, CancellationToken cancellationToken = default);

    /// <summary>Creates ACLs (needs an authorizer on the broker and Alter on the cluster).</summary>
    Task CreateAclsAsync(IEnumerable<AclBinding> acls, CancellationToken cancellationToken = default);

    /// <summary>The ACLs that match <paramref name="filter"/>.</summary>
    Task<IReadOnlyList<AclBinding>> DescribeAclsAsync(AclBindingFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Deletes the ACLs matching any of <paramref name="filters"/>; returns those deleted.</summary>
    Task<IReadOnlyList<AclBinding>> DeleteAclsAsync(IEnumerable<AclBindingFilter> filters, CancellationToken cancellationToken = default);

    /// <summary>Transactional ids on every broker, optionally filtered by state, producer id and running time.</summary>
    Task<IReadOnlyList<TransactionListing>> ListTransactionsAsync(IEnumerable<string>? states = null, IEnumerable<long>? producerIds = null,
        TimeSpan? runningLongerThan = null, CancellationToken cancellationToken = default);

    /// <summary>Describes a transactional id at its coordinator.</summary>
    Task<TransactionDescription> DescribeTransactionAsync(string transactionalId, CancellationToken cancellationToken = default);

    /// <summary>The producers each partition's leader keeps state for, with their open transactions (DescribeProducers).</summary>
    Task<IReadOnlyDictionary<TopicPartition, IReadOnlyList<ProducerState>>> DescribeProducersAsync(IEnumerable<TopicPartition> partitions, CancellationToken cancellationToken = default);

    /// <summary>Aborts a hanging transaction on one partition (WriteTxnMarkers; needs CLUSTER_ACTION).</summary>
    Task AbortTransactionAsync(AbortTransactionSpec spec, CancellationToken cancellationToken = default);
}
