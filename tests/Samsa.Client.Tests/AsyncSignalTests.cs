using Microsoft.Extensions.Time.Testing;
using Samsa.Client.Internal;

namespace Samsa.Client.Tests;

public class AsyncSignalTests
{
    [Fact]
    public async Task An_infinite_wait_lasts_until_the_signal()
    {
        var time = new FakeTimeProvider();
        var signal = new AsyncSignal();
        var wait = signal.WaitAsync(Timeout.InfiniteTimeSpan, time, CancellationToken.None);
        time.Advance(TimeSpan.FromDays(1));
        Assert.False(wait.IsCompleted); // a loop with nothing to do must sleep, not spin
        signal.Set();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_timed_wait_ends_at_its_deadline_and_a_past_deadline_at_once()
    {
        var time = new FakeTimeProvider();
        var signal = new AsyncSignal();
        Assert.False(await signal.WaitAsync(TimeSpan.Zero, time, CancellationToken.None));
        var wait = signal.WaitAsync(TimeSpan.FromSeconds(5), time, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_signal_before_the_wait_is_kept_for_it_once()
    {
        var time = new FakeTimeProvider();
        var signal = new AsyncSignal();
        signal.Set();
        Assert.True(await signal.WaitAsync(Timeout.InfiniteTimeSpan, time, CancellationToken.None));
        Assert.False(signal.WaitAsync(Timeout.InfiniteTimeSpan, time, CancellationToken.None).IsCompleted);
    }
}
