using Samsa.Client.Producer;
using Samsa.Protocol.Records;

namespace Samsa.Client.Internal.Producer;

/// <summary>
/// Kafka's RecordAccumulator: per partition, one open batch taking records and a queue of batches
/// waiting to be sent. One batch per partition is in flight at a time, and a failed one goes back
/// to the head of its queue, so a partition's records reach the log in the order they were
/// produced even across retries. Sequence numbers (idempotence) are given when a batch is first
/// sealed, in that same order. Producers on any thread append; the sender drains; both under one
/// short lock. Also does buffer.memory's accounting: appends wait (up to max.block.ms) for room.
/// </summary>
internal sealed class RecordAccumulator(ProducerOptions options, TimeProvider time)
{
    private sealed class PartitionQueue
    {
        public ProducerBatch? Open;
        public readonly LinkedList<ProducerBatch> Waiting = new();
        public int InFlight;
        public int NextSequence;
        public long Sealed;
        // Records in the partition's last batch: the next one's list starts that large instead of growing by doubling.
        public int LastCount = 16;
    }

    private readonly object _gate = new();
    private readonly Dictionary<(string Topic, int Partition), PartitionQueue> _queues = [];
    private readonly Stack<RecordBatchBuilder> _builders = new();
    // buffer.memory's accounting has its own lock, taken only when someone must wait.
    private readonly Lock _memoryGate = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> _memoryWaiters = new();
    private long _freeMemory = options.BufferMemory;
    private int _memoryWaiting;
    private int _unfinished;
    private readonly bool _transactional = options.TransactionalId is not null;
    private TaskCompletionSource _allDone = Completed();

    /// <summary>buffer.memory not reserved by a record now.</summary>
    public long FreeMemory => Volatile.Read(ref _freeMemory);

    /// <summary>Records appended and not yet completed (delivered or failed).</summary>
    public int Unfinished => Volatile.Read(ref _unfinished);

    /// <summary>
    /// Waits for buffer.memory room; throws KafkaTimeoutException after max.block.ms. With room
    /// and nobody waiting (the common case) it takes no lock: one compare-exchange per record, so
    /// the producing thread does not contend with the sender for the accumulator's lock twice a record.
    /// </summary>
    public ValueTask ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _memoryWaiting) == 0 && TryTake(bytes))
            return ValueTask.CompletedTask;
        return ReserveSlowAsync(bytes, cancellationToken);
    }

    private bool TryTake(long bytes)
    {
        long free = Volatile.Read(ref _freeMemory);
        while (free >= bytes)
        {
            long seen = Interlocked.CompareExchange(ref _freeMemory, free - bytes, free);
            if (seen == free)
                return true;
            free = seen;
        }
        return false;
    }

    private async ValueTask ReserveSlowAsync(long bytes, CancellationToken cancellationToken)
    {
        TaskCompletionSource ready;
        lock (_memoryGate)
        {
            if (_memoryWaiters.Count == 0 && TryTake(bytes))
                return;
            ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _memoryWaiters.AddLast((bytes, ready));
            // The full fence of this increment pairs with Free's: either Free sees a waiter, or
            // the grant below sees the memory Free returned.
            Interlocked.Increment(ref _memoryWaiting);
            GrantWaiters();
        }
        try
        {
            await ready.Task.WaitAsync(options.MaxBlock, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_memoryGate)
            {
                var node = _memoryWaiters.Find((bytes, ready));
                if (node is not null)
                {
                    _memoryWaiters.Remove(node);
                    Interlocked.Decrement(ref _memoryWaiting);
                }
                else if (ready.Task.IsCompletedSuccessfully)
                {
                    Free(bytes); // granted just as we gave up
                }
            }
            if (e is TimeoutException)
                throw new Errors.KafkaTimeoutException($"buffer.memory ({options.BufferMemory} bytes) stayed full for max.block.ms ({options.MaxBlock.TotalMilliseconds} ms): the brokers are not keeping up or are unreachable.");
            throw;
        }
    }

    public void Free(long bytes)
    {
        Interlocked.Add(ref _freeMemory, bytes);
        if (Volatile.Read(ref _memoryWaiting) == 0)
            return;
        lock (_memoryGate)
            GrantWaiters();
    }

    /// <summary>Hands freed memory to waiters in arrival order (under <see cref="_memoryGate"/>).</summary>
    private void GrantWaiters()
    {
        while (_memoryWaiters.First is { } first && TryTake(first.Value.Bytes))
        {
            _memoryWaiters.RemoveFirst();
            Interlocked.Decrement(ref _memoryWaiting);
            first.Value.Ready.TrySetResult();
        }
    }

    /// <summary>
    /// Adds a record. <paramref name="full"/>: it filled a batch (a sticky partition should move
    /// on). Returns true when the sender should look now: a batch is ready, or a new batch started
    /// whose linger deadline the sender does not know yet. Waking it for every record would make
    /// it drain (and sleep again) once per record.
    /// </summary>
    public bool Append(string topic, int partition, long timestamp, byte[]? key, byte[]? value, IReadOnlyList<(string, byte[]?)>? headers, PendingRecord pending, out bool full)
    {
        lock (_gate)
        {
            if (!_queues.TryGetValue((topic, partition), out var queue))
                _queues[(topic, partition)] = queue = new PartitionQueue();
            full = false;
            if (queue.Open is { } open && open.EstimatedSize + pending.Bytes > options.BatchSize)
            {
                queue.Waiting.AddLast(open);
                queue.LastCount = open.Records.Count;
                queue.Open = null;
                full = true;
            }
            bool started = queue.Open is null;
            queue.Open ??= new ProducerBatch(topic, partition, _builders.Count > 0 ? _builders.Pop() : new RecordBatchBuilder { Compression = options.CompressionType }, time.GetTimestamp(), queue.LastCount);
            queue.Open.Builder!.Add(timestamp, key, key is null, value, value is null, headers);
            queue.Open.Records.Add(pending);
            queue.Open.ReservedBytes += pending.Bytes;
            if (++_unfinished == 1)
                _allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            full |= queue.Open.EstimatedSize >= options.BatchSize;
            return full || started;
        }
    }

    /// <summary>
    /// The batches to send now, at most one per partition not already in flight: a waiting (full or
    /// retried) batch, or an open one that lingered long enough (or any, when flushing). Returns
    /// how long until the next open batch is due, for the sender's sleep.
    /// </summary>
    /// <param name="flushing">Send open batches now, lingered or not.</param>
    /// <param name="producerId">The producer id to seal batches with (-1 without idempotence).</param>
    /// <param name="epoch">Its epoch.</param>
    /// <param name="nextDue">How long until the next open batch is due.</param>
    /// <param name="allowed">Transactions: whether a partition's batches may go (it is in the transaction); null for all.</param>
    public List<ProducerBatch> Drain(bool flushing, long producerId, short epoch, out TimeSpan nextDue, Func<string, int, bool>? allowed = null)
    {
        var ready = new List<ProducerBatch>();
        nextDue = Timeout.InfiniteTimeSpan;
        long now = time.GetTimestamp();
        lock (_gate)
        {
            foreach (var ((topic, partition), queue) in _queues)
            {
                if (queue.InFlight >= options.MaxInFlightRequestsPerConnection)
                    continue;
                if (allowed is not null && (queue.Open is not null || queue.Waiting.Count > 0) && !allowed(topic, partition))
                    continue;
                ProducerBatch? batch = null;
                if (queue.Waiting.First is { } head)
                {
                    if (head.Value.RetryAt > now)
                    {
                        nextDue = Min(nextDue, time.GetElapsedTime(now, head.Value.RetryAt));
                        continue;
                    }
                    batch = head.Value;
                    queue.Waiting.RemoveFirst();
                }
                else if (queue.Open is { } open)
                {
                    var age = time.GetElapsedTime(open.CreatedAt, now);
                    if (!flushing && age < options.Linger)
                    {
                        nextDue = Min(nextDue, options.Linger - age);
                        continue;
                    }
                    batch = open;
                    queue.LastCount = Math.Max(open.Records.Count, 1);
                    queue.Open = null;
                }
                if (batch is null)
                    continue;
                if (!batch.IsSealed)
                {
                    int sequence = producerId >= 0 ? queue.NextSequence : -1;
                    if (producerId >= 0)
                        queue.NextSequence = (int)((queue.NextSequence + (long)batch.Records.Count) % int.MaxValue);
                    var builder = batch.Seal(producerId, epoch, sequence, queue.Sealed++, _transactional);
                    builder.Reset();
                    _builders.Push(builder);
                }
                queue.InFlight++;
                ready.Add(batch);
            }
        }
        return ready;
    }

    /// <summary>The batch is done (delivered or failed for good): its partition may send the next one.</summary>
    public void Complete(ProducerBatch batch)
    {
        lock (_gate)
        {
            _queues[(batch.Topic, batch.Partition)].InFlight--;
            _unfinished -= batch.Records.Count;
            if (_unfinished == 0)
                _allDone.TrySetResult();
        }
        Free(batch.ReservedBytes);
        batch.Dispose();
    }

    /// <summary>
    /// The batch failed retriably: back into its partition's queue, unchanged, ahead of every batch
    /// with a later sequence (several may fail together when they were in flight at once; the
    /// broker accepts them only in sequence order).
    /// </summary>
    public void Requeue(ProducerBatch batch, TimeSpan backoff)
    {
        batch.RetryAt = time.GetTimestamp() + (long)(backoff.TotalSeconds * time.TimestampFrequency);
        lock (_gate)
        {
            var queue = _queues[(batch.Topic, batch.Partition)];
            var next = queue.Waiting.First;
            while (next is not null && next.Value.IsSealed && next.Value.Sequence < batch.Sequence)
                next = next.Next;
            if (next is null)
                queue.Waiting.AddLast(batch);
            else
                queue.Waiting.AddBefore(next, batch);
            queue.InFlight--;
        }
    }

    /// <summary>Takes every batch not in flight (closing without delivering them); they are marked in flight so nothing sends them.</summary>
    public List<ProducerBatch> TakeUnsent()
    {
        var taken = new List<ProducerBatch>();
        lock (_gate)
        {
            foreach (var queue in _queues.Values)
            {
                taken.AddRange(queue.Waiting);
                queue.Waiting.Clear();
                if (queue.Open is { } open)
                    taken.Add(open);
                queue.Open = null;
            }
        }
        return taken;
    }

    /// <summary>
    /// Transactions: takes the batches never sealed (open, or full and waiting for their first
    /// send), to fail them when the transaction aborts. Sealed batches stay: they were sent and
    /// their retries must finish, or the broker's sequence for the partition would have a gap
    /// (<paramref name="includeSealed"/>: take them too, after a fatal error).
    /// </summary>
    public List<ProducerBatch> TakeUnsealed(bool includeSealed = false)
    {
        var taken = new List<ProducerBatch>();
        lock (_gate)
        {
            foreach (var queue in _queues.Values)
            {
                for (var node = queue.Waiting.First; node is not null;)
                {
                    var next = node.Next;
                    if (includeSealed || !node.Value.IsSealed)
                    {
                        taken.Add(node.Value);
                        queue.Waiting.Remove(node);
                        queue.InFlight++; // Complete takes it back off, as for a batch that was sent
                    }
                    node = next;
                }
                if (queue.Open is { } open)
                {
                    taken.Add(open);
                    queue.Open = null;
                    queue.InFlight++;
                }
            }
        }
        return taken;
    }

    /// <summary>
    /// After an epoch bump (KIP-360) every partition's sequence starts at 0 again. Called with
    /// nothing in flight: the bump happens only once an aborted transaction's batches completed.
    /// </summary>
    public void ResetSequences()
    {
        lock (_gate)
        {
            foreach (var queue in _queues.Values)
                queue.NextSequence = 0;
        }
    }

    /// <summary>Completes when every record appended so far is delivered or failed.</summary>
    public Task AllDone
    {
        get
        {
            lock (_gate)
                return Unfinished == 0 ? Task.CompletedTask : _allDone.Task;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a == Timeout.InfiniteTimeSpan ? b : b == Timeout.InfiniteTimeSpan ? a : a < b ? a : b;

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }
}
