namespace Samsa.Broker.Handlers;

/// <summary>
/// Wakes fetches waiting for data (fetch.min.bytes / fetch.max.wait.ms). Every append completes the
/// current signal and installs a new one; a waiting fetch re-reads its partitions when woken.
/// </summary>
internal sealed class AppendNotifier
{
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task NextAppend => Volatile.Read(ref _signal).Task;

    public void Appended()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _signal, next).TrySetResult();
    }
}
