using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Client.Internal.Network;
using Samsa.Client.Producer;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// The producer's I/O loop (Kafka's Sender): gets a producer id for idempotence, drains ready
/// batches from the accumulator, groups them by partition leader into Produce requests (up to
/// max.in.flight.requests.per.connection per broker), and completes, retries or fails each batch
/// from the response. Records complete through tasks that continue elsewhere and callbacks that
/// run on the producer's callback queue, never on this loop.
/// </summary>
internal sealed class Sender : IDisposable
{
    private readonly ClusterClient _cluster;
    private readonly RecordAccumulator _accumulator;
    private readonly ProducerOptions _options;
    private readonly ILogger _log;
    private readonly Action<Action> _dispatch;
    private readonly TimeProvider _time;
    private readonly AsyncSignal _wake = new();
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _inFlight = new();
    // Per broker, the moment the last request handed to SendAsync reached the connection's write
    // queue. Requests must reach the wire in drain order: with idempotence a later batch of a
    // partition written first would make the broker refuse the earlier one for good. Only the
    // send loop touches the dictionary.
    private readonly Dictionary<int, Task> _lastQueued = [];
    private readonly CancellationTokenSource _stop = new();
    private int _flushing;
    private volatile bool _closing;
    private long _producerId = -1;
    private short _epoch = -1;
    private Task? _metadataRefresh;
    private readonly TransactionManager? _transactions;

    public Sender(ClusterClient cluster, RecordAccumulator accumulator, ProducerOptions options, ILogger log, Action<Action> dispatch, TransactionManager? transactions = null)
    {
        _transactions = transactions;
        _cluster = cluster;
        _accumulator = accumulator;
        _options = options;
        _log = log;
        _dispatch = dispatch;
        _time = cluster.Time;
        Loop = Task.Run(RunAsync);
    }

    public Task Loop { get; }

    public void Wake() => _wake.Set();

    public void BeginFlush()
    {
        Interlocked.Increment(ref _flushing);
        _wake.Set();
    }

    public void EndFlush() => Interlocked.Decrement(ref _flushing);

    /// <summary>Sends what is left within <paramref name="timeout"/>, then stops, failing what is still unsent.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _closing = true;
        _wake.Set();
        var done = _accumulator.AllDone;
        if (await Task.WhenAny(done, Task.Delay(timeout, _time)).ConfigureAwait(false) != done)
            _log.LogWarning("Producer closed with {Count} record(s) not delivered", _accumulator.Unfinished);
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var batch in _accumulator.TakeUnsent())
            Fail(batch, new KafkaException(ErrorCode.UnknownServerError, "The producer was closed before the record was sent."));
        try
        {
            await Loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (_transactions is null && _options.EnableIdempotence && _producerId < 0)
                {
                    await InitProducerIdAsync(token).ConfigureAwait(false);
                    continue;
                }
                Func<string, int, bool>? allowed = null;
                if (_transactions is { State: var txn })
                {
                    if (txn.HasError || txn.State == TransactionState.AbortingTransaction)
                        FailUnsealed(txn.LastError);
                    else if (txn.HasPartitionsToAdd)
                    {
                        // Before any batch of a new partition goes out (Java sends AddPartitionsToTxn ahead of the data too).
                        await AddPartitionsAsync(_transactions, token).ConfigureAwait(false);
                        continue;
                    }
                    _producerId = txn.ProducerId;
                    _epoch = txn.Epoch;
                    allowed = txn.IsSendAllowed;
                }
                bool flushing = _closing || Volatile.Read(ref _flushing) > 0;
                var batches = _accumulator.Drain(flushing, _producerId, _epoch, out var nextDue, allowed);
                if (batches.Count == 0)
                {
                    await _wake.WaitAsync(nextDue, _time, token).ConfigureAwait(false);
                    continue;
                }
                Send(batches, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The loop must outlive any failure, or every record still queued would wait forever.
                if (e is KafkaException)
                    _log.LogInformation("Producer: {Message}; retrying", e.Message);
                else
                    _log.LogError(e, "Producer send loop failed; retrying");
                try
                {
                    await Task.Delay(_options.RetryBackoff, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task AddPartitionsAsync(TransactionManager transactions, CancellationToken token)
    {
        try
        {
            await transactions.AddPartitionsAsync(token).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            // The state machine holds the error now; the next round fails the partitions' batches with it.
            _log.LogDebug("AddPartitionsToTxn: {Message}", e.Message);
        }
    }

    /// <summary>
    /// Transactions: fails the batches that were never sent, because the transaction is aborting
    /// or in an error state (Java's abortUndrainedBatches); after a fatal error, also those
    /// waiting for a retry, which could never be sent again.
    /// </summary>
    public void FailUnsealed(KafkaException? cause)
    {
        bool fatal = _transactions?.State.HasFatalError == true;
        var batches = _accumulator.TakeUnsealed(includeSealed: fatal);
        if (batches.Count == 0)
            return;
        var error = fatal && cause is not null
            ? cause
            : new Errors.TransactionAbortedException(cause is null
                ? "The record's transaction was aborted before the record was sent."
                : $"The record's transaction must abort ({cause.Message}); the record was not sent.", cause);
        foreach (var batch in batches)
            Fail(batch, error);
    }

    private async Task InitProducerIdAsync(CancellationToken token)
    {
        var response = await _cluster.SendToAnyAsync<InitProducerIdResponse>(
            new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = int.MaxValue, ProducerId = -1, ProducerEpoch = -1 }, token).ConfigureAwait(false);
        if (response.ErrorCode != ErrorCode.None)
            throw KafkaException.FromError(response.ErrorCode, "InitProducerId (enable.idempotence)");
        _producerId = response.ProducerId;
        _epoch = response.ProducerEpoch;
        _log.LogDebug("Producer id {Id}, epoch {Epoch}", _producerId, _epoch);
    }

    private void Send(List<ProducerBatch> batches, CancellationToken token)
    {
        var metadata = _cluster.Metadata;
        var byLeader = new Dictionary<int, List<ProducerBatch>>();
        foreach (var batch in batches)
        {
            int leader = metadata.Partition(batch.Topic, batch.Partition)?.Leader ?? -1;
            if (leader < 0 || !metadata.Brokers.ContainsKey(leader))
            {
                RefreshMetadata();
                Retry(batch, ErrorCode.LeaderNotAvailable, "no known leader", transient: true);
                continue;
            }
            if (!byLeader.TryGetValue(leader, out var list))
                byLeader[leader] = list = [];
            list.Add(batch);
        }
        foreach (var (leader, list) in byLeader)
        {
            // Split at max.request.size.
            var chunk = new List<ProducerBatch>();
            long size = 0;
            foreach (var batch in list)
            {
                if (chunk.Count > 0 && size + batch.EstimatedSize > _options.MaxRequestSize)
                {
                    SendInOrder(metadata.Brokers[leader], chunk, token);
                    chunk = [];
                    size = 0;
                }
                chunk.Add(batch);
                size += batch.EstimatedSize;
            }
            SendInOrder(metadata.Brokers[leader], chunk, token);
        }
    }

    private void SendInOrder(BrokerNode node, List<ProducerBatch> batches, CancellationToken token)
    {
        var previous = _lastQueued.GetValueOrDefault(node.Id, Task.CompletedTask);
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _lastQueued[node.Id] = queued.Task;
        _ = SendAsync(node, batches, previous, queued, token);
    }

    /// <param name="node">The broker the batches go to.</param>
    /// <param name="batches">The batches of one produce request.</param>
    /// <param name="previous">Completes once the request before this one is queued for writing.</param>
    /// <param name="queued">Completed once this request is queued for writing (or given up).</param>
    /// <param name="token">Stops the send on close.</param>
    private async Task SendAsync(BrokerNode node, List<ProducerBatch> batches, Task previous, TaskCompletionSource queued, CancellationToken token)
    {
        var slots = _inFlight.GetOrAdd(node.Id, _ => new SemaphoreSlim(_options.MaxInFlightRequestsPerConnection));
        try
        {
            await previous.ConfigureAwait(false);
            await slots.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            queued.TrySetResult();
            foreach (var batch in batches)
                Fail(batch, new KafkaException(ErrorCode.UnknownServerError, "The producer was closed before the record was sent."));
            return;
        }
        int handled = 0; // batches answered so far, in list order; the rest are retried on failure
        try
        {
            var metadata = _cluster.Metadata;
            var request = new ProduceRequest
            {
                TransactionalId = _options.TransactionalId,
                Acks = _options.Acks,
                TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
                TopicData = batches.GroupBy(b => b.Topic, StringComparer.Ordinal).Select(g => new ProduceRequest.TopicProduceData
                {
                    Name = g.Key,
                    TopicId = metadata.TopicId(g.Key),
                    PartitionData = g.Select(b => new ProduceRequest.PartitionProduceData { Index = b.Partition, Records = b.Encoded!.WrittenMemory }).ToList(),
                }).ToList(),
            };
            var connection = await _cluster.ConnectAsync(node, ConnectionPurpose.Control, token).ConfigureAwait(false);
            if (!connection.TryGetVersion(ApiKey.Produce, out short version))
                throw new KafkaException(ErrorCode.UnsupportedVersion, $"{node} speaks no Produce version this client knows.");
            if (request.TopicData.Any(t => t.TopicId == Guid.Empty))
                version = Math.Min(version, (short)12); // v13 names topics by id only
            if (_options.Acks == 0)
            {
                var written = connection.SendOnewayAsync(request, version, token);
                queued.TrySetResult(); // the connection writes in call order from here on
                await written.ConfigureAwait(false);
                foreach (var batch in batches)
                {
                    handled++;
                    Succeed(batch, -1, -1);
                }
                return;
            }
            var answer = connection.SendAsync<ProduceResponse>(request, version, token);
            queued.TrySetResult();
            var response = await answer.ConfigureAwait(false);
            var byPartition = new Dictionary<(string, int), ProduceResponse.PartitionProduceResponse>();
            foreach (var t in response.Responses)
            {
                string name = t.Name.Length > 0 ? t.Name : metadata.TopicName(t.TopicId) ?? "";
                foreach (var p in t.PartitionResponses)
                    byPartition[(name, p.Index)] = p;
            }
            foreach (var batch in batches)
            {
                handled++;
                if (!byPartition.TryGetValue((batch.Topic, batch.Partition), out var p))
                    Retry(batch, ErrorCode.UnknownServerError, "the broker's answer left this partition out", transient: true);
                else if (p.ErrorCode is ErrorCode.None or ErrorCode.DuplicateSequenceNumber)
                    Succeed(batch, p.BaseOffset, p.LogAppendTimeMs);
                else
                    // OUT_OF_ORDER_SEQUENCE_NUMBER: an earlier batch of the partition failed while this one
                    // was in flight; it goes back behind that one.
                    Retry(batch, p.ErrorCode, p.ErrorMessage, transient: p.ErrorCode == ErrorCode.OutOfOrderSequenceNumber);
            }
        }
        catch (Exception e)
        {
            // The request may or may not have been written; with idempotence a resend is deduplicated.
            // Any failure lands here (a malformed response too): a batch must never be left in flight.
            foreach (var batch in batches.Skip(handled))
            {
                if (e is OperationCanceledException && _stop.IsCancellationRequested)
                    Fail(batch, new KafkaException(ErrorCode.UnknownServerError, "The producer was closed before the record was acknowledged."));
                else
                    Retry(batch, (e as KafkaException)?.Error ?? ErrorCode.UnknownServerError, e.Message, transient: e is not KafkaException || e is KafkaConnectionException);
            }
        }
        finally
        {
            queued.TrySetResult();
            slots.Release();
            _wake.Set();
        }
    }

    /// <param name="batch">The failed batch.</param>
    /// <param name="error">The broker's error, or the closest one.</param>
    /// <param name="message">The broker's error message, if any.</param>
    /// <param name="transient">The failure was ours or the network's, not the broker's verdict on the batch: always worth a retry.</param>
    private void Retry(ProducerBatch batch, ErrorCode error, string? message, bool transient = false)
    {
        bool retriable = transient || error.IsRetriable();
        bool timeLeft = _time.GetElapsedTime(batch.CreatedAt) < _options.DeliveryTimeout;
        if (retriable && timeLeft && batch.Attempts < _options.Retries && !_stop.IsCancellationRequested)
        {
            batch.Attempts++;
            if (error is ErrorCode.NotLeaderOrFollower or ErrorCode.LeaderNotAvailable or ErrorCode.UnknownTopicOrPartition or ErrorCode.NetworkException)
                RefreshMetadata();
            _log.LogDebug("Produce to {Topic}-{Partition} failed with {Error} ({Message}); retry {Attempt}", batch.Topic, batch.Partition, error, message, batch.Attempts);
            _accumulator.Requeue(batch, _options.RetryBackoff);
            return;
        }
        var reason = !timeLeft
            ? new Errors.KafkaTimeoutException($"Record to {batch.Topic}-{batch.Partition} not delivered within delivery.timeout.ms ({_options.DeliveryTimeout.TotalMilliseconds} ms); last error {error}{(message is null ? "" : ": " + message)}.")
            : KafkaException.FromError(error, $"producing to {batch.Topic}-{batch.Partition}{(message is null ? "" : ": " + message)}");
        Fail(batch, reason);
    }

    private void Succeed(ProducerBatch batch, long baseOffset, long logAppendTime)
    {
        var records = batch.Records;
        string topic = batch.Topic;
        int partition = batch.Partition;
        bool callbacks = false;
        for (int i = 0; i < records.Count; i++)
        {
            var pending = records[i];
            callbacks |= pending.Callback is not null;
            pending.Completion?.TrySetResult(Result(topic, partition, baseOffset, logAppendTime, i, pending));
        }
        // One item on the callback queue per batch, not per record: the queue wakes its reader
        // for each item, and that cost per record was a large part of a small record's send.
        if (callbacks)
        {
            var copy = records; // the batch's own list: nothing adds to a batch once it is sent
            _dispatch(() =>
            {
                for (int i = 0; i < copy.Count; i++)
                {
                    if (copy[i].Callback is { } callback)
                        Invoke(callback, new DeliveryReport(topic, partition, Result(topic, partition, baseOffset, logAppendTime, i, copy[i]), null));
                }
            });
        }
        ProducerTelemetry.Finished(batch, baseOffset, null);
        // Last: a flush waiting for this batch queues its marker behind these callbacks.
        _accumulator.Complete(batch);
    }

    private static DeliveryResult Result(string topic, int partition, long baseOffset, long logAppendTime, int index, PendingRecord pending) =>
        new(topic, partition, baseOffset < 0 ? -1 : baseOffset + index, logAppendTime >= 0 ? logAppendTime : pending.Timestamp);

    private void Fail(ProducerBatch batch, KafkaException error)
    {
        // A batch of the transaction failed: the transaction can only abort now (or the producer is fenced).
        if (_transactions is not null && error is not Errors.TransactionAbortedException && batch.IsSealed && !_stop.IsCancellationRequested)
            _transactions.State.BatchFailed(error);
        var copy = batch.Records;
        foreach (var pending in copy)
            pending.Completion?.TrySetException(error);
        if (copy.Any(p => p.Callback is not null))
        {
            string topic = batch.Topic;
            int partition = batch.Partition;
            _dispatch(() =>
            {
                foreach (var pending in copy)
                {
                    if (pending.Callback is { } callback)
                        Invoke(callback, new DeliveryReport(topic, partition, null, error));
                }
            });
        }
        ProducerTelemetry.Finished(batch, -1, error);
        _accumulator.Complete(batch);
    }

    /// <summary>One handler throwing must not cost the others of its batch their reports.</summary>
    private void Invoke(Action<DeliveryReport> callback, DeliveryReport report)
    {
        try
        {
            callback(report);
        }
        catch (Exception e)
        {
            _log.LogError(e, "A delivery handler threw");
        }
    }

    private void RefreshMetadata()
    {
        if (_metadataRefresh is { IsCompleted: false })
            return;
        _metadataRefresh = Task.Run(async () =>
        {
            try
            {
                await _cluster.RefreshMetadataAsync(null, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KafkaException or OperationCanceledException or ObjectDisposedException)
            {
                _log.LogDebug("Producer metadata refresh failed: {Message}", e.Message);
            }
            _wake.Set();
        });
    }

    public void Dispose()
    {
        _stop.Dispose();
        foreach (var slots in _inFlight.Values)
            slots.Dispose();
    }
}
