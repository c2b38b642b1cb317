namespace Samsa.Broker.Transactions;

/// <summary>
/// Producer ids for idempotent and transactional producers alike. A single node has no controller
/// handing out id blocks (Kafka's AllocateProducerIds), so ids count up from the start-up clock
/// shifted left (ids of earlier runs are below it unless the clock went back) and, after loading
/// __transaction_state, from above every id a transactional id holds or held.
/// </summary>
internal sealed class ProducerIdAllocator(long seed)
{
    private long _last = seed;

    public ProducerIdAllocator(TimeProvider time)
        : this(time.GetUtcNow().ToUnixTimeMilliseconds() << 8)
    {
    }

    public long Next() => Interlocked.Increment(ref _last);

    /// <summary>Makes every later id larger than <paramref name="used"/>.</summary>
    public void Reserve(long used)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _last);
            if (used <= current)
                return;
        }
        while (Interlocked.CompareExchange(ref _last, used, current) != current);
    }
}
