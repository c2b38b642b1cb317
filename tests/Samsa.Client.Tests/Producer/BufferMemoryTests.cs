using Samsa.Client.Internal.Producer;
using Samsa.Client.Producer;

namespace Samsa.Client.Tests.Producer;

/// <summary>
/// buffer.memory's accounting takes no lock while there is room; these check that the lock-free
/// path and the waiting path together never lose a grant (a waiter left waiting with memory free)
/// and never hand out more than there is.
/// </summary>
public class BufferMemoryTests
{
    [Fact]
    public async Task Reservations_racing_releases_all_complete_and_the_books_balance()
    {
        var accumulator = new RecordAccumulator(new ProducerOptions { BufferMemory = 1_000, MaxBlock = TimeSpan.FromSeconds(30) }, TimeProvider.System);
        long held = 0, most = 0;
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (int i = 0; i < 20_000; i++)
            {
                int bytes = random.Next(1, 400);
                await accumulator.ReserveAsync(bytes, CancellationToken.None);
                long now = Interlocked.Add(ref held, bytes);
                long seen = Volatile.Read(ref most);
                while (now > seen && Interlocked.CompareExchange(ref most, now, seen) != seen)
                    seen = Volatile.Read(ref most);
                Interlocked.Add(ref held, -bytes);
                accumulator.Free(bytes);
            }
        })).ToArray();
        // A lost grant leaves a worker waiting until max.block.ms (30 s) and then throws; the run itself takes well under a second.
        await Task.WhenAll(workers);
        Assert.Equal(1_000, accumulator.FreeMemory);
        Assert.True(Volatile.Read(ref most) <= 1_000, $"{most} bytes were reserved at once out of 1,000");
    }

    [Fact]
    public async Task A_waiter_is_served_in_arrival_order_once_memory_is_freed()
    {
        var accumulator = new RecordAccumulator(new ProducerOptions { BufferMemory = 100, MaxBlock = TimeSpan.FromSeconds(30) }, TimeProvider.System);
        await accumulator.ReserveAsync(100, CancellationToken.None);
        var first = accumulator.ReserveAsync(60, CancellationToken.None).AsTask();
        var second = accumulator.ReserveAsync(30, CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        accumulator.Free(50); // not enough for the first: the second, though it would fit, waits its turn
        Assert.Equal(50, accumulator.FreeMemory); // grants are taken inside Free: nothing was handed out
        // Nobody waits for the grant to land: the waiters complete on the thread pool, so wait for that.
        accumulator.Free(50);
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(10, accumulator.FreeMemory);
    }
}
