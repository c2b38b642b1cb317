using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Client.Internal;
using Samsa.Client.Internal.Group;
using Samsa.Client.Internal.Network;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Admin;

/// <summary>
/// Topics, configs, the cluster and consumer groups, from code: what kafka-topics.sh and
/// kafka-consumer-groups.sh do. Topic requests go to the controller (any broker on Samsa), group
/// requests to the group's coordinator. Failures are typed (<see cref="Errors.TopicExistsException"/>,
/// <see cref="Errors.GroupNotEmptyException"/>, ...) and say what to do. Thread-safe.
/// </summary>
public sealed partial class KafkaAdminClient : IKafkaAdminClient
{
    private readonly AdminOptions _options;
    private readonly ClusterClient _cluster;

    /// <summary>An admin client with <paramref name="options"/>; it connects on first use.</summary>
    /// <param name="options">The settings, with Kafka's names and defaults.</param>
    /// <param name="loggerFactory">Where the client logs; null for none.</param>
    /// <param name="timeProvider">The clock (tests pass a fake one); null for the system clock.</param>
    public KafkaAdminClient(AdminOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        new Consumer.ConsumerOptions { BootstrapServers = options.BootstrapServers }.Validate(subscribing: false);
        _options = options;
        _cluster = new ClusterClient(
            new ClusterClientOptions(options.BootstrapServers, options.ClientId, options.RequestTimeout, options.RetryBackoff,
                TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), AllowAutoCreateTopics: false, options.MaxApiVersions, ClientSecurity.For(options.Security)),
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Samsa.Client.Admin"), timeProvider ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public async Task CreateTopicsAsync(IEnumerable<NewTopic> topics, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        var request = new CreateTopicsRequest
        {
            Topics = topics.Select(t => new CreateTopicsRequest.CreatableTopic
            {
                Name = t.Name,
                NumPartitions = t.Partitions,
                ReplicationFactor = t.ReplicationFactor,
                Configs = t.Configs?.Select(c => new CreateTopicsRequest.CreatableTopicConfig { Name = c.Key, Value = c.Value }).ToList() ?? [],
            }).ToList(),
            timeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
            validateOnly = validateOnly,
        };
        var response = await ToControllerAsync<CreateTopicsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Topics.Select(t => (t.ErrorCode, t.ErrorMessage, $"topic {t.Name}")));
    }

    /// <inheritdoc />
    public async Task DeleteTopicsAsync(IEnumerable<string> topics, CancellationToken cancellationToken = default)
    {
        var names = topics.ToList();
        var request = new DeleteTopicsRequest
        {
            TopicNames = names,
            Topics = names.Select(n => new DeleteTopicsRequest.DeleteTopicState { Name = n }).ToList(),
            TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
        };
        var response = await ToControllerAsync<DeleteTopicsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Responses.Select(t => (t.ErrorCode, t.ErrorMessage, $"topic {t.Name}")));
    }

    /// <summary>Grows each topic to the given partition count.</summary>
    public async Task CreatePartitionsAsync(IReadOnlyDictionary<string, int> totalCounts, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        var request = new CreatePartitionsRequest
        {
            Topics = totalCounts.Select(t => new CreatePartitionsRequest.CreatePartitionsTopic { Name = t.Key, Count = t.Value, Assignments = null }).ToList(),
            TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
            ValidateOnly = validateOnly,
        };
        var response = await ToControllerAsync<CreatePartitionsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Results.Select(t => (t.ErrorCode, t.ErrorMessage, $"topic {t.Name}")));
    }

    /// <summary>Topics (all but internal ones unless asked) with their partitions and leaders.</summary>
    public async Task<IReadOnlyList<TopicDescription>> DescribeTopicsAsync(IEnumerable<string>? topics = null, bool includeInternal = false, CancellationToken cancellationToken = default)
    {
        var names = topics?.ToList();
        var request = new MetadataRequest
        {
            Topics = names?.Select(n => new MetadataRequest.MetadataRequestTopic { Name = n }).ToList(),
            AllowAutoTopicCreation = false,
        };
        var response = await _cluster.SendToAnyAsync<MetadataResponse>(request, cancellationToken).ConfigureAwait(false);
        if (names is not null)
            ThrowFirst(response.Topics.Select(t => (t.ErrorCode, (string?)null, $"topic {t.Name}")));
        return response.Topics
            .Where(t => t.Name is not null && (includeInternal || !t.IsInternal))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => new TopicDescription(t.Name!, t.TopicId, t.IsInternal,
                t.Partitions.OrderBy(p => p.PartitionIndex).Select(p => new PartitionDescription(p.PartitionIndex, p.LeaderId, p.ReplicaNodes, p.IsrNodes)).ToList()))
            .ToList();
    }

    /// <inheritdoc />
    public async Task<ClusterDescription> DescribeClusterAsync(CancellationToken cancellationToken = default)
    {
        var response = await _cluster.SendToAnyAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, cancellationToken).ConfigureAwait(false);
        return new ClusterDescription(response.ClusterId, response.ControllerId,
            response.Brokers.OrderBy(b => b.NodeId).Select(b => new BrokerDescription(b.NodeId, b.Host, b.Port, b.Rack)).ToList());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ConfigEntry>> DescribeTopicConfigsAsync(string topic, CancellationToken cancellationToken = default)
    {
        var request = new DescribeConfigsRequest { Resources = [new() { ResourceType = 2, ResourceName = topic, ConfigurationKeys = null }] };
        var response = await _cluster.SendToAnyAsync<DescribeConfigsResponse>(request, cancellationToken).ConfigureAwait(false);
        var result = response.Results.Single();
        ThrowFirst([(result.ErrorCode, result.ErrorMessage, $"topic {topic}")]);
        return result.Configs.OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new ConfigEntry(c.Name, c.Value, c.IsDefault || c.ConfigSource == 5, c.ReadOnly, c.IsSensitive)).ToList();
    }

    /// <summary>Sets (value) or removes (null: back to the default) topic settings, as IncrementalAlterConfigs.</summary>
    public async Task AlterTopicConfigsAsync(string topic, IReadOnlyDictionary<string, string?> changes, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        var request = new IncrementalAlterConfigsRequest
        {
            Resources =
            [
                new()
                {
                    ResourceType = 2,
                    ResourceName = topic,
                    Configs = changes.Select(c => new IncrementalAlterConfigsRequest.AlterableConfig { Name = c.Key, ConfigOperation = (sbyte)(c.Value is null ? 1 : 0), Value = c.Value }).ToList(),
                },
            ],
            ValidateOnly = validateOnly,
        };
        var response = await ToControllerAsync<IncrementalAlterConfigsResponse>(request, cancellationToken).ConfigureAwait(false);
        ThrowFirst(response.Responses.Select(r => (r.ErrorCode, r.ErrorMessage, $"topic {r.ResourceName}")));
    }

    /// <summary>Deletes records before the given offsets (the new log start offsets); returns the low watermarks.</summary>
    public async Task<IReadOnlyDictionary<TopicPartition, long>> DeleteRecordsAsync(IReadOnlyDictionary<TopicPartition, long> before, CancellationToken cancellationToken = default)
    {
        var metadata = await _cluster.RefreshMetadataAsync(before.Keys.Select(k => k.Topic).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<TopicPartition, long>();
        foreach (var byLeader in before.GroupBy(b => metadata.Partition(b.Key.Topic, b.Key.Partition)?.Leader ?? -1))
        {
            if (byLeader.Key < 0 || _cluster.Node(byLeader.Key) is not { } node)
                throw new Errors.UnknownTopicException($"No leader for {string.Join(", ", byLeader.Select(b => b.Key))}: check the topic exists.");
            var request = new DeleteRecordsRequest
            {
                Topics = byLeader.GroupBy(b => b.Key.Topic).Select(t => new DeleteRecordsRequest.DeleteRecordsTopic
                {
                    Name = t.Key,
                    Partitions = t.Select(p => new DeleteRecordsRequest.DeleteRecordsPartition { PartitionIndex = p.Key.Partition, Offset = p.Value }).ToList(),
                }).ToList(),
                TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
            };
            var response = await _cluster.SendAsync<DeleteRecordsResponse>(node, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
            foreach (var t in response.Topics)
            {
                foreach (var p in t.Partitions)
                {
                    ThrowFirst([(p.ErrorCode, null, $"{t.Name}-{p.PartitionIndex}")]);
                    result[new TopicPartition(t.Name, p.PartitionIndex)] = p.LowWatermark;
                }
            }
        }
        return result;
    }

    private async Task<TResponse> ToControllerAsync<TResponse>(IRequest request, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var metadata = await _cluster.RefreshMetadataAsync([], cancellationToken).ConfigureAwait(false);
        var controller = _cluster.Node(metadata.ControllerId) ?? metadata.Brokers.Values.FirstOrDefault();
        return controller is null
            ? await _cluster.SendToAnyAsync<TResponse>(request, cancellationToken).ConfigureAwait(false)
            : await _cluster.SendAsync<TResponse>(controller, ConnectionPurpose.Control, request, cancellationToken).ConfigureAwait(false);
    }

    private static void ThrowFirst(IEnumerable<(ErrorCode Error, string? Message, string What)> results)
    {
        foreach (var (error, message, what) in results)
        {
            if (error != ErrorCode.None)
                throw KafkaException.FromError(error, string.IsNullOrEmpty(message) ? what : $"{what}: {message}");
        }
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _cluster.DisposeAsync();
}
