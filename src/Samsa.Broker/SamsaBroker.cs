using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Fetch;
using Samsa.Broker.Groups;
using Samsa.Broker.Handlers;
using Samsa.Broker.Metrics;
using Samsa.Broker.Network;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Broker.WebConsole;

namespace Samsa.Broker;

/// <summary>
/// A single-node Kafka broker. <c>await using var broker = await SamsaBroker.StartAsync(options);</c>
/// starts it in-process (port 0 for an ephemeral port, then read <see cref="BootstrapServers"/>);
/// disposing it stops accepting, lets in-flight requests finish, and closes the logs.
/// </summary>
public sealed class SamsaBroker : IAsyncDisposable
{
    private readonly BrokerOptions _options;
    private readonly ILogger _logger;
    private readonly List<Listener> _listeners;
    private readonly Security.Sasl.ScramCredentialStore _scram;
    private readonly RequestDispatcher _dispatcher;
    private readonly TopicManager _topics;
    private readonly GroupCoordinator _groups;
    private readonly Transactions.TransactionCoordinator _transactions;
    private readonly Share.SharePartitionManager? _shares;
    private readonly ConcurrentDictionary<long, (KafkaConnection Connection, Task Task)> _connections = new();
    private readonly CancellationTokenSource _shutdown = new();
    private volatile bool _stopAccepting;
    private DataDirectoryLock? _directoryLock;
    private readonly ITimer _idleTimer;
    private readonly ITimer _retentionTimer;
    private readonly ITimer _cleanerTimer;
    private readonly ITimer _producerExpiryTimer;
    private readonly ConnectionQuotas _quotas;
    private readonly ITimer _flushTimer;
    private readonly BrokerMetrics _metrics = new();
    private readonly FetchObserver _fetches = new();
    private ConsoleHost? _console;
    private Task _acceptLoops = Task.CompletedTask;
    private long _nextConnectionId;
    private int _disposed;
    private int _cleaning;

    private SamsaBroker(BrokerOptions options, ILoggerFactory loggerFactory, List<Listener> listeners, Security.Sasl.ScramCredentialStore scram, TopicManager topics, GroupCoordinator groups,
        Security.Authorization.IAuthorizer? authorizer, Transactions.TransactionCoordinator transactions)
    {
        _groups = groups;
        _transactions = transactions;
        _shares = groups.ShareListener as Share.SharePartitionManager;
        _options = options;
        _logger = loggerFactory.CreateLogger<SamsaBroker>();
        _listeners = listeners;
        _scram = scram;
        _topics = topics;
        Listeners = listeners.Select(l => new BrokerListener(l.Name, l.Protocol, l.Port, l.AdvertisedHost, l.AdvertisedPort)).ToList();
        Port = listeners[0].Port;
        AdvertisedHost = listeners[0].AdvertisedHost;
        AdvertisedPort = listeners[0].AdvertisedPort;
        var node = new BrokerNode(options.NodeId, AdvertisedHost, AdvertisedPort, options.ClusterId);
        _dispatcher = new RequestDispatcher(HandlerSet.Create(node, options, topics, groups, () => _dispatcher!.Advertised, _fetches, _shares, scram, authorizer,
            transactions),
            loggerFactory.CreateLogger<RequestDispatcher>(), _metrics, authorizer);
        _metrics.Attach(topics, groups, options.TimeProvider, _logger);
        var period = options.ConnectionsMaxIdle < TimeSpan.FromSeconds(60) ? options.ConnectionsMaxIdle / 2 : TimeSpan.FromSeconds(30);
        _idleTimer = options.TimeProvider.CreateTimer(_ => CloseIdleConnections(), null, period, period);
        _retentionTimer = options.TimeProvider.CreateTimer(_ => EnforceRetention(), null, options.RetentionCheckInterval, options.RetentionCheckInterval);
        _cleanerTimer = options.TimeProvider.CreateTimer(_ => CleanLogs(), null, options.LogCleanerBackoff, options.LogCleanerBackoff);
        _flushTimer = options.TimeProvider.CreateTimer(_ => FlushDueLogs(), null, options.FlushCheckInterval, options.FlushCheckInterval);
        _quotas = new ConnectionQuotas(options.MaxConnections, options.MaxConnectionsPerIp);
        _producerExpiryTimer = options.TimeProvider.CreateTimer(_ => RemoveExpiredProducers(), null, options.ProducerIdExpirationCheckInterval, options.ProducerIdExpirationCheckInterval);
    }

    /// <summary>The first listener's bound port.</summary>
    public int Port { get; }

    /// <summary>The host it tells clients to connect to (advertised.listeners).</summary>
    public string AdvertisedHost { get; }

    /// <summary>The port it tells clients to connect to.</summary>
    public int AdvertisedPort { get; }

    /// <summary>What a client puts in bootstrap.servers (the first listener).</summary>
    public string BootstrapServers => $"{AdvertisedHost}:{AdvertisedPort}";

    /// <summary>Every listener, in the order of listeners, with its bound port and advertised address.</summary>
    public IReadOnlyList<BrokerListener> Listeners { get; }

    /// <summary>bootstrap.servers for one listener by name (PLAINTEXT, SASL_SSL, ...).</summary>
    public string BootstrapServersFor(string listenerName) =>
        Listeners.FirstOrDefault(l => string.Equals(l.Name, listenerName, StringComparison.OrdinalIgnoreCase))?.BootstrapServers
        ?? throw new ArgumentException($"No listener named {listenerName} (there are {string.Join(", ", Listeners.Select(l => l.Name))}).", nameof(listenerName));

    /// <summary>Client connections open now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>The web console's base URL (http://host:port) when <see cref="BrokerOptions.UiListen"/> is set; otherwise null.</summary>
    public Uri? UiAddress => _console is null ? null : new Uri(_console.Address);

    /// <summary>New connections closed at once for being over max.connections.per.ip.</summary>
    public long RefusedConnections => _quotas.Refused;

    /// <summary>Connections handling a request right now (a fetch in its wait counts), for tests.</summary>
    internal int BusyConnectionCount => _connections.Values.Count(c => c.Connection.IsBusy);

    /// <summary>Connections in their TLS handshake with its timeout running, for tests.</summary>
    internal int HandshakingConnectionCount => _connections.Values.Count(c => c.Connection.IsHandshaking);

    internal TopicManager Topics => _topics;

    /// <summary>Starts a broker: loads (or creates) its data directory, then listens; returns once clients can connect.</summary>
    /// <param name="options">The broker's settings (server.properties' keys: docs/broker-config.md).</param>
    /// <param name="loggerFactory">Where the broker logs; null for none.</param>
    /// <param name="cancellationToken">Stops starting.</param>
    /// <returns>The running broker; dispose it to stop it cleanly.</returns>
    public static async Task<SamsaBroker> StartAsync(BrokerOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        // The ports first: a start that cannot listen must not leave a data directory behind
        // (opening one creates __consumer_offsets' partitions). The SCRAM store only reads.
        var scram = new Security.Sasl.ScramCredentialStore(options.DataDirectory, options.SaslScramUsers);
        var listeners = new List<Listener>();
        try
        {
            foreach (var plan in ListenerPlan.Resolve(options))
                listeners.Add(Listener.Open(plan, options, scram));
        }
        catch
        {
            foreach (var l in listeners)
                l.Dispose();
            throw;
        }
        bool newDirectory = !Directory.Exists(options.DataDirectory);
        DataDirectoryLock? directoryLock = null;
        TopicManager? topics = null;
        GroupCoordinator groups;
        Transactions.TransactionCoordinator transactions;
        Security.Authorization.IAuthorizer? authorizer = null;
        try
        {
            directoryLock = DataDirectoryLock.Acquire(options.DataDirectory);
            if (options.AclAuthorizer)
                authorizer = new Security.Authorization.AclAuthorizer(new Security.Authorization.AclStore(options.DataDirectory), options.SuperUsers, options.AllowEveryoneIfNoAclFound);
            topics = await TopicManager.OpenAsync(options, loggerFactory.CreateLogger<TopicManager>(), cancellationToken).ConfigureAwait(false);
            groups = LoadGroups(options, topics, loggerFactory);
            transactions = LoadTransactions(options, topics, groups, loggerFactory);
        }
        catch
        {
            foreach (var l in listeners)
                l.Dispose();
            if (topics is not null)
                await topics.DisposeAsync().ConfigureAwait(false);
            directoryLock?.Dispose();
            if (newDirectory)
                RemoveNewDirectory(options.DataDirectory);
            throw;
        }
        var broker = new SamsaBroker(options, loggerFactory, listeners, scram, topics, groups, authorizer, transactions) { _directoryLock = directoryLock };
        broker._acceptLoops = Task.WhenAll(listeners.Select(l => Task.Run(() => broker.AcceptLoopAsync(l), CancellationToken.None)));
        foreach (var l in listeners)
            broker._logger.LogInformation("Samsa broker {NodeId} listening on {Endpoint} ({Listener}, {Protocol}), advertised as {Host}:{Port}", options.NodeId, l.Socket.LocalEndPoint, l.Name, l.Protocol.KafkaName(), l.AdvertisedHost, l.AdvertisedPort);
        broker._logger.LogInformation("Data in {Dir}", options.DataDirectory);
        if (options.UiListen is { } ui)
        {
            try
            {
                broker._console = await broker.StartConsoleAsync(ui, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await broker.DisposeAsync().ConfigureAwait(false);
                if (newDirectory)
                    RemoveNewDirectory(options.DataDirectory);
                throw new InvalidOperationException($"Cannot serve the console on {ui}: {e.Message}", e);
            }
        }
        return broker;
    }

    /// <summary>A failed start removes the data directory it made itself (never one that was there before).</summary>
    private static void RemoveNewDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the start's own error is the one to report.
        }
    }

    /// <summary>The web console reads the broker through a <see cref="ConsoleContext"/> and hears fetches through <see cref="FetchObserver"/>.</summary>
    private async Task<ConsoleHost> StartConsoleAsync(IPEndPoint endpoint, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var info = new BrokerInfo(_options.NodeId, _options.ClusterId, string.Join(", ", _listeners.Select(l => $"{l.Name}://{l.Socket.LocalEndPoint}")), BootstrapServers,
            _listeners.Any(l => l.Sasl is not null), Path.GetFullPath(_options.DataDirectory));
        var watcher = new GroupWatcher(_groups.Events, _options.TimeProvider, _options.UiTimelineRebalances, loggerFactory.CreateLogger<GroupWatcher>());
        _fetches.Listener = watcher;
        try
        {
            var context = new ConsoleContext(info, _topics, _groups, watcher, _options.TimeProvider);
            // HTTP Basic with the PLAIN users (sasl.plain.users, or the first SASL listener's JAAS users).
            var users = _options.SaslPlainUsers ?? _listeners.Select(l => l.Sasl?.PlainUsers).FirstOrDefault(u => u is { Count: > 0 });
            return await ConsoleHost.StartAsync(endpoint, context, users, _metrics, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _fetches.Listener = null;
            await watcher.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens (or creates) __consumer_offsets and replays it into the group coordinator.</summary>
    private static GroupCoordinator LoadGroups(BrokerOptions options, TopicManager topics, ILoggerFactory loggerFactory)
    {
        Configuration.BrokerConfig.ValidateGroupSettings(options);
        if (!topics.TryGet(TopicManager.ConsumerOffsetsTopic, out var offsetsTopic))
        {
            // As Kafka creates it: compacted (DescribeConfigs says so; compaction runs for it regardless).
            var (error, message, created) = topics.Create(TopicManager.ConsumerOffsetsTopic, options.OffsetsTopicPartitions,
                configs: new Dictionary<string, string?> { ["cleanup.policy"] = "compact" });
            offsetsTopic = created ?? throw new Samsa.Storage.StorageException($"{TopicManager.ConsumerOffsetsTopic} could not be created ({error}): {message}");
        }
        var logger = loggerFactory.CreateLogger<GroupCoordinator>();
        var log = new OffsetsLog(offsetsTopic, options.TimeProvider, logger);
        var coordinator = new GroupCoordinator(new GroupCoordinatorOptions
        {
            OffsetsTopicPartitions = offsetsTopic.Partitions.Length,
            InitialRebalanceDelay = options.GroupInitialRebalanceDelay,
            MinSessionTimeout = options.GroupMinSessionTimeout,
            MaxSessionTimeout = options.GroupMaxSessionTimeout,
            OffsetsRetention = options.OffsetsRetention,
            RebalanceProtocols = new HashSet<string>(options.GroupRebalanceProtocols, StringComparer.Ordinal),
            ConsumerSessionTimeout = options.ConsumerGroupSessionTimeout,
            ConsumerHeartbeatInterval = options.ConsumerGroupHeartbeatInterval,
            ConsumerMaxSize = options.ConsumerGroupMaxSize,
            MigrationPolicy = options.ConsumerGroupMigrationPolicy,
            ConsumerAssignors = options.ConsumerGroupAssignors.Select(Samsa.Assignors.ConsumerGroupAssignors.Create).ToList(),
            ShareGroupsEnabled = options.ShareVersion >= 1,
            ShareSessionTimeout = options.ShareGroupSessionTimeout,
            ShareHeartbeatInterval = options.ShareGroupHeartbeatInterval,
            ShareMaxSize = options.ShareGroupMaxSize,
        }, options.TimeProvider, log, logger, new TopicCatalog(topics), new GroupConfigs(options, persistent: true));
        topics.Changed += coordinator.TopicsChanged;
        coordinator.LoadEntries(log.ReadEntries);
        if (options.ShareVersion >= 1)
        {
            var shares = LoadShares(options, topics, loggerFactory);
            shares.GroupConfigs = coordinator.Configs;
            coordinator.ShareListener = shares;
        }
        return coordinator;
    }

    /// <summary>
    /// Opens (or creates) __transaction_state, replays it into the transaction coordinator, then
    /// finishes the transactions a crash left prepared (their markers are written again).
    /// </summary>
    private static Transactions.TransactionCoordinator LoadTransactions(BrokerOptions options, TopicManager topics, GroupCoordinator groups, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger<Transactions.TransactionCoordinator>();
        IOffsetsLog log;
        int partitions;
        OffsetsLog? existing = null;
        if (topics.TryGet(Transactions.TransactionLog.TopicName, out var stateTopic))
            (log, partitions) = (existing = new OffsetsLog(stateTopic, options.TimeProvider, logger), stateTopic.Partitions.Length);
        else
        {
            partitions = options.TransactionStateLogPartitions;
            log = new Transactions.LazyTopicLog(() =>
            {
                // As Kafka creates it: compacted, on first use.
                var (error, message, created) = topics.Create(Transactions.TransactionLog.TopicName, partitions,
                    configs: new Dictionary<string, string?> { ["cleanup.policy"] = "compact" });
                return created ?? (topics.TryGet(Transactions.TransactionLog.TopicName, out var raced) ? raced
                    : throw new Samsa.Storage.StorageException($"{Transactions.TransactionLog.TopicName} could not be created ({error}): {message}"));
            }, options.TimeProvider, logger);
        }
        var markers = new Transactions.TxnMarkerWriter(topics, groups, options.TimeProvider);
        var coordinator = new Transactions.TransactionCoordinator(new Transactions.TransactionCoordinatorOptions
        {
            Partitions = partitions,
            MaxTimeout = options.TransactionMaxTimeout,
            TransactionalIdExpiration = options.TransactionalIdExpiration,
            AbortCheckInterval = options.TransactionAbortCheckInterval,
            ExpirationCheckInterval = options.TransactionalIdExpirationCheckInterval,
        }, options.TimeProvider, log, markers, new Transactions.ProducerIdAllocator(options.TimeProvider), groups.Options.OffsetsTopicPartitions, logger);
        if (existing is not null)
            coordinator.Load(existing.Read);
        coordinator.RecoverPrepared();
        return coordinator;
    }

    /// <summary>
    /// The share-partitions (KIP-932): their state is read from __share_group_state (if it exists)
    /// and they are created as share groups fetch; the manager hears of members leaving from the coordinator.
    /// </summary>
    private static Share.SharePartitionManager LoadShares(BrokerOptions options, TopicManager topics, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger<Share.SharePartitionManager>();
        var store = new Share.ShareStateLog(topics, options.ShareStateTopicPartitions, options.TimeProvider, logger);
        var shares = new Share.SharePartitionManager(new Share.SharePartitionOptions
        {
            DeliveryCountLimit = options.ShareDeliveryCountLimit,
            RecordLockDuration = options.ShareRecordLockDuration,
            MaxInFlightRecords = options.SharePartitionMaxRecordLocks,
        }, options.ShareAutoOffsetReset == "earliest" ? Share.ShareAutoOffsetReset.Earliest : Share.ShareAutoOffsetReset.Latest,
            options.ShareMaxSessions, topics, store, options.TimeProvider, logger);
        shares.Load();
        topics.Changed += _ => shares.ForgetDeletedTopics();
        return shares;
    }

    private async Task AcceptLoopAsync(Listener listener)
    {
        while (!_shutdown.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                // At max.connections, wait for one to close; clients queue in the listen backlog meanwhile.
                await _quotas.WaitForSlotAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                socket = await listener.Socket.AcceptAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                // Shutdown closes the listener before it cancels: either one ends the loop.
                return;
            }
            catch (SocketException e)
            {
                _quotas.ReturnSlot();
                // A listener closed under a pending accept fails it with OperationAborted.
                if (_stopAccepting || _shutdown.IsCancellationRequested)
                    return;
                // Out of file descriptors and the like: back off rather than spin and flood the log.
                _logger.LogWarning("Accept failed: {Message}", e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _shutdown.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            var address = (socket.RemoteEndPoint as IPEndPoint)?.Address;
            if (!_quotas.TryAdmit(address))
            {
                _logger.LogDebug("Refused a connection from {Address}: over max.connections.per.ip ({Max})", address, _options.MaxConnectionsPerIp);
                socket.Dispose();
                continue;
            }
            socket.NoDelay = true;
            long id = Interlocked.Increment(ref _nextConnectionId);
            var connection = new KafkaConnection(id, socket, listener, _dispatcher, _options, _logger, _metrics);
            var task = Task.Run(async () =>
            {
                try
                {
                    await connection.RunAsync(_shutdown.Token).ConfigureAwait(false);
                }
                finally
                {
                    _connections.TryRemove(id, out _);
                    _quotas.Release(address);
                }
            });
            _connections[id] = (connection, task);
        }
    }

    private void EnforceRetention()
    {
        try
        {
            long now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            _topics.EnforceRetention(now);
        }
        catch (Exception e)
        {
            // A timer callback must never throw: that would end the process.
            _logger.LogError(e, "Retention check failed");
        }
    }

    /// <summary>
    /// The log cleaner, as Kafka's: every log.cleaner.backoff.ms each compacted partition whose dirty
    /// part has reached its min.cleanable.dirty.ratio is compacted (the check is a sum of segment
    /// sizes, so an idle pass costs next to nothing). Timer callbacks do not overlap: an ITimer
    /// callback can, so a pass still running makes the next one return at once.
    /// </summary>
    private void CleanLogs()
    {
        if (Interlocked.Exchange(ref _cleaning, 1) == 1)
            return;
        try
        {
            _topics.Compact(_options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Log cleaner pass failed");
        }
        finally
        {
            Volatile.Write(ref _cleaning, 0);
        }
    }

    private void RemoveExpiredProducers()
    {
        try
        {
            long now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var topic in _topics.All)
            {
                foreach (var log in topic.Partitions)
                    log.RemoveExpiredProducers(now);
            }
        }
        catch (Exception e)
        {
            // A timer callback must never throw: that would end the process.
            _logger.LogError(e, "Producer id expiry failed");
        }
    }

    /// <summary>flush.ms for logs that stopped receiving appends (an append checks it itself).</summary>
    private void FlushDueLogs()
    {
        try
        {
            foreach (var topic in _topics.All)
            {
                foreach (var log in topic.Partitions)
                    log.FlushIfDue();
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Flush check failed");
        }
    }

    private void CloseIdleConnections()
    {
        foreach (var (connection, _) in _connections.Values)
        {
            if (connection.IsIdle)
                connection.Close($"idle for more than connections.max.idle.ms ({_options.ConnectionsMaxIdle.TotalMilliseconds} ms)");
        }
    }

    /// <summary>Stops the broker cleanly: closes connections, flushes and closes the logs (a restart then reads no segment).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_console is not null)
        {
            _fetches.Listener = null;
            await _console.DisposeAsync().ConfigureAwait(false);
        }
        _idleTimer.Dispose();
        _retentionTimer.Dispose();
        _cleanerTimer.Dispose();
        _producerExpiryTimer.Dispose();
        _flushTimer.Dispose();
        _stopAccepting = true;
        foreach (var listener in _listeners)
            listener.Dispose();
        var inFlight = _connections.Values.Select(c => c.Task).ToList();
        // Let requests being handled finish, then close what is left.
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(inFlight), Task.Delay(_options.ShutdownTimeout, _options.TimeProvider)).ConfigureAwait(false);
        foreach (var (connection, _) in _connections.Values)
            connection.Close("broker shutting down");
        await _acceptLoops.ConfigureAwait(false);
        _transactions.Dispose();
        _groups.Dispose();
        _shares?.Dispose();
        await _topics.DisposeAsync().ConfigureAwait(false);
        _directoryLock?.Dispose();
        _shutdown.Dispose();
        _metrics.Dispose();
        _quotas.Dispose();
    }
}

/// <summary>A listener of a running broker: its name and protocol, the port it bound and the address it advertises.</summary>
public sealed record BrokerListener(string Name, SecurityProtocol Protocol, int Port, string AdvertisedHost, int AdvertisedPort)
{
    public string BootstrapServers => $"{AdvertisedHost}:{AdvertisedPort}";
}
