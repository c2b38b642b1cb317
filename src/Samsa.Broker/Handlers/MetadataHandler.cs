using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// Metadata v0-13. One broker, leader of everything, replicas = ISR = [this node]. A null topic list
// (v1+) or an empty one in v0 means all topics. Unknown topics are created when
// auto.create.topics.enable and the request allow it (v4+ carries the switch), as Kafka does.
// v10+ lookups by topic id are answered. With an authorizer: DESCRIBE per topic (a listing hides the others, a named one is TOPIC_AUTHORIZATION_FAILED), auto-creation also needs CREATE. The broker's address is the listener's the request came in on. Not implemented: authorized operations (always "unknown").
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
            // As Kafka: a listing shows only the topics the principal may describe.
            foreach (var t in topics.All.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                if (context.Authorize(AclOperation.Describe, AclResourceType.Topic, t.Name))
                    response.Topics.Add(Describe(t));
            }
            return ValueTask.FromResult<IResponse?>(WithAuthorizedOperations(context, r, response));
        }

        bool autoCreate = context.ApiVersion < 4 || r.AllowAutoTopicCreation;
        foreach (var requested in r.Topics!)
        {
            Topic? topic;
            if (requested.Name is { Length: > 0 } name)
            {
                // DESCRIBE first; a topic that auto-creation would make also needs CREATE (on the cluster or the topic).
                bool mayCreate = autoCreate && topics.Dynamic.AutoCreateTopics && !topics.TryGet(name, out _)
                    ? context.AuthorizeCluster(AclOperation.Create) || context.Authorize(AclOperation.Create, AclResourceType.Topic, name)
                    : autoCreate;
                if (!context.Authorize(AclOperation.Describe, AclResourceType.Topic, name) || !mayCreate && autoCreate)
                {
                    response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = ErrorCode.TopicAuthorizationFailed, Name = name, TopicId = requested.TopicId });
                    continue;
                }
                topic = topics.GetOrAutoCreate(name, autoCreate);
            }
            else
            {
                topic = topics.FindById(requested.TopicId);
                if (topic is not null && !context.Authorize(AclOperation.Describe, AclResourceType.Topic, topic.Name))
                {
                    response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = ErrorCode.TopicAuthorizationFailed, TopicId = requested.TopicId });
                    continue;
                }
            }
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
        return ValueTask.FromResult<IResponse?>(WithAuthorizedOperations(context, r, response));
    }

    /// <summary>KIP-430: the operations the principal may perform, for the topics described (v8+) and the cluster (v8-10), when asked.</summary>
    private static MetadataResponse WithAuthorizedOperations(RequestContext context, MetadataRequest r, MetadataResponse response)
    {
        if (r.IncludeTopicAuthorizedOperations)
        {
            foreach (var t in response.Topics)
            {
                if (t.ErrorCode == ErrorCode.None && t.Name is { } name)
                    t.TopicAuthorizedOperations = context.AuthorizedOperations(AclResourceType.Topic, name);
            }
        }
        if (r.IncludeClusterAuthorizedOperations && context.ApiVersion <= 10)
            response.ClusterAuthorizedOperations = context.AuthorizedOperations(AclResourceType.Cluster, RequestContext.ClusterResourceName);
        return response;
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
