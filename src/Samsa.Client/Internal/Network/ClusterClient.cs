using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Network;

internal sealed record ClusterClientOptions(
    string BootstrapServers,
    string ClientId,
    TimeSpan RequestTimeout,
    TimeSpan RetryBackoff,
    TimeSpan ReconnectBackoff,
    TimeSpan ReconnectBackoffMax,
    bool AllowAutoCreateTopics,
    IReadOnlyDictionary<ApiKey, short>? MaxApiVersions = null,
    ClientSecurity? Security = null);

/// <summary>
/// Why a connection is used. A broker serves one request per connection at a time (Kafka's
/// rule, and ours), so a long-polling Fetch must not sit in front of a heartbeat or a metadata
/// request: each purpose gets its own connection to a broker, as Kafka's clients keep a separate
/// coordinator connection.
/// </summary>
internal enum ConnectionPurpose
{
    Control,
    Fetch,
    Coordinator,
}

/// <summary>
/// The client's view of the cluster: bootstrap, metadata, connections per broker and purpose
/// (opened lazily, reopened with exponential backoff after a failure) and coordinator lookup.
/// Thread-safe; shared by the application side, the fetcher and the group loop.
/// </summary>
internal sealed class ClusterClient : IAsyncDisposable
{
    private readonly ClusterClientOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly List<BrokerNode> _bootstrap;
    private readonly ConcurrentDictionary<(int Node, ConnectionPurpose Purpose), Lazy<Task<BrokerConnection>>> _connections = new();
    private readonly ConcurrentDictionary<int, (long At, int Failures)> _failures = new();
    private readonly SemaphoreSlim _metadataLock = new(1, 1);
    private volatile ClusterMetadata _metadata = ClusterMetadata.Empty;
    private int _nextBootstrap;
    private bool _disposed;

    public ClusterClient(ClusterClientOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        _log = logger;
        _time = time;
        // Bootstrap addresses get negative ids, as in Kafka's clients, so they never collide with real node ids.
        _bootstrap = options.BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((s, i) =>
            {
                int colon = s.LastIndexOf(':');
                return new BrokerNode(-1 - i, s[..colon].Trim('[', ']'), int.Parse(s[(colon + 1)..], CultureInfo.InvariantCulture));
            })
            .ToList();
    }

    public ClusterMetadata Metadata => _metadata;

    public TimeProvider Time => _time;

    public ClusterClientOptions Options => _options;

    /// <summary>
    /// Asks a broker for metadata (all topics when <paramref name="topics"/> is null) and swaps the
    /// snapshot. Tries every known broker and then every bootstrap address before giving up.
    /// </summary>
    public async Task<ClusterMetadata> RefreshMetadataAsync(IReadOnlyCollection<string>? topics, CancellationToken cancellationToken)
    {
        await _metadataLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var request = new MetadataRequest
            {
                Topics = topics?.Select(t => new MetadataRequest.MetadataRequestTopic { Name = t }).ToList(),
                AllowAutoTopicCreation = _options.AllowAutoCreateTopics,
            };
            var response = await SendToAnyAsync<MetadataResponse>(request, cancellationToken).ConfigureAwait(false);
            var merged = _metadata.Merge(response, topics is null);
            _metadata = merged;
            return merged;
        }
        finally
        {
            _metadataLock.Release();
        }
    }

    /// <summary>Sends a request that any broker can answer (metadata, coordinator lookup) on a control connection.</summary>
    public async Task<TResponse> SendToAnyAsync<TResponse>(IRequest request, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var candidates = _metadata.Brokers.Values.OrderBy(_ => Random.Shared.Next()).Concat(RotatedBootstrap()).ToList();
        Exception? last = null;
        foreach (var node in candidates)
        {
            try
            {
                var connection = await ConnectAsync(node, ConnectionPurpose.Control, cancellationToken).ConfigureAwait(false);
                return await connection.SendAsync<TResponse>(request, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaConnectionException e)
            {
                last = e;
                _log.LogDebug("{Api} to {Node} failed: {Message}", request.ApiKey, node, e.Message);
            }
        }
        throw new KafkaConnectionException(
            $"No broker answered {request.ApiKey} (tried {candidates.Count}: {string.Join(", ", candidates.Select(c => $"{c.Host}:{c.Port}"))}); check bootstrap.servers.",
            last);
    }

    /// <summary>Sends to one broker; a connection failure invalidates the connection and surfaces as KafkaConnectionException.</summary>
    public async Task<TResponse> SendAsync<TResponse>(BrokerNode node, ConnectionPurpose purpose, IRequest request, CancellationToken cancellationToken)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        var connection = await ConnectAsync(node, purpose, cancellationToken).ConfigureAwait(false);
        return await connection.SendAsync<TResponse>(request, cancellationToken).ConfigureAwait(false);
    }

    public BrokerNode? Node(int id) => _metadata.Brokers.TryGetValue(id, out var node) ? node : null;

    /// <summary>
    /// The open connection to a node for a purpose, opening one if there is none or the last one
    /// failed. After failures, waits reconnect.backoff.ms doubling up to reconnect.backoff.max.ms.
    /// </summary>
    public async Task<BrokerConnection> ConnectAsync(BrokerNode node, ConnectionPurpose purpose, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var key = (node.Id, purpose);
        while (true)
        {
            var lazy = _connections.GetOrAdd(key, _ => new Lazy<Task<BrokerConnection>>(() => OpenAsync(node, purpose)));
            try
            {
                var connection = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (!connection.IsClosed)
                    return connection;
                if (_connections.TryRemove(new KeyValuePair<(int, ConnectionPurpose), Lazy<Task<BrokerConnection>>>(key, lazy)))
                    _log.LogDebug("Connection to {Node} for {Purpose} closed ({Type}: {Message}); reopening", node, purpose, connection.Failure?.GetType().Name, connection.Failure?.Message);
                _ = connection.DisposeAsync().AsTask();
            }
            catch (Exception e) when (e is KafkaConnectionException or Errors.AuthenticationException)
            {
                _connections.TryRemove(new KeyValuePair<(int, ConnectionPurpose), Lazy<Task<BrokerConnection>>>(key, lazy));
                throw;
            }
        }
    }

    private async Task<BrokerConnection> OpenAsync(BrokerNode node, ConnectionPurpose purpose)
    {
        if (_failures.TryGetValue(node.Id, out var failed))
        {
            double ms = Math.Min(_options.ReconnectBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failed.Failures - 1, 16)), _options.ReconnectBackoffMax.TotalMilliseconds);
            // Kafka adds ±20% jitter so that many clients do not reconnect in step.
            var wait = TimeSpan.FromMilliseconds(ms * (0.8 + Random.Shared.NextDouble() * 0.4)) - _time.GetElapsedTime(failed.At);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, _time).ConfigureAwait(false);
        }
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        try
        {
            var connection = await BrokerConnection.ConnectAsync(node.Host, node.Port, _options.ClientId, _time, _options.RequestTimeout, timeout.Token, _options.MaxApiVersions, _options.Security).ConfigureAwait(false);
            _failures.TryRemove(node.Id, out _);
            _log.LogDebug("Connected to {Node} for {Purpose}", node, purpose);
            return connection;
        }
        catch (Errors.AuthenticationException)
        {
            // Not a connection problem: the same credentials fail again, so no retry hides it.
            _failures.AddOrUpdate(node.Id, _ => (_time.GetTimestamp(), 1), (_, f) => (_time.GetTimestamp(), f.Failures + 1));
            throw;
        }
        catch (Exception e) when (e is KafkaConnectionException or OperationCanceledException or KafkaException)
        {
            _failures.AddOrUpdate(node.Id, _ => (_time.GetTimestamp(), 1), (_, f) => (_time.GetTimestamp(), f.Failures + 1));
            throw e as KafkaConnectionException ?? new KafkaConnectionException($"Cannot connect to {node.Host}:{node.Port}: {e.Message}", e);
        }
    }

    /// <summary>FindCoordinator for a group (batched form from v4, single key before).</summary>
    public Task<BrokerNode> FindCoordinatorAsync(string groupId, CancellationToken cancellationToken) =>
        FindCoordinatorAsync(groupId, 0, cancellationToken);

    /// <summary>FindCoordinator for a key of a type: 0 a group, 1 a transactional id.</summary>
    public async Task<BrokerNode> FindCoordinatorAsync(string key, sbyte keyType, CancellationToken cancellationToken)
    {
        var request = new FindCoordinatorRequest { Key = key, KeyType = keyType, CoordinatorKeys = [key] };
        var response = await SendToAnyAsync<FindCoordinatorResponse>(request, cancellationToken).ConfigureAwait(false);
        var (error, message, id, host, port) = response.Coordinators.Count > 0
            ? (response.Coordinators[0].ErrorCode, response.Coordinators[0].ErrorMessage, response.Coordinators[0].NodeId, response.Coordinators[0].Host, response.Coordinators[0].Port)
            : (response.ErrorCode, response.ErrorMessage, response.NodeId, response.Host, response.Port);
        if (error != ErrorCode.None)
            throw KafkaException.FromError(error, $"FindCoordinator for {(keyType == 1 ? "transactional id" : "group")} '{key}'{(string.IsNullOrEmpty(message) ? "" : ": " + message)}");
        return new BrokerNode(id, host, port);
    }

    /// <summary>Closes a node's connection for a purpose (after NOT_COORDINATOR, or a timed-out request).</summary>
    public void Drop(BrokerNode node, ConnectionPurpose purpose)
    {
        if (_connections.TryRemove((node.Id, purpose), out var lazy) && lazy.IsValueCreated)
            _ = lazy.Value.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.DisposeAsync().AsTask() : Task.CompletedTask, TaskScheduler.Default).Unwrap();
    }

    private IEnumerable<BrokerNode> RotatedBootstrap()
    {
        int start = Interlocked.Increment(ref _nextBootstrap);
        for (int i = 0; i < _bootstrap.Count; i++)
            yield return _bootstrap[(int)((uint)(start + i) % (uint)_bootstrap.Count)];
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var lazy in _connections.Values)
        {
            if (!lazy.IsValueCreated)
                continue;
            try
            {
                var connection = await lazy.Value.ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception) when (!lazy.Value.IsCompletedSuccessfully)
            {
                // A connection that never opened (refused, failed authentication) has nothing to close;
                // its failure was the caller's to see, not the dispose's.
            }
        }
        _connections.Clear();
        _metadataLock.Dispose();
    }
}
