using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// CreateTopics v0-7, validate-only included. Replication factor must be 1 or -1 (one node); -1
// partitions means num.partitions. Manual replica assignments are accepted when they name only
// this node. Topic configs are validated (INVALID_CONFIG) and stored with the topic. Past 10,000
// partitions in one request every topic gets POLICY_VIOLATION (Kafka's cap), and past max.partitions
// (Samsa's own ceiling) the topic that would cross it does. With an authorizer each topic needs
// CREATE on the cluster or on the topic (else TOPIC_AUTHORIZATION_FAILED). __transaction_state is the
// coordinator's to create (INVALID_REQUEST, as Kafka refuses creating internal topics).
internal sealed class CreateTopicsHandler(TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.CreateTopics;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (CreateTopicsRequest)request;
        var response = new CreateTopicsResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Kafka refuses the whole request past its per-request cap, before looking at any topic.
        long asked = r.Topics.Sum(t => (long)(t.Assignments.Count > 0 ? t.Assignments.Count : t.NumPartitions == -1 ? topics.Dynamic.NumPartitions : Math.Max(0, t.NumPartitions)));
        if (asked > PartitionCeiling.PerRequest)
        {
            foreach (var t in r.Topics)
                response.Topics.Add(new CreateTopicsResponse.CreatableTopicResult { Name = t.Name, ErrorCode = ErrorCode.PolicyViolation, ErrorMessage = "Excessively large number of partitions per request." });
            return ValueTask.FromResult<IResponse?>(response);
        }
        bool clusterCreate = context.AuthorizeCluster(AclOperation.Create);
        foreach (var t in r.Topics)
        {
            var result = new CreateTopicsResponse.CreatableTopicResult { Name = t.Name, ErrorMessage = null };
            response.Topics.Add(result);
            if (!seen.Add(t.Name))
            {
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.InvalidRequest, $"Topic '{t.Name}' appears more than once in the request.");
                continue;
            }
            if (t.Name == Transactions.TransactionLog.TopicName && !topics.TryGet(t.Name, out _))
            {
                // The coordinator creates it on first use with transaction.state.log.num.partitions; one
                // made by hand with another count would route ids to partitions it does not have.
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.InvalidRequest, $"Creation of internal topic {t.Name} is prohibited.");
                continue;
            }
            if (!clusterCreate && !context.Authorize(AclOperation.Create, AclResourceType.Topic, t.Name))
            {
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.TopicAuthorizationFailed, $"Not authorized to create topic '{t.Name}'.");
                continue;
            }
            int partitions = t.Assignments.Count > 0 ? t.Assignments.Count : t.NumPartitions;
            if (t.ReplicationFactor is not (1 or -1) && t.Assignments.Count == 0)
            {
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.InvalidReplicationFactor, $"Replication factor {t.ReplicationFactor} is larger than the 1 broker available: Samsa is a single-node broker.");
                continue;
            }
            var configs = t.Configs.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
            var (error, message, topic) = topics.Create(t.Name, partitions, r.validateOnly, configs);
            result.ErrorCode = error;
            result.ErrorMessage = message;
            if (error == ErrorCode.None)
            {
                result.TopicId = topic?.Id ?? Guid.Empty;
                result.NumPartitions = topic?.Partitions.Length ?? (partitions == -1 ? 1 : partitions);
                result.ReplicationFactor = 1;
                result.Configs = topic is null ? [] : TopicConfigs.Known.Values.Select(d => new CreateTopicsResponse.CreatableTopicConfigs
                {
                    Name = d.Name,
                    Value = topic.Config(d.Name),
                    ConfigSource = topic.SourceOf(d.Name),
                }).ToList();
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
