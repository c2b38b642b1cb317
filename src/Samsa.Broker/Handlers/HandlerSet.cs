using Samsa.Broker.Fetch;
using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

internal static class HandlerSet
{
    public static List<IApiHandler> Create(BrokerNode node, BrokerOptions options, TopicManager topics, GroupCoordinator groups, Func<IReadOnlyList<ApiVersionsResponse.ApiVersion>> advertised,
        FetchObserver? fetches = null, Share.SharePartitionManager? shares = null, Security.Sasl.ScramCredentialStore? scram = null,
        Security.Authorization.IAuthorizer? authorizer = null, Transactions.TransactionCoordinator? transactions = null)
    {
        var appends = topics.Appends;
        ArgumentNullException.ThrowIfNull(transactions);
        List<IApiHandler> handlers =
        [
            new ApiVersionsHandler(advertised),
            new SaslHandshakeHandler(),
            new SaslAuthenticateHandler(),
            new MetadataHandler(node, topics),
            new CreateTopicsHandler(topics),
            new DeleteTopicsHandler(topics),
            new CreatePartitionsHandler(topics),
            new DescribeClusterHandler(node),
            new InitProducerIdHandler(transactions),
            new ProduceHandler(topics, options, appends, transactions),
            new FetchHandler(topics, options, appends, fetches),
            new ListOffsetsHandler(topics),
            new DeleteRecordsHandler(topics),
            new DescribeConfigsHandler(topics, options, groups.Configs),
            new AlterConfigsHandler(topics, groups.Configs),
            new IncrementalAlterConfigsHandler(topics, groups.Configs),
            new FindCoordinatorHandler(node),
            new JoinGroupHandler(groups),
            new SyncGroupHandler(groups),
            new HeartbeatHandler(groups),
            new LeaveGroupHandler(groups),
            new OffsetCommitHandler(groups, topics),
            new OffsetFetchHandler(groups, topics),
            new DescribeGroupsHandler(groups),
            new ListGroupsHandler(groups),
            new DeleteGroupsHandler(groups),
            new OffsetDeleteHandler(groups),
            new ConsumerGroupDescribeHandler(groups),
            new ConsumerGroupHeartbeatHandler(groups),
            new AddPartitionsToTxnHandler(transactions, topics),
            new AddOffsetsToTxnHandler(transactions),
            new EndTxnHandler(transactions),
            new TxnOffsetCommitHandler(transactions, groups, topics),
            new DescribeTransactionsHandler(transactions),
            new ListTransactionsHandler(transactions, options.TimeProvider),
            new DescribeProducersHandler(topics),
            new WriteTxnMarkersHandler(new Transactions.TxnMarkerWriter(topics, groups, options.TimeProvider)),
            new DescribeAclsHandler(authorizer),
            new CreateAclsHandler(authorizer),
            new DeleteAclsHandler(authorizer),
        ];
        if (scram is not null)
        {
            handlers.Add(new DescribeUserScramCredentialsHandler(scram));
            handlers.Add(new AlterUserScramCredentialsHandler(scram));
        }
        // share.version 0: the share-group APIs are neither served nor advertised.
        if (options.ShareVersion >= 1 && shares is not null)
        {
            handlers.Add(new ShareGroupHeartbeatHandler(groups));
            handlers.Add(new ShareGroupDescribeHandler(groups));
            handlers.Add(new ShareFetchHandler(shares, groups, options, appends));
            handlers.Add(new ShareAcknowledgeHandler(shares));
            handlers.Add(new DescribeShareGroupOffsetsHandler(groups, shares));
            handlers.Add(new AlterShareGroupOffsetsHandler(groups, shares));
            handlers.Add(new DeleteShareGroupOffsetsHandler(groups, shares));
        }
        return handlers;
    }
}
