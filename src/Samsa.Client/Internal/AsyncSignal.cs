namespace Samsa.Client.Internal;

/// <summary>
/// An auto-reset wake-up: <see cref="Set"/> from any thread lets one pending or the next
/// <see cref="WaitAsync"/> return at once. Used where a loop sleeps until "something changed or
/// the deadline came" — the poll loop waiting for fetched data, the group loop for its next
/// heartbeat.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Volatile.Read(ref _next).TrySetResult();

    /// <summary>True when signalled, false when the timeout passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _next);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
            return true;
        }
        // Infinite (-1 ms) means wait for a signal, not "already late": treating it as a past
        // deadline once made the producer's send loop spin on a core while it had nothing to send.
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            return false;
        try
        {
            await current.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        Interlocked.CompareExchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        return true;
    }
}
