namespace Samsa.Broker.Transactions;

/// <summary>The transaction coordinator's settings (server.properties names in the comments).</summary>
internal sealed record TransactionCoordinatorOptions
{
    /// <summary>transaction.state.log.num.partitions (fixed once __transaction_state exists).</summary>
    public int Partitions { get; init; } = 50;

    /// <summary>transaction.max.timeout.ms: the largest transaction.timeout.ms a producer may ask for.</summary>
    public TimeSpan MaxTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>transactional.id.expiration.ms: an id with no transaction open this long is removed.</summary>
    public TimeSpan TransactionalIdExpiration { get; init; } = TimeSpan.FromDays(7);

    /// <summary>transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are looked for (and unfinished markers retried).</summary>
    public TimeSpan AbortCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>transaction.remove.expired.transaction.cleanup.interval.ms.</summary>
    public TimeSpan ExpirationCheckInterval { get; init; } = TimeSpan.FromHours(1);
}
