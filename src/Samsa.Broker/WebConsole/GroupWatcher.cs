using System.Net;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Fetch;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.WebConsole.Timeline;

namespace Samsa.Broker.WebConsole;

/// <summary>
/// The console's one reader of the coordinator's <see cref="GroupEvents"/>: a background task that
/// feeds each change to the <see cref="RebalanceRecorder"/> and wakes
/// the group pages' event streams. Shards never wait for it (their channel drops the oldest change
/// when it lags, and every change carries whole views). Fetch threads reach the recorder through
/// <see cref="IFetchListener"/>; one lock serialises the three.
/// </summary>
internal sealed class GroupWatcher : IFetchListener, IAsyncDisposable
{
    private readonly RebalanceRecorder _recorder;
    private readonly Lock _lock = new();
    private readonly GroupEvents.Subscription _subscription;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private TaskCompletionSource _changed = NewSignal();
    private volatile bool _awaitingFetch;

    public GroupWatcher(GroupEvents events, TimeProvider time, int maxRebalances, ILogger logger)
    {
        _recorder = new RebalanceRecorder(time, maxRebalances);
        _logger = logger;
        _subscription = events.Subscribe();
        _loop = Task.Run(ReadAsync);
    }

    /// <summary>Completes at the next applied group change (any group); take it again after each wake-up.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    public bool Wants => _awaitingFetch;

    public TimelineSnapshot? Timeline(string groupId)
    {
        lock (_lock)
            return _recorder.Snapshot(groupId);
    }

    public void Fetched(string clientId, EndPoint? client, IReadOnlyList<FetchPartitionRequest> partitions)
    {
        // Members' hosts are recorded as Kafka writes them: "/" and the address.
        string host = client is IPEndPoint ip ? "/" + ip.Address : client?.ToString() ?? "";
        bool matched = false;
        lock (_lock)
        {
            foreach (var p in partitions)
                matched |= _recorder.Fetched(clientId, host, new PartitionKey(p.Key.Topic, p.Key.Partition));
            _awaitingFetch = _recorder.AwaitingFetch;
        }
        if (matched)
            Signal();
    }

    private async Task ReadAsync()
    {
        var reader = _subscription.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var change))
                    Apply(change);
                Signal();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // The console goes stale but the broker must not notice: log and stop watching.
            _logger.LogError(e, "The console's group watcher failed");
        }
    }

    private void Apply(GroupChange change)
    {
        lock (_lock)
        {
            _recorder.Apply(change);
            _awaitingFetch = _recorder.AwaitingFetch;
        }
    }

    /// <summary>Wakes every waiting stream at once; they coalesce whatever happened since they last looked.</summary>
    private void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    /// <summary>Also re-checks holders that never fetched, so the fetch path goes quiet again.</summary>
    public void Tick(DateTimeOffset now)
    {
        lock (_lock)
        {
            _recorder.ExpireAwaiting(now);
            _awaitingFetch = _recorder.AwaitingFetch;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _subscription.Dispose();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        Signal();
    }
}
