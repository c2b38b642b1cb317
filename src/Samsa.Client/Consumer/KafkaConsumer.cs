using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Client.Internal;
using Samsa.Client.Internal.Consumer;
using Samsa.Client.Internal.Group;
using Samsa.Client.Internal.Network;
using Samsa.Client.Serialization;

namespace Samsa.Client.Consumer;

/// <summary>
/// A Kafka consumer with the Java consumer's semantics: Subscribe (topics or a regex, with an
/// optional rebalance listener) or Assign, then Poll in a loop (or <c>await foreach</c> over
/// <see cref="ConsumeAsync"/>). Joins the group on the first poll; heartbeats run in the
/// background and never wait for the poll loop. Like Kafka's consumer it is not thread-safe:
/// call it from one thread (or one async flow) at a time; only <see cref="Wakeup"/> may be called
/// from anywhere.
/// </summary>
public sealed partial class KafkaConsumer<TKey, TValue> : IKafkaConsumer<TKey, TValue>
{
    private readonly ConsumerOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ClusterClient _cluster;
    private readonly SubscriptionState _subscriptions = new();
    private readonly Fetcher<TKey, TValue> _fetcher;
    private readonly GroupMemberLoop? _coordinator;
    private readonly AsyncSignal _signal = new();
    private readonly ConcurrentQueue<Action> _completedCommits = new();
    private IConsumerRebalanceListener? _listener;
    private CancellationTokenSource? _pollCancellation;
    private int _wakeupPending;
    private bool _closed;
    private bool _closing;

    /// <summary>A consumer with <paramref name="options"/> (validated here, naming a bad key); it connects on first use.</summary>
    /// <param name="options">The settings, with Kafka's names and defaults.</param>
    /// <param name="keyDeserializer">Reads keys; null for the built-in one of <typeparamref name="TKey"/> (string, byte[], int, long, Ignore).</param>
    /// <param name="valueDeserializer">Reads values; null for the built-in one of <typeparamref name="TValue"/>.</param>
    /// <param name="loggerFactory">Where the consumer logs; null for none.</param>
    /// <param name="timeProvider">The clock (tests pass a fake one); null for the system clock.</param>
    public KafkaConsumer(
        ConsumerOptions options,
        IDeserializer<TKey>? keyDeserializer = null,
        IDeserializer<TValue>? valueDeserializer = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validate(subscribing: false);
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Samsa.Client.Consumer");
        _time = timeProvider ?? TimeProvider.System;
        var keys = keyDeserializer ?? Deserializers.Default<TKey>();
        var values = valueDeserializer ?? Deserializers.Default<TValue>();
        _cluster = new ClusterClient(
            new ClusterClientOptions(options.BootstrapServers, options.ClientId, options.RequestTimeout, options.RetryBackoff,
                options.ReconnectBackoff, options.ReconnectBackoffMax, options.AllowAutoCreateTopics, options.MaxApiVersions, ClientSecurity.For(options.Security)),
            _log, _time);
        _fetcher = new Fetcher<TKey, TValue>(_cluster, _options, keys, values, _log, _signal.Set);
        if (!string.IsNullOrWhiteSpace(options.GroupId))
            _coordinator = _options.GroupProtocol == GroupProtocol.Consumer
                ? new ConsumerProtocolLoop(_cluster, _options, _log, _signal.Set)
                : new ConsumerCoordinator(_cluster, _options, _log, _signal.Set);
    }

    /// <summary>From Kafka-style settings (bootstrap.servers, group.id, ...); a bad or unknown key is named in the error.</summary>
    public KafkaConsumer(IEnumerable<KeyValuePair<string, string>> properties, IDeserializer<TKey>? keyDeserializer = null, IDeserializer<TValue>? valueDeserializer = null, ILoggerFactory? loggerFactory = null)
        : this(ConsumerOptions.FromProperties(properties), keyDeserializer, valueDeserializer, loggerFactory)
    {
    }

    /// <inheritdoc />
    public ConsumerOptions Options => _options;

    /// <summary>The partitions this consumer holds now.</summary>
    public IReadOnlyCollection<TopicPartition> Assignment => _subscriptions.Assigned.Select(TopicPartition.From).ToList();

    /// <summary>The subscribed topics (for a pattern: those it matched at the last rebalance).</summary>
    public IReadOnlyCollection<string> Subscription => _subscriptions.Topics.ToList();

    /// <inheritdoc />
    public ConsumerGroupMetadata? GroupMetadata => _coordinator is null
        ? null
        : new ConsumerGroupMetadata(_options.GroupId!, _coordinator.Generation.GenerationId, _coordinator.Generation.MemberId, _options.GroupInstanceId);

    /// <inheritdoc />
    public void Subscribe(IEnumerable<string> topics, IConsumerRebalanceListener? listener = null)
    {
        ThrowIfClosed();
        RequireGroup();
        var list = topics.ToList();
        _subscriptions.Subscribe(list);
        if (_subscriptions.Kind == SubscriptionKind.None)
        {
            Unsubscribe();
            return;
        }
        _listener = listener;
        _coordinator!.Subscribe(new SubscriptionSnapshot(_subscriptions.Topics.ToList(), null));
    }

    /// <inheritdoc />
    public void Subscribe(string topic, IConsumerRebalanceListener? listener = null) => Subscribe([topic], listener);

    /// <summary>Every topic whose whole name matches (Java's Pattern.matcher().matches()); topics created later join on the next metadata refresh.</summary>
    public void Subscribe(Regex pattern, IConsumerRebalanceListener? listener = null)
    {
        ThrowIfClosed();
        RequireGroup();
        ArgumentNullException.ThrowIfNull(pattern);
        var anchored = new Regex($"^(?:{pattern})$", pattern.Options);
        _subscriptions.Subscribe(anchored);
        _listener = listener;
        _coordinator!.Subscribe(new SubscriptionSnapshot([], anchored, pattern.ToString()));
    }

    /// <summary>Standalone consumption of exactly these partitions: no group membership, no rebalances (commits still need group.id).</summary>
    public void Assign(IEnumerable<TopicPartition> partitions)
    {
        ThrowIfClosed();
        var list = partitions.Select(p => p.ToTuple()).ToList();
        _subscriptions.Assign(list);
        foreach (var (topic, partition, _) in _subscriptions.Partitions().ToList())
        {
            if (!list.Contains((topic, partition)))
                _fetcher.Drop((topic, partition));
        }
    }

    /// <summary>Gives up the subscription or assignment: commits (auto-commit), revokes through the listener and leaves the group.</summary>
    public void Unsubscribe() => RunSync(UnsubscribeAsync(CancellationToken.None));

    /// <inheritdoc />
    public async ValueTask UnsubscribeAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (_subscriptions.Kind is SubscriptionKind.Topics or SubscriptionKind.Pattern && _coordinator is not null)
        {
            await RevokeAllAsync(cancellationToken).ConfigureAwait(false);
            await _coordinator.LeaveAsync("the consumer unsubscribed", cancellationToken).ConfigureAwait(false);
        }
        _subscriptions.Unsubscribe();
        _fetcher.DropAll();
        _listener = null;
    }

    /// <inheritdoc />
    public void Pause(IEnumerable<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
            _subscriptions.Get(tp.Topic, tp.Partition).Paused = true;
    }

    /// <inheritdoc />
    public void Resume(IEnumerable<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
            _subscriptions.Get(tp.Topic, tp.Partition).Paused = false;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<TopicPartition> Paused() =>
        _subscriptions.Partitions().Where(p => p.State.Paused).Select(p => new TopicPartition(p.Topic, p.Partition)).ToList();

    /// <summary>
    /// Makes the poll in progress (or the next one) throw <see cref="WakeupException"/>. The one
    /// method that may be called from another thread, e.g. a shutdown hook.
    /// </summary>
    public void Wakeup()
    {
        Volatile.Write(ref _wakeupPending, 1);
        try
        {
            Volatile.Read(ref _pollCancellation)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _signal.Set();
    }

    /// <summary>Commits (auto-commit), revokes, leaves the group (not a static member) and closes connections, within 30 seconds.</summary>
    public void Close() => RunSync(CloseAsync(CancellationToken.None));

    /// <inheritdoc />
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        // The consumer stays usable until the group is left: a rebalance listener may commit
        // from OnPartitionsRevoked during close, as the Java consumer allows.
        if (_closed || _closing)
            return;
        _closing = true;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            _fetcher.Dispose();
            if (_coordinator is not null)
            {
                if (_subscriptions.Kind is SubscriptionKind.Topics or SubscriptionKind.Pattern)
                {
                    await RevokeAllAsync(bounded.Token).ConfigureAwait(false);
                    await _coordinator.LeaveAsync("the consumer is being closed", bounded.Token).ConfigureAwait(false);
                }
                else if (_options.EnableAutoCommit && _subscriptions.AssignedCount > 0)
                {
                    await CommitCoreAsync(ConsumedOffsets(), retry: true, bounded.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            _log.LogWarning("Close did not finish cleanly: {Message}", e.Message);
        }
        finally
        {
            _closed = true;
            if (_coordinator is not null)
                await _coordinator.DisposeAsync().ConfigureAwait(false);
            await _cluster.DisposeAsync().ConfigureAwait(false);
            while (_completedCommits.TryDequeue(out var callback))
                callback();
        }
    }

    /// <summary>On close or unsubscribe: commit what was consumed (auto-commit), then tell the listener.</summary>
    private async Task RevokeAllAsync(CancellationToken cancellationToken)
    {
        var owned = _subscriptions.Assigned.Select(TopicPartition.From).ToList();
        if (owned.Count == 0)
            return;
        if (_options.EnableAutoCommit && _coordinator!.Generation.GenerationId >= 0)
        {
            try
            {
                await CommitCoreAsync(ConsumedOffsets(), retry: true, cancellationToken).ConfigureAwait(false);
            }
            catch (KafkaException e)
            {
                _log.LogWarning("Commit before leaving failed: {Message}", e.Message);
            }
        }
        if (_coordinator!.Generation.GenerationId >= 0)
            _listener?.OnPartitionsRevoked(owned);
        else
            _listener?.OnPartitionsLost(owned);
        _subscriptions.SetAssignment([]);
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => CloseAsync();

    private void RequireGroup()
    {
        if (_coordinator is null)
            throw new KafkaConfigException("group.id", "group.id is required to subscribe (use Assign for a consumer without a group).");
    }

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);

    /// <summary>The blocking API runs the async one to completion; every await inside uses ConfigureAwait(false), so this cannot deadlock.</summary>
    private static void RunSync(ValueTask task) => task.AsTask().GetAwaiter().GetResult();

    private static T RunSync<T>(ValueTask<T> task) => task.AsTask().GetAwaiter().GetResult();
}
