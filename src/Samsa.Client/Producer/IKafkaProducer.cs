namespace Samsa.Client.Producer;

/// <summary>
/// The producer's surface (the Java client's <c>Producer</c>, Confluent.Kafka's <c>IProducer</c>), so that
/// applications can take it from dependency injection and mock it. <see cref="KafkaProducer{TKey, TValue}"/>
/// implements it and is safe for concurrent use: share one per application.
/// </summary>
public interface IKafkaProducer<TKey, TValue> : IDisposable, IAsyncDisposable
{
    /// <summary>The settings the producer was built with.</summary>
    ProducerOptions Options { get; }

    /// <summary>Sends a record and completes when the broker acknowledged it (per acks).</summary>
    Task<DeliveryResult> ProduceAsync(string topic, Message<TKey, TValue> message, CancellationToken cancellationToken = default);

    /// <summary>Fire and forget: returns once the record is batched; <paramref name="deliveryHandler"/> hears how it ended.</summary>
    void Produce(string topic, Message<TKey, TValue> message, Action<DeliveryReport>? deliveryHandler = null);

    /// <summary>Sends everything batched so far and waits until it is delivered or failed.</summary>
    void Flush(TimeSpan timeout);

    /// <inheritdoc cref="Flush"/>
    Task FlushAsync(CancellationToken cancellationToken = default);

    // Transactions (transactional.id). Defaults keep test doubles that predate them compiling.

    /// <summary>Registers transactional.id with its coordinator, fencing any older producer with the same id; once, first.</summary>
    ValueTask InitTransactionsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException("This producer does not support transactions.");

    /// <summary>Starts a transaction.</summary>
    void BeginTransaction() => throw new NotSupportedException("This producer does not support transactions.");

    /// <summary>Adds a consumer's offsets to the transaction: committed for the group only if the transaction commits.</summary>
    ValueTask SendOffsetsToTransactionAsync(IEnumerable<TopicPartitionOffset> offsets, Consumer.ConsumerGroupMetadata groupMetadata, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This producer does not support transactions.");

    /// <summary>Flushes and commits the transaction.</summary>
    ValueTask CommitTransactionAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException("This producer does not support transactions.");

    /// <summary>Aborts the transaction.</summary>
    ValueTask AbortTransactionAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException("This producer does not support transactions.");

    /// <inheritdoc cref="InitTransactionsAsync"/>
    void InitTransactions() => InitTransactionsAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="SendOffsetsToTransactionAsync"/>
    void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, Consumer.ConsumerGroupMetadata groupMetadata) =>
        SendOffsetsToTransactionAsync(offsets, groupMetadata).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="CommitTransactionAsync"/>
    void CommitTransaction() => CommitTransactionAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="AbortTransactionAsync"/>
    void AbortTransaction() => AbortTransactionAsync().AsTask().GetAwaiter().GetResult();
}
