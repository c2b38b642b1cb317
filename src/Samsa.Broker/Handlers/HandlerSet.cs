using Samsa.Broker.Fetch;
using Samsa.Broker.Groups;
using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

internal static class HandlerSet
{
    public static List<IApiHandler> Create(BrokerNode node, BrokerOptions options, TopicManager topics, GroupCoordinator groups, Func<IReadOnlyList<ApiVersionsResponse.ApiVersion>> advertised, FetchObserver? fetches = null)
    {
        var appends = new AppendNotifier();
        return
        [
            new ApiVersionsHandler(advertised),
            new SaslHandshakeHandler(options),
            new SaslAuthenticateHandler(options),
            new MetadataHandler(node, topics),
            new CreateTopicsHandler(topics),
            new DeleteTopicsHandler(topics),
            new CreatePartitionsHandler(topics),
            new DescribeClusterHandler(node),
            new InitProducerIdHandler(),
            new ProduceHandler(topics, options, appends),
            new FetchHandler(topics, options, appends, fetches),
            new ListOffsetsHandler(topics),
            new DeleteRecordsHandler(topics),
            new DescribeConfigsHandler(topics, options),
            new AlterConfigsHandler(topics),
            new IncrementalAlterConfigsHandler(topics),
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
        ];
    }
}
