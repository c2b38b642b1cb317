using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Client.Internal;
using Samsa.Client.Internal.Group;
using Samsa.Client.Internal.Network;
using Samsa.Client.Internal.Share;
using Samsa.Client.Serialization;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Share;

/// <summary>
/// A consumer of a KIP-932 share group with the Java KafkaShareConsumer's semantics: members of
/// a share group share partitions, and the broker hands each record to one member at a time
/// under a lock, counting its deliveries. Subscribe, then Poll in a loop (or <c>await foreach</c>
/// over <see cref="ConsumeAsync"/>). With share.acknowledgement.mode=implicit (the default) the
/// next poll, commit or close accepts everything the previous poll returned; with explicit, call
/// <see cref="Acknowledge(ConsumeResult{TKey, TValue}, AcknowledgeType)"/> for every record
/// (Accept, Release for another delivery, Reject for never) before polling again. Acknowledgements
/// travel with the next ShareFetch, or at once with <see cref="CommitSync()"/>/<see cref="CommitAsync"/>;
/// their outcome goes to the <see cref="AcknowledgementCommitCallback"/>. Close accepts (implicit
/// mode), closes the share sessions, which releases whatever this member still holds, and leaves
/// the group. Like Kafka's, the consumer is for one thread (or one async flow) at a time; only
/// <see cref="Wakeup"/> may be called from anywhere.
/// </summary>
public sealed class KafkaShareConsumer<TKey, TValue> : IDisposable, IAsyncDisposable
{
    private static readonly IReadOnlyList<ConsumeResult<TKey, TValue>> NoRecords = [];
    private readonly ShareConsumerOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ClusterClient _cluster;
    private readonly ShareHeartbeatLoop _group;
    private readonly ShareFetchState<TKey, TValue> _state;
    private readonly AsyncSignal _signal = new();
    private readonly Dictionary<int, Task<ShareIo>> _inFlight = [];
    private readonly HashSet<int> _acknowledgeWanted = [];
    private readonly List<AcknowledgementResult> _forCallback = [];
    private readonly CancellationTokenSource _closedToken = new();
    private List<string> _subscription = [];
    private AcknowledgementCommitCallback? _callback;
    private CancellationTokenSource? _pollCancellation;
    private Task? _metadataRefresh;
    private bool _fetchMore;
    private bool _inCallback;
    private int _wakeupPending;
    private bool _closed;
    private bool _closing;

    /// <summary>A share consumer with <paramref name="options"/> (validated here, naming a bad key); it connects on first use.</summary>
    /// <param name="options">The settings, with Kafka's names and defaults.</param>
    /// <param name="keyDeserializer">Reads keys; null for the built-in one of <typeparamref name="TKey"/> (string, byte[], int, long, Ignore).</param>
    /// <param name="valueDeserializer">Reads values; null for the built-in one of <typeparamref name="TValue"/>.</param>
    /// <param name="loggerFactory">Where the share consumer logs; null for none.</param>
    /// <param name="timeProvider">The clock (tests pass a fake one); null for the system clock.</param>
    public KafkaShareConsumer(
        ShareConsumerOptions options,
        IDeserializer<TKey>? keyDeserializer = null,
        IDeserializer<TValue>? valueDeserializer = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validate();
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Samsa.Client.ShareConsumer");
        _time = timeProvider ?? TimeProvider.System;
        var consumerOptions = options.ToConsumerOptions();
        _cluster = new ClusterClient(
            new ClusterClientOptions(options.BootstrapServers, options.ClientId, options.RequestTimeout, options.RetryBackoff,
                options.ReconnectBackoff, options.ReconnectBackoffMax, options.AllowAutoCreateTopics, options.MaxApiVersions, ClientSecurity.For(options.Security)),
            _log, _time);
        _group = new ShareHeartbeatLoop(_cluster, consumerOptions, _log, _signal.Set);
        _state = new ShareFetchState<TKey, TValue>(
            new ShareFetchSettings(options.GroupId!, (int)options.FetchMaxWait.TotalMilliseconds, options.FetchMinBytes, options.FetchMaxBytes,
                options.MaxPollRecords, options.AcquireMode, options.CheckCrcs),
            _group.MemberId, keyDeserializer ?? Deserializers.Default<TKey>(), valueDeserializer ?? Deserializers.Default<TValue>(), _log, _time);
    }

    /// <summary>From Kafka-style settings (bootstrap.servers, group.id, share.acknowledgement.mode, ...).</summary>
    public KafkaShareConsumer(IEnumerable<KeyValuePair<string, string>> properties, IDeserializer<TKey>? keyDeserializer = null, IDeserializer<TValue>? valueDeserializer = null, ILoggerFactory? loggerFactory = null)
        : this(ShareConsumerOptions.FromProperties(properties), keyDeserializer, valueDeserializer, loggerFactory)
    {
    }

    /// <summary>The settings the consumer was built with.</summary>
    public ShareConsumerOptions Options => _options;

    /// <summary>The subscribed topics.</summary>
    public IReadOnlyCollection<string> Subscription => _subscription;

    /// <summary>The partitions the share group assigned this member (others may be assigned the same ones).</summary>
    public IReadOnlyCollection<TopicPartition> Assignment => _group.Assignment.Select(p => new TopicPartition(p.Topic, p.Partition)).ToList();

    /// <summary>
    /// Acquired offsets this consumer dropped without handing them out because their acquisition
    /// lock had run out while they waited in its buffer (the broker may have given them to
    /// another member by then).
    /// </summary>
    internal long ExpiredRecordsDropped => _state.ExpiredDropped;

    /// <summary>This member's id in the share group (made by the client, for the consumer's life).</summary>
    public string MemberId => _group.MemberId;

    /// <summary>Called with the outcome of acknowledgements, on the thread of a later Poll, Commit or Close; null to stop.</summary>
    public AcknowledgementCommitCallback? AcknowledgementCommitCallback
    {
        get => _callback;
        set
        {
            EnsureUsable();
            _callback = value;
        }
    }

    /// <summary>Joins the share group on the next poll, or changes the subscription; an empty list unsubscribes.</summary>
    public void Subscribe(IEnumerable<string> topics)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(topics);
        var list = topics.ToList();
        if (list.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("Topic names must not be empty.", nameof(topics));
        if (list.Count == 0)
        {
            Unsubscribe();
            return;
        }
        _subscription = list.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        _group.Subscribe(new SubscriptionSnapshot(_subscription, null));
        _log.LogInformation("Share group {Group}: subscribed to {Topics}", _options.GroupId, string.Join(", ", _subscription));
    }

    /// <summary>Subscribes to one topic (replacing the subscription); see the list overload.</summary>
    /// <param name="topic">The topic.</param>
    public void Subscribe(string topic) => Subscribe([topic]);

    /// <summary>Accepts (implicit mode) and sends what is acknowledged, closes the share sessions (releasing the rest) and leaves the group.</summary>
    public void Unsubscribe() => RunSync(UnsubscribeAsync(CancellationToken.None));

    /// <summary>Drops the subscription: acknowledgements still pending are sent, then the member leaves the share group.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>When the member has left.</returns>
    public async ValueTask UnsubscribeAsync(CancellationToken cancellationToken = default)
    {
        EnsureUsable();
        if (_subscription.Count == 0)
            return;
        await ReleaseEverythingAsync(cancellationToken).ConfigureAwait(false);
        await _group.LeaveAsync("the share consumer unsubscribed", cancellationToken).ConfigureAwait(false);
        _subscription = [];
        RunCallbacks();
    }

    /// <summary>Blocks up to <paramref name="timeout"/> for records; see <see cref="PollAsync"/>.</summary>
    public IReadOnlyList<ConsumeResult<TKey, TValue>> Poll(TimeSpan timeout) => RunSync(PollAsync(timeout, CancellationToken.None));

    /// <summary>
    /// Kafka's share poll: runs the commit callback for finished acknowledgements, accepts the
    /// previous poll's records (implicit mode; in explicit mode they must all be acknowledged, or
    /// this throws InvalidOperationException), then returns acquired records (at most
    /// max.poll.records, each with its <see cref="ConsumeResult{TKey, TValue}.DeliveryCount"/>),
    /// fetching with the acknowledgements piggy-backed when nothing is buffered. Returns an empty
    /// list after <paramref name="timeout"/>; throws <see cref="WakeupException"/> after
    /// <see cref="Wakeup"/>.
    /// </summary>
    public async ValueTask<IReadOnlyList<ConsumeResult<TKey, TValue>>> PollAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureUsable();
        if (_subscription.Count == 0)
            throw new InvalidOperationException("The share consumer is not subscribed to any topic: call Subscribe first.");
        if (Interlocked.Exchange(ref _wakeupPending, 0) == 1)
            throw new WakeupException();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Volatile.Write(ref _pollCancellation, cancellation);
        if (Volatile.Read(ref _wakeupPending) == 1)
            await cancellation.CancelAsync().ConfigureAwait(false);
        var token = cancellation.Token;
        long start = _time.GetTimestamp();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            _group.OnPoll();
            AbsorbCompleted();
            RunCallbacks();
            if (_options.AcknowledgementMode == ShareAcknowledgementMode.Implicit)
                _state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
            _state.TakeAcknowledged();
            if (_state.Unacknowledged > 0)
            {
                SendAcknowledgements();
                throw new InvalidOperationException(
                    $"All records must be acknowledged in explicit acknowledgement mode: {_state.Unacknowledged} record(s) of the last poll are not. Call Acknowledge for each before polling again.");
            }
            while (true)
            {
                _group.OnPoll();
                ThrowIfFatal();
                AbsorbCompleted();
                RunCallbacks();
                ReleaseUnassigned();
                var records = new List<ConsumeResult<TKey, TValue>>();
                _state.Collect(records, _options.MaxPollRecords);
                MaybeRefreshMetadata();
                if (records.Count > 0)
                {
                    // Acknowledgements that cannot wait for the next fetch go by ShareAcknowledge.
                    SendAcknowledgements();
                    ConsumerTelemetry.Polled(records, _options.GroupId, _options.ClientId, started);
                    return records;
                }
                _fetchMore = true;
                SendFetches();
                SendAcknowledgements();
                var left = timeout - _time.GetElapsedTime(start);
                if (left <= TimeSpan.Zero)
                    return NoRecords;
                await _signal.WaitAsync(left, _time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (Interlocked.Exchange(ref _wakeupPending, 0) == 1)
        {
            throw new WakeupException();
        }
        finally
        {
            Volatile.Write(ref _pollCancellation, null);
        }
    }

    /// <summary>
    /// Records one at a time until <paramref name="cancellationToken"/> is cancelled. Each poll
    /// runs after the previous poll's records were all taken, so in implicit mode a record is
    /// accepted once the loop body that got it has finished.
    /// </summary>
    public async IAsyncEnumerable<ConsumeResult<TKey, TValue>> ConsumeAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var records = await PollAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            foreach (var record in records)
                yield return record;
        }
    }

    /// <summary>Explicit mode: accepts a record of the last poll.</summary>
    public void Acknowledge(ConsumeResult<TKey, TValue> record) => Acknowledge(record, AcknowledgeType.Accept);

    /// <summary>Explicit mode: says what became of a record of the last poll; a later call for the same record replaces an unsent one.</summary>
    public void Acknowledge(ConsumeResult<TKey, TValue> record, AcknowledgeType type)
    {
        ArgumentNullException.ThrowIfNull(record);
        Acknowledge(record.Topic, record.Partition, record.Offset, type);
    }

    /// <summary>Explicit mode: acknowledges by topic, partition and offset (Java's acknowledge(topic, partition, offset, type)).</summary>
    public void Acknowledge(string topic, int partition, long offset, AcknowledgeType type)
    {
        EnsureUsable();
        if (_options.AcknowledgementMode == ShareAcknowledgementMode.Implicit)
            throw new InvalidOperationException("Implicit acknowledgement of delivery is being used (share.acknowledgement.mode=implicit): set it to explicit to acknowledge records one by one.");
        if (type is not (AcknowledgeType.Accept or AcknowledgeType.Release or AcknowledgeType.Reject))
            throw new ArgumentOutOfRangeException(nameof(type), type, "Accept, Release or Reject.");
        if (!_state.Acknowledge(topic, partition, offset, type))
            throw new InvalidOperationException($"{topic}-{partition}@{offset} is not a record the last poll returned, or it was already sent.");
    }

    /// <summary>Sends the acknowledgements now and waits for the outcome: per partition, null or the error (Java's commitSync).</summary>
    public IReadOnlyDictionary<TopicPartition, KafkaException?> CommitSync() => CommitSync(_options.DefaultApiTimeout);

    /// <summary>Sends the acknowledgements recorded so far and waits for the broker's answer, up to <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>Each partition's outcome: null on success, else the error.</returns>
    public IReadOnlyDictionary<TopicPartition, KafkaException?> CommitSync(TimeSpan timeout) => RunSync(CommitSyncAsync(timeout, CancellationToken.None));

    /// <inheritdoc cref="CommitSync(TimeSpan)"/>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async ValueTask<IReadOnlyDictionary<TopicPartition, KafkaException?>> CommitSyncAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureUsable();
        AbsorbCompleted();
        RunCallbacks();
        if (_options.AcknowledgementMode == ShareAcknowledgementMode.Implicit)
            _state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        _state.TakeAcknowledged();
        var result = new Dictionary<TopicPartition, KafkaException?>();
        if (!_state.HasPendingAcknowledgements)
            return result;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var nodes = _state.NodesWithPendingAcknowledgements.ToList();
        var sent = new List<Task<ShareIo>>();
        foreach (int node in nodes)
        {
            await WaitForNodeAsync(node, bounded.Token).ConfigureAwait(false);
            if (StartAcknowledge(node, close: false) is { } task)
                sent.Add(task);
        }
        try
        {
            await Task.WhenAll(sent).WaitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KafkaTimeoutException($"CommitSync did not complete within {timeout.TotalMilliseconds} ms.");
        }
        AbsorbCompleted(capture: result);
        RunCallbacks();
        return result;
    }

    /// <summary>Sends the acknowledgements without waiting; their outcome goes to the callback in a later Poll, Commit or Close.</summary>
    public void CommitAsync()
    {
        EnsureUsable();
        AbsorbCompleted();
        RunCallbacks();
        if (_options.AcknowledgementMode == ShareAcknowledgementMode.Implicit)
            _state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        _state.TakeAcknowledged();
        foreach (int node in _state.NodesWithPendingAcknowledgements)
            _acknowledgeWanted.Add(node);
        SendAcknowledgements();
    }

    /// <summary>Makes the poll in progress (or the next one) throw <see cref="WakeupException"/>. May be called from any thread.</summary>
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

    /// <summary>Accepts (implicit mode) and sends what is acknowledged, closes the share sessions (the broker releases the rest), leaves the group, within 30 seconds.</summary>
    public void Close() => RunSync(CloseAsync(CancellationToken.None));

    /// <summary>Sends pending acknowledgements, releases records still acquired, and leaves the share group.</summary>
    /// <param name="cancellationToken">Stops waiting (the member is still closed).</param>
    /// <returns>When the consumer is closed.</returns>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_closed || _closing)
            return;
        if (_inCallback)
            throw new InvalidOperationException("The share consumer cannot be closed from its acknowledgement commit callback.");
        _closing = true;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            if (_subscription.Count > 0)
            {
                await ReleaseEverythingAsync(bounded.Token).ConfigureAwait(false);
                await _group.LeaveAsync("the share consumer is being closed", bounded.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            _log.LogWarning("Close did not finish cleanly: {Message}", e.Message);
        }
        finally
        {
            try
            {
                RunCallbacks();
            }
            catch (Exception e)
            {
                _log.LogWarning(e, "The acknowledgement commit callback threw during close");
            }
            _closed = true;
            await _closedToken.CancelAsync().ConfigureAwait(false);
            foreach (var task in _inFlight.Values)
            {
                try
                {
                    var io = await task.ConfigureAwait(false);
                    io.Buffer?.Release();
                }
                catch (OperationCanceledException)
                {
                }
            }
            _inFlight.Clear();
            _state.Dispose();
            await _group.DisposeAsync().ConfigureAwait(false);
            await _cluster.DisposeAsync().ConfigureAwait(false);
            _closedToken.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => CloseAsync();

    /// <summary>
    /// Close and unsubscribe: accept (implicit mode), release what was acquired but not handed
    /// out, then send every node its acknowledgements in a ShareAcknowledge with epoch -1, which
    /// closes the session and releases whatever else this member holds there.
    /// </summary>
    private async Task ReleaseEverythingAsync(CancellationToken token)
    {
        if (_options.AcknowledgementMode == ShareAcknowledgementMode.Implicit)
            _state.AcknowledgeAllDelivered(AcknowledgeType.Accept);
        _state.TakeAcknowledged();
        _fetchMore = false;
        foreach (int node in _inFlight.Keys.ToList())
            await WaitForNodeAsync(node, token).ConfigureAwait(false);
        _state.ReleaseBuffered();
        var closing = new List<Task<ShareIo>>();
        foreach (int node in _state.NodesWithSessions.Concat(_state.NodesWithPendingAcknowledgements).Distinct().ToList())
        {
            if (StartAcknowledge(node, close: true) is { } task)
                closing.Add(task);
        }
        try
        {
            await Task.WhenAll(closing).WaitAsync(token).ConfigureAwait(false);
        }
        finally
        {
            AbsorbCompleted();
        }
    }

    /// <summary>Sends a ShareFetch to every leader of wanted partitions that has no request in flight, when the application wants records.</summary>
    private void SendFetches()
    {
        if (!_fetchMore || _closedToken.IsCancellationRequested)
            return;
        var metadata = _cluster.Metadata;
        var byNode = new Dictionary<int, List<SharePartition>>();
        foreach (var p in _group.Assignment)
        {
            var meta = metadata.Partition(p.Topic, p.Partition);
            if (meta is null || meta.Leader < 0 || !metadata.Brokers.ContainsKey(meta.Leader))
            {
                _state.MetadataStale = true;
                continue;
            }
            if (!byNode.TryGetValue(meta.Leader, out var list))
                byNode[meta.Leader] = list = [];
            list.Add(p); // buffered ones too: leaving one out of the session would forget it, releasing its records
        }
        // Nodes with a session whose partitions all moved away get a fetch that forgets them.
        foreach (int node in _state.NodesWithSessions)
            byNode.TryAdd(node, []);
        foreach (var (nodeId, wanted) in byNode)
        {
            if (_inFlight.ContainsKey(nodeId) || !metadata.Brokers.TryGetValue(nodeId, out var node))
                continue;
            if (_state.HasAcknowledgementsOutside(nodeId, wanted))
            {
                // Acknowledgements for partitions this fetch would forget go first, by
                // ShareAcknowledge: forgetting a partition releases what is still held there.
                StartAcknowledge(nodeId, close: false);
                continue;
            }
            var request = _state.BuildFetch(nodeId, wanted, out var acks);
            if (request is null)
                continue;
            _acknowledgeWanted.Remove(nodeId);
            Start(nodeId, FetchAsync(node, request, acks));
        }
    }

    /// <summary>Sends the acknowledgements waiting for nodes that are free by ShareAcknowledge (commit, or records still buffered).</summary>
    private void SendAcknowledgements()
    {
        foreach (int node in _state.NodesWithPendingAcknowledgements.ToList())
        {
            if (_inFlight.ContainsKey(node))
            {
                _acknowledgeWanted.Add(node);
                continue;
            }
            // Called after SendFetches: what a fetch could carry is already on its way.
            _acknowledgeWanted.Remove(node);
            StartAcknowledge(node, close: false);
        }
    }

    private Task<ShareIo>? StartAcknowledge(int nodeId, bool close)
    {
        if (_inFlight.ContainsKey(nodeId))
            return null;
        var request = _state.BuildAcknowledge(nodeId, close, out var acks);
        if (request is null)
            return null;
        if (!_cluster.Metadata.Brokers.TryGetValue(nodeId, out var node))
        {
            _state.OnRequestFailed(nodeId, acks, new KafkaException(ErrorCode.NotLeaderOrFollower, $"Broker {nodeId} is no longer in the cluster."));
            return null;
        }
        var task = AcknowledgeAsync(node, request, acks, close);
        Start(nodeId, task);
        return task;
    }

    private void Start(int nodeId, Task<ShareIo> task)
    {
        _inFlight[nodeId] = task;
        _ = task.ContinueWith(_ => _signal.Set(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task WaitForNodeAsync(int node, CancellationToken token)
    {
        if (_inFlight.TryGetValue(node, out var task))
        {
            try
            {
                await task.WaitAsync(token).ConfigureAwait(false);
            }
            finally
            {
                AbsorbCompleted();
            }
        }
    }

    private async Task<ShareIo> FetchAsync(BrokerNode node, ShareFetchRequest request, AcknowledgementsInFlight acks)
    {
        try
        {
            var connection = await _cluster.ConnectAsync(node, ConnectionPurpose.Fetch, _closedToken.Token).ConfigureAwait(false);
            if (!connection.TryGetVersion(ApiKey.ShareFetch, out short version))
                throw new KafkaException(ErrorCode.UnsupportedVersion, $"{node} does not serve ShareFetch (KIP-932 share groups: Kafka 4.1+).");
            var timeout = _options.RequestTimeout + _options.FetchMaxWait;
            long sentAt = _time.GetTimestamp(); // the broker acquires no earlier: the lock's clock starts after this
            var (response, buffer) = await connection.SendLeasedAsync<ShareFetchResponse>(request, version, timeout, CancellationToken.None).ConfigureAwait(false);
            return new ShareIo(node.Id, Fetch: true, Close: false, acks, response, null, buffer, null) { SentAt = sentAt };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new ShareIo(node.Id, Fetch: true, Close: false, acks, null, null, null, e);
        }
    }

    private async Task<ShareIo> AcknowledgeAsync(BrokerNode node, ShareAcknowledgeRequest request, AcknowledgementsInFlight acks, bool close)
    {
        try
        {
            var connection = await _cluster.ConnectAsync(node, ConnectionPurpose.Fetch, CancellationToken.None).ConfigureAwait(false);
            var response = await connection.SendAsync<ShareAcknowledgeResponse>(request, CancellationToken.None).ConfigureAwait(false);
            return new ShareIo(node.Id, Fetch: false, close, acks, null, response, null, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new ShareIo(node.Id, Fetch: false, close, acks, null, null, null, e);
        }
    }

    /// <summary>Takes the answers of finished requests (on this, the application's, thread).</summary>
    private void AbsorbCompleted(Dictionary<TopicPartition, KafkaException?>? capture = null)
    {
        KafkaException? fatal = null;
        foreach (var (node, task) in _inFlight.Where(kv => kv.Value.IsCompleted).ToList())
        {
            _inFlight.Remove(node);
            var io = task.Result;
            try
            {
                if (io.Error is not null)
                {
                    if (io.Error is not OperationCanceledException || !_closedToken.IsCancellationRequested)
                        _log.LogDebug("{Api} to node {Node} failed: {Message}", io.Fetch ? "ShareFetch" : "ShareAcknowledge", node, io.Error.Message);
                    _state.OnRequestFailed(node, io.Acks, io.Error);
                    if (io.Error is KafkaException { IsRetriable: false } refused)
                        fatal ??= refused;
                }
                else if (io.Fetch)
                {
                    if (_state.OnFetchResponse(node, io.Acks, io.FetchResponse!, io.Buffer, _cluster.Metadata.TopicName, io.SentAt))
                        _fetchMore = false; // as the Java client: fetch again when the application has taken these
                }
                else
                {
                    _state.OnAcknowledgeResponse(node, io.Close, io.Acks, io.AckResponse!);
                }
            }
            catch (KafkaException e)
            {
                fatal ??= e;
            }
            finally
            {
                io.Buffer?.Release();
            }
        }
        var completed = _state.TakeCompleted();
        if (capture is not null)
        {
            foreach (var r in completed)
                capture[r.Partition] = r.Error ?? (capture.TryGetValue(r.Partition, out var earlier) ? earlier : null);
        }
        _forCallback.AddRange(completed);
        if (fatal is not null)
            throw fatal;
    }

    /// <summary>The commit callback, on the application's thread; consumer methods are refused while it runs.</summary>
    private void RunCallbacks()
    {
        if (_forCallback.Count == 0)
            return;
        var results = _forCallback.ToList();
        _forCallback.Clear();
        if (_callback is not { } callback)
            return;
        _inCallback = true;
        try
        {
            foreach (var r in results)
                callback(new Dictionary<TopicPartition, IReadOnlyCollection<long>> { [r.Partition] = r.Offsets }, r.Error);
        }
        finally
        {
            _inCallback = false;
        }
    }

    /// <summary>Records acquired for partitions no longer assigned are released at once.</summary>
    private void ReleaseUnassigned()
    {
        if (!_state.HasBuffered)
            return;
        var assigned = _group.Assignment.Select(p => (p.Topic, p.Partition)).ToHashSet();
        _state.ReleaseBuffered(key => !assigned.Contains(key));
    }

    private void MaybeRefreshMetadata()
    {
        if (!_state.MetadataStale || _metadataRefresh is { IsCompleted: false })
            return;
        _state.MetadataStale = false;
        var topics = _subscription;
        _metadataRefresh = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(_options.RetryBackoff, _time).ConfigureAwait(false);
                await _cluster.RefreshMetadataAsync(topics, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException)
            {
                _state.MetadataStale = true;
                _log.LogDebug("Metadata refresh failed: {Message}", e.Message);
            }
            _signal.Set();
        });
    }

    private void ThrowIfFatal()
    {
        if (_group.FatalError is { } fatal)
            throw fatal;
        if (_group.TakeReportedError() is { } reported)
            throw reported;
    }

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (_inCallback)
            throw new InvalidOperationException("KafkaShareConsumer methods are not accessible from the acknowledgement commit callback.");
    }

    private static void RunSync(ValueTask task) => task.AsTask().GetAwaiter().GetResult();

    private static T RunSync<T>(ValueTask<T> task) => task.AsTask().GetAwaiter().GetResult();

    /// <summary>A finished ShareFetch or ShareAcknowledge, handed from the network to the application's thread.</summary>
    private sealed record ShareIo(int Node, bool Fetch, bool Close, AcknowledgementsInFlight Acks, ShareFetchResponse? FetchResponse, ShareAcknowledgeResponse? AckResponse, ResponseBuffer? Buffer, Exception? Error)
    {
        /// <summary>When a ShareFetch left (its records' locks start later); null for the others.</summary>
        public long? SentAt { get; init; }
    }
}
