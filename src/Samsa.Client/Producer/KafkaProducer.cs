using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Client.Internal;
using Samsa.Client.Internal.Network;
using Samsa.Client.Internal.Producer;
using Samsa.Client.Serialization;
using Samsa.Protocol;

namespace Samsa.Client.Producer;

/// <summary>
/// A Kafka producer with the Java producer's semantics: records are batched per partition
/// (batch.size, linger.ms), compressed, sent to each partition's leader and retried on transient
/// errors; with idempotence (the default) retries never duplicate or reorder a partition's records.
/// Thread-safe: any number of threads may produce. Delivery callbacks run one at a time, in order,
/// on the producer's own callback task — never on its I/O loop. With a transactional.id it is a
/// transactional producer (Java's): InitTransactionsAsync once, then BeginTransaction, produce,
/// SendOffsetsToTransactionAsync, CommitTransactionAsync or AbortTransactionAsync.
/// </summary>
public sealed partial class KafkaProducer<TKey, TValue> : IKafkaProducer<TKey, TValue>
{
    // Per-record overhead Kafka's accumulator assumes besides key, value and headers.
    private const int RecordOverhead = 70;

    private readonly ProducerOptions _options;
    private readonly ISerializer<TKey> _keys;
    private readonly ISerializer<TValue> _values;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ClusterClient _cluster;
    private readonly RecordAccumulator _accumulator;
    private readonly Sender _sender;
    private readonly Channel<Action> _callbacks = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _callbackLoop;
    // Read for every keyless record, changed once a batch: lock-free reads.
    private readonly ConcurrentDictionary<string, int> _sticky = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _enqueueGate = new(1, 1);
    private int _closed;

    /// <summary>A producer with <paramref name="options"/> (validated here, naming a bad key); it connects on first use.</summary>
    /// <param name="options">The settings, with Kafka's names and defaults.</param>
    /// <param name="keySerializer">Writes keys; null for the built-in one of <typeparamref name="TKey"/> (string, byte[], int, long, Null).</param>
    /// <param name="valueSerializer">Writes values; null for the built-in one of <typeparamref name="TValue"/>.</param>
    /// <param name="loggerFactory">Where the producer logs; null for none.</param>
    /// <param name="timeProvider">The clock (tests pass a fake one); null for the system clock.</param>
    public KafkaProducer(ProducerOptions options, ISerializer<TKey>? keySerializer = null, ISerializer<TValue>? valueSerializer = null,
        ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validate();
        _keys = keySerializer ?? Serializers.Default<TKey>();
        _values = valueSerializer ?? Serializers.Default<TValue>();
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Samsa.Client.Producer");
        _time = timeProvider ?? TimeProvider.System;
        _cluster = new ClusterClient(
            new ClusterClientOptions(options.BootstrapServers, options.ClientId, options.RequestTimeout, options.RetryBackoff,
                options.ReconnectBackoff, options.ReconnectBackoffMax, options.AllowAutoCreateTopics, Security: ClientSecurity.For(options.Security)),
            _log, _time);
        _accumulator = new RecordAccumulator(_options, _time);
        if (_options.TransactionalId is { } transactionalId)
        {
            _transactions = new TransactionManager(new TransactionStateMachine(transactionalId), new ClusterTransactionTransport(_cluster),
                _options.TransactionTimeout, _options.RetryBackoff, _time, _log);
            _transactions.EpochBumped = _accumulator.ResetSequences;
        }
        _sender = new Sender(_cluster, _accumulator, _options, _log, a => _callbacks.Writer.TryWrite(a), _transactions);
        _callbackLoop = Task.Run(RunCallbacksAsync);
    }

    /// <summary>A producer from Kafka-style settings (<c>("linger.ms", "5")</c>, ...); an unknown key or a bad value names the key.</summary>
    /// <param name="properties">The settings by Kafka's property names.</param>
    /// <param name="keySerializer">Writes keys; null for the built-in one.</param>
    /// <param name="valueSerializer">Writes values; null for the built-in one.</param>
    /// <param name="loggerFactory">Where the producer logs; null for none.</param>
    public KafkaProducer(IEnumerable<KeyValuePair<string, string>> properties, ISerializer<TKey>? keySerializer = null, ISerializer<TValue>? valueSerializer = null, ILoggerFactory? loggerFactory = null)
        : this(ProducerOptions.FromProperties(properties), keySerializer, valueSerializer, loggerFactory)
    {
    }

    /// <inheritdoc />
    public ProducerOptions Options => _options;

    /// <summary>
    /// Adds the record to its partition's batch and completes when the broker acknowledged it (per
    /// acks), or fails with a typed <see cref="KafkaException"/>. Waits up to max.block.ms for the
    /// topic's metadata and for room in buffer.memory.
    /// </summary>
    public async Task<DeliveryResult> ProduceAsync(string topic, Message<TKey, TValue> message, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        await EnqueueAsync(topic, message, completion, null, cancellationToken).ConfigureAwait(false);
        return await completion.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Fire and forget: returns once the record is batched (blocking up to max.block.ms for
    /// metadata or memory); <paramref name="deliveryHandler"/> hears how it ended.
    /// </summary>
    public void Produce(string topic, Message<TKey, TValue> message, Action<DeliveryReport>? deliveryHandler = null) =>
        EnqueueAsync(topic, message, null, deliveryHandler ?? (_ => { }), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    private async ValueTask EnqueueAsync(string topic, Message<TKey, TValue> message, TaskCompletionSource<DeliveryResult>? completion, Action<DeliveryReport>? callback, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentNullException.ThrowIfNull(message);
        _transactions?.State.CheckSend(topic);
        byte[]? key, value;
        try
        {
            key = _keys.Serialize(message.Key, new SerializationContext(topic, IsKey: true) { Headers = message.Headers });
            value = _values.Serialize(message.Value, new SerializationContext(topic, IsKey: false) { Headers = message.Headers });
        }
        catch (Exception e) when (e is not KafkaException)
        {
            throw new KafkaException(ErrorCode.InvalidRecord, $"Cannot serialize a record for {topic}: {e.Message}", e);
        }
        var headers = message.Headers?.Select(h => (h.Key, h.Value)).ToList();
        var previous = Activity.Current;
        var activity = ProducerTelemetry.StartSend(topic, message.Key, value is null, _options.ClientId, ref headers);
        if (activity is not null)
            Activity.Current = previous; // the span is the record's, not the caller's context from here on
        long started = ProducerTelemetry.Started();
        try
        {
            await AppendAsync(topic, message, key, value, headers, new PendingRecord(completion, callback, 0, 0, activity, started), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (activity is not null || started != 0 || ClientTelemetry.Sent.Enabled)
        {
            ProducerTelemetry.Abandoned(activity, topic, started, e);
            throw;
        }
    }

    private async ValueTask AppendAsync(string topic, Message<TKey, TValue> message, byte[]? key, byte[]? value, List<(string Key, byte[]? Value)>? headers,
        PendingRecord pending, CancellationToken cancellationToken)
    {
        int size = RecordOverhead + (key?.Length ?? 0) + (value?.Length ?? 0) + (headers?.Sum(h => h.Key.Length + (h.Value?.Length ?? 0) + 8) ?? 0);
        if (size > _options.MaxRequestSize)
            throw new KafkaException(ErrorCode.MessageTooLarge, $"A record of about {size} bytes is larger than max.request.size ({_options.MaxRequestSize}).");
        // Records enter the accumulator in call order even when some wait for metadata or memory:
        // the gate is a FIFO, taken without waiting in the common case.
        bool wake;
        if (!_enqueueGate.Wait(0, CancellationToken.None))
            await _enqueueGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int partitions = await PartitionCountAsync(topic, cancellationToken).ConfigureAwait(false);
            int partition = message.Partition ?? ChoosePartition(topic, key, partitions);
            if (partition < 0 || partition >= partitions)
                throw new KafkaException(ErrorCode.UnknownTopicOrPartition, $"{topic} has {partitions} partition(s); there is no partition {partition}.");
            // Transactions: refuses a record outside a transaction, and has the partition added before its first batch leaves.
            _transactions?.State.MaybeAddPartition(topic, partition);
            await _accumulator.ReserveAsync(size, cancellationToken).ConfigureAwait(false);
            ProducerTelemetry.Partitioned(pending.Activity, partition);
            long timestamp = (message.Timestamp ?? _time.GetUtcNow()).ToUnixTimeMilliseconds();
            wake = _accumulator.Append(topic, partition, timestamp, key, value, headers, pending with { Timestamp = timestamp, Bytes = size }, out bool full);
            if (full && key is null && message.Partition is null)
                MoveSticky(topic, partition, partitions);
        }
        finally
        {
            _enqueueGate.Release();
        }
        if (wake)
            _sender.Wake();
    }

    /// <summary>Keyed: the configured hash. Keyless: the sticky partition (murmur2) or a random one (consistent_random).</summary>
    private int ChoosePartition(string topic, byte[]? key, int partitions)
    {
        // librdkafka's consistent_random places empty keys like null ones (at random); Java hashes them.
        if (key is not null && (key.Length > 0 || _options.Partitioner == Partitioner.Murmur2))
            return PartitionHash.PartitionFor(_options.Partitioner, key, partitions);
        if (_options.Partitioner == Partitioner.Crc32)
            return Random.Shared.Next(partitions);
        if (_sticky.TryGetValue(topic, out int sticky) && sticky < partitions)
            return sticky;
        return _sticky.AddOrUpdate(topic, _ => Random.Shared.Next(partitions), (_, current) => current < partitions ? current : Random.Shared.Next(partitions));
    }

    /// <summary>KIP-480: once the sticky partition's batch is full, keyless records move to another partition.</summary>
    private void MoveSticky(string topic, int current, int partitions)
    {
        if (partitions < 2)
            return;
        int next = (current + 1 + Random.Shared.Next(partitions - 1)) % partitions;
        _sticky.TryUpdate(topic, next, current); // only if no other thread moved it already
    }

    private async ValueTask<int> PartitionCountAsync(string topic, CancellationToken cancellationToken)
    {
        if (_cluster.Metadata.Topics.TryGetValue(topic, out var known) && known.Partitions.Count > 0)
            return known.Partitions.Count;
        long start = _time.GetTimestamp();
        while (true)
        {
            try
            {
                var metadata = await _cluster.RefreshMetadataAsync([topic], cancellationToken).ConfigureAwait(false);
                if (metadata.Topics.TryGetValue(topic, out var t))
                {
                    if (t.Error is ErrorCode.TopicAuthorizationFailed or ErrorCode.InvalidTopicException)
                        throw KafkaException.FromError(t.Error, $"topic {topic}");
                    if (t.Partitions.Count > 0)
                        return t.Partitions.Count;
                }
            }
            catch (KafkaException e) when (e.IsRetriable)
            {
                _log.LogDebug("Metadata for {Topic}: {Message}", topic, e.Message);
            }
            if (_time.GetElapsedTime(start) >= _options.MaxBlock)
                throw new Errors.KafkaTimeoutException($"Topic {topic} is not in the cluster's metadata after max.block.ms ({_options.MaxBlock.TotalMilliseconds} ms): create it, or allow auto-creation.");
            await Task.Delay(_options.RetryBackoff, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends everything batched so far at once (ignoring linger.ms) and waits until it is delivered or failed.</summary>
    public void Flush(TimeSpan timeout)
    {
        if (!FlushAsync(CancellationToken.None).Wait(timeout))
            throw new Errors.KafkaTimeoutException($"Flush did not finish within {timeout.TotalMilliseconds} ms; {_accumulator.Unfinished} record(s) still pending.");
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        // Records produced before the flush but still waiting for metadata or memory are part of it.
        await _enqueueGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        _enqueueGate.Release();
        _sender.BeginFlush();
        try
        {
            await _accumulator.AllDone.WaitAsync(cancellationToken).ConfigureAwait(false);
            // Delivery callbacks queued before the flush have run when it returns, as in Kafka.
            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _callbacks.Writer.TryWrite(() => drained.TrySetResult());
            await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sender.EndFlush();
        }
    }

    private async Task RunCallbacksAsync()
    {
        await foreach (var callback in _callbacks.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                callback();
            }
            catch (Exception e)
            {
                _log.LogError(e, "A delivery handler threw");
            }
        }
    }

    /// <summary>Delivers what is batched (up to 30 s), then releases everything.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Delivers what is batched (up to 30 s), then releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _closed) != 0)
            return;
        await AbortOnCloseAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        await _sender.CloseAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await _transactionStop.CancelAsync().ConfigureAwait(false);
        _callbacks.Writer.TryComplete();
        await _callbackLoop.ConfigureAwait(false);
        _sender.Dispose();
        _enqueueGate.Dispose();
        _transactions?.Dispose();
        _transactionStop.Dispose();
        await _cluster.DisposeAsync().ConfigureAwait(false);
    }
}
