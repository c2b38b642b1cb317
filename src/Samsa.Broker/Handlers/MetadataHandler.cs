using Samsa.Broker.Network;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// Metadata v0-13. One broker, leader of everything, replicas = ISR = [this node]. A null topic list
// (v1+) or an empty one in v0 means all topics. Unknown topics are created when
// auto.create.topics.enable and the request allow it (v4+ carries the switch), as Kafka does.
// v10+ lookups by topic id are answered. The broker's address is the listener's the request came in on. Not implemented: authorized operations (always "unknown").
internal sealed class MetadataHandler(BrokerNode node, TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.Metadata;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (MetadataRequest)request;
        var (host, port) = node.AddressFor(context);
        var response = new MetadataResponse
        {
            Brokers = [new() { NodeId = node.NodeId, Host = host, Port = port }],
            ClusterId = node.ClusterId,
            ControllerId = node.NodeId,
        };
        bool all = r.Topics is null || (context.ApiVersion == 0 && r.Topics.Count == 0);
        if (all)
        {
            foreach (var t in topics.All.OrderBy(t => t.Name, StringComparer.Ordinal))
                response.Topics.Add(Describe(t));
            return ValueTask.FromResult<IResponse?>(response);
        }

        bool autoCreate = context.ApiVersion < 4 || r.AllowAutoTopicCreation;
        foreach (var requested in r.Topics!)
        {
            Topic? topic = requested.Name is { Length: > 0 } name
                ? topics.GetOrAutoCreate(name, autoCreate)
                : topics.FindById(requested.TopicId);
            if (topic is not null)
            {
                response.Topics.Add(Describe(topic));
                continue;
            }
            var error = requested.Name is { Length: > 0 } n && TopicManager.ValidateName(n) is not null
                ? ErrorCode.InvalidTopicException
                : requested.Name is null ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition;
            response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = error, Name = requested.Name, TopicId = requested.TopicId });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }

    private MetadataResponse.MetadataResponseTopic Describe(Topic topic) => new()
    {
        Name = topic.Name,
        TopicId = topic.Id,
        IsInternal = topic.IsInternal,
        Partitions = Enumerable.Range(0, topic.Partitions.Length).Select(p => new MetadataResponse.MetadataResponsePartition
        {
            PartitionIndex = p,
            LeaderId = node.NodeId,
            LeaderEpoch = 0,
            ReplicaNodes = [node.NodeId],
            IsrNodes = [node.NodeId],
        }).ToList(),
    };
}
