using System.Globalization;
using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

/// <summary>What DescribeConfigs/AlterConfigs share: resource types and the broker's own settings.</summary>
internal static class ConfigResources
{
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;
    public const sbyte Group = 32;

    // DescribeConfigs config sources.
    public const sbyte DynamicTopic = 1;
    public const sbyte DynamicBroker = 2;
    public const sbyte StaticBroker = 4;
    public const sbyte Default = 5;
    public const sbyte GroupConfig = 8;

    /// <summary>
    /// The authorization error for a config resource, or null when allowed: a topic's configs are
    /// the topic's (TOPIC_AUTHORIZATION_FAILED), a broker's are the cluster's (CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
    /// </summary>
    public static (ErrorCode, string)? Denied(RequestContext context, AclOperation operation, sbyte resourceType, string name) => resourceType switch
    {
        Topic when !context.Authorize(operation, AclResourceType.Topic, name) => (ErrorCode.TopicAuthorizationFailed, $"Not authorized to access the configs of topic {name}."),
        Broker when !context.AuthorizeCluster(operation) => (ErrorCode.ClusterAuthorizationFailed, "Not authorized to access the broker's configs."),
        Group when !context.Authorize(operation, AclResourceType.Group, name) => (ErrorCode.GroupAuthorizationFailed, $"Not authorized to access the configs of group {name}."),
        _ => null,
    };

    public static IEnumerable<(string Name, string Value)> BrokerSettings(BrokerOptions o, Configuration.DynamicBrokerConfig dynamic) =>
    [
        ("node.id", o.NodeId.ToString(CultureInfo.InvariantCulture)),
        ("listeners", string.Join(',', ListenerPlan.Resolve(o).Select(l => $"{l.Name}://{l.Host}:{l.Port}"))),
        ("listener.security.protocol.map", string.Join(',', ListenerPlan.Resolve(o).Select(l => $"{l.Name}:{Security.SecurityProtocols.KafkaName(l.Protocol)}"))),
        ("log.dirs", o.DataDirectory),
        ("num.partitions", dynamic.NumPartitions.ToString(CultureInfo.InvariantCulture)),
        ("auto.create.topics.enable", dynamic.AutoCreateTopics ? "true" : "false"),
        ("message.max.bytes", dynamic.MessageMaxBytes.ToString(CultureInfo.InvariantCulture)),
        ("log.segment.bytes", o.SegmentBytes.ToString(CultureInfo.InvariantCulture)),
        ("socket.request.max.bytes", o.SocketRequestMaxBytes.ToString(CultureInfo.InvariantCulture)),
        ("offsets.topic.num.partitions", o.OffsetsTopicPartitions.ToString(CultureInfo.InvariantCulture)),
        ("group.initial.rebalance.delay.ms", ((long)o.GroupInitialRebalanceDelay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
        ("default.replication.factor", "1"),
        .. dynamic.StoredOnlyValues(),
    ];
}

// DescribeConfigs v0-4 for topics (every known topic config, overrides marked as dynamic topic
// configs) and for this broker (num.partitions, auto.create.topics.enable and message.max.bytes are
// dynamic; the rest read-only). Not implemented: synonyms (always empty) and documentation strings.
internal sealed class DescribeConfigsHandler(TopicManager topics, BrokerOptions options, Groups.GroupConfigs groupConfigs) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeConfigs;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeConfigsRequest)request;
        var response = new DescribeConfigsResponse();
        foreach (var res in r.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult { ResourceType = res.ResourceType, ResourceName = res.ResourceName, ErrorMessage = null };
            response.Results.Add(result);
            bool Wanted(string name) => res.ConfigurationKeys is null || res.ConfigurationKeys.Count == 0 || res.ConfigurationKeys.Contains(name);
            if (ConfigResources.Denied(context, AclOperation.DescribeConfigs, res.ResourceType, res.ResourceName) is { } denied)
            {
                (result.ErrorCode, result.ErrorMessage) = denied;
                continue;
            }
            if (res.ResourceType == ConfigResources.Topic)
            {
                if (!topics.TryGet(res.ResourceName, out var topic))
                {
                    (result.ErrorCode, result.ErrorMessage) = (ErrorCode.UnknownTopicOrPartition, $"Topic {res.ResourceName} does not exist.");
                    continue;
                }
                foreach (var def in TopicConfigs.Known.Values.Where(d => Wanted(d.Name)).OrderBy(d => d.Name, StringComparer.Ordinal))
                {
                    sbyte source = topic.SourceOf(def.Name);
                    result.Configs.Add(new DescribeConfigsResponse.DescribeConfigsResourceResult
                    {
                        Name = def.Name,
                        Value = topic.Config(def.Name),
                        IsDefault = source == ConfigResources.Default,
                        ConfigSource = source,
                        ConfigType = def.Type,
                        Documentation = null,
                    });
                }
            }
            else if (res.ResourceType == ConfigResources.Broker)
            {
                if (res.ResourceName.Length > 0 && res.ResourceName != options.NodeId.ToString(CultureInfo.InvariantCulture))
                {
                    (result.ErrorCode, result.ErrorMessage) = (ErrorCode.InvalidRequest, $"Broker {res.ResourceName} is not this broker ({options.NodeId}).");
                    continue;
                }
                foreach (var (name, value) in ConfigResources.BrokerSettings(options, topics.Dynamic).Where(s => Wanted(s.Name)))
                {
                    bool dynamic = Configuration.DynamicBrokerConfig.Keys.Contains(name);
                    result.Configs.Add(new DescribeConfigsResponse.DescribeConfigsResourceResult
                    {
                        Name = name,
                        Value = value,
                        ReadOnly = !dynamic,
                        ConfigSource = topics.Dynamic.IsOverridden(name) ? ConfigResources.DynamicBroker : ConfigResources.StaticBroker,
                        ConfigType = TopicConfigs.TypeString,
                        Documentation = null,
                    });
                }
            }
            else if (res.ResourceType == ConfigResources.Group)
            {
                foreach (var (name, value, isOverride) in groupConfigs.Describe(res.ResourceName).Where(c => Wanted(c.Name)))
                {
                    result.Configs.Add(new DescribeConfigsResponse.DescribeConfigsResourceResult
                    {
                        Name = name,
                        Value = value,
                        IsDefault = !isOverride,
                        ConfigSource = isOverride ? ConfigResources.GroupConfig : ConfigResources.Default,
                        ConfigType = name is Groups.GroupConfigs.ShareAutoOffsetResetKey or Groups.GroupConfigs.ShareIsolationLevelKey ? TopicConfigs.TypeString : TopicConfigs.TypeInt,
                        Documentation = null,
                    });
                }
            }
            else
            {
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.InvalidRequest, $"Resource type {res.ResourceType} has no configs in Samsa.");
            }
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

/// <summary>Validation and application of topic config changes shared by both alter APIs.</summary>
internal static class TopicConfigChanges
{
    public static (ErrorCode, string?) Apply(TopicManager topics, Groups.GroupConfigs groupConfigs, sbyte resourceType, string name, List<(string Name, string? Value)> changes, bool replaceAll, bool validateOnly)
    {
        if (resourceType == ConfigResources.Group)
        {
            if (name.Length == 0)
                return (ErrorCode.InvalidRequest, "The group id must not be empty.");
            return groupConfigs.Set(name, changes, replaceAll, validateOnly) is { } problem ? (ErrorCode.InvalidConfig, problem) : (ErrorCode.None, null);
        }
        if (resourceType == ConfigResources.Broker)
        {
            foreach (var (key, value) in changes)
            {
                if (Configuration.DynamicBrokerConfig.Validate(key, value) is { } problem)
                    return (ErrorCode.InvalidConfig, problem);
            }
            if (!validateOnly)
                topics.Dynamic.Set(replaceAll ? Configuration.DynamicBrokerConfig.Keys.Select(k => (k, changes.FirstOrDefault(c => c.Name == k).Value)) : changes);
            return (ErrorCode.None, null);
        }
        if (resourceType != ConfigResources.Topic)
            return (ErrorCode.InvalidRequest, $"Resource type {resourceType} has no configs in Samsa.");
        if (!topics.TryGet(name, out var topic))
            return (ErrorCode.UnknownTopicOrPartition, $"Topic {name} does not exist.");
        foreach (var (key, value) in changes)
        {
            if (TopicConfigs.Validate(key, value) is { } problem)
                return (ErrorCode.InvalidConfig, problem);
        }
        if (!validateOnly && topics.SetConfigs(topic, changes, replaceAll) is { } failure)
            return (ErrorCode.KafkaStorageError, failure);
        return (ErrorCode.None, null);
    }
}

// AlterConfigs v0-2 (deprecated by Kafka but still sent by older tools): replaces a topic's whole
// set of overrides, or the broker's dynamic settings.
internal sealed class AlterConfigsHandler(TopicManager topics, Groups.GroupConfigs groupConfigs) : IApiHandler
{
    public ApiKey Key => ApiKey.AlterConfigs;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (AlterConfigsRequest)request;
        var response = new AlterConfigsResponse();
        foreach (var res in r.Resources)
        {
            var (error, message) = ConfigResources.Denied(context, AclOperation.AlterConfigs, res.ResourceType, res.ResourceName)
                ?? TopicConfigChanges.Apply(topics, groupConfigs, res.ResourceType, res.ResourceName, res.Configs.Select(c => (c.Name, c.Value)).ToList(), replaceAll: true, r.ValidateOnly);
            response.Responses.Add(new AlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = res.ResourceType, ResourceName = res.ResourceName, ErrorCode = error, ErrorMessage = message });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// IncrementalAlterConfigs v0-1: SET (0) and DELETE (1) per key; APPEND (2) and SUBTRACT (3) on
// the list-typed cleanup.policy. On the broker resource, only the dynamic settings may change.
internal sealed class IncrementalAlterConfigsHandler(TopicManager topics, Groups.GroupConfigs groupConfigs) : IApiHandler
{
    public ApiKey Key => ApiKey.IncrementalAlterConfigs;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (IncrementalAlterConfigsRequest)request;
        var response = new IncrementalAlterConfigsResponse();
        foreach (var res in r.Resources)
        {
            var changes = new List<(string, string?)>();
            ErrorCode error = ErrorCode.None;
            string? message = null;
            if (ConfigResources.Denied(context, AclOperation.AlterConfigs, res.ResourceType, res.ResourceName) is { } denied)
            {
                response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = res.ResourceType, ResourceName = res.ResourceName, ErrorCode = denied.Item1, ErrorMessage = denied.Item2 });
                continue;
            }
            topics.TryGet(res.ResourceName, out var topic);
            foreach (var c in res.Configs)
            {
                switch (c.ConfigOperation)
                {
                    case 0:
                        changes.Add((c.Name, c.Value));
                        break;
                    case 1:
                        changes.Add((c.Name, null));
                        break;
                    case 2 or 3 when c.Name == "cleanup.policy" && topic is not null:
                    {
                        var current = topic.Config(c.Name).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
                        var items = (c.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                        var next = c.ConfigOperation == 2 ? current.Union(items) : current.Except(items);
                        changes.Add((c.Name, string.Join(",", next)));
                        break;
                    }
                    default:
                        (error, message) = (ErrorCode.InvalidConfig, $"Operation {c.ConfigOperation} is not valid for {c.Name}.");
                        break;
                }
            }
            if (error == ErrorCode.None)
                (error, message) = TopicConfigChanges.Apply(topics, groupConfigs, res.ResourceType, res.ResourceName, changes, replaceAll: false, r.ValidateOnly);
            response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = res.ResourceType, ResourceName = res.ResourceName, ErrorCode = error, ErrorMessage = message });
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
