using Samsa.Client.Consumer;

namespace Samsa.Extensions.Hosting;

/// <summary>Handles one record for a <see cref="KafkaConsumerWorker{TKey, TValue}"/>; resolved from a scope per poll.</summary>
public interface IKafkaRecordHandler<TKey, TValue>
{
    /// <summary>
    /// Processes the record. Returning marks it handled (its offset is committed after the poll's records);
    /// throwing applies the worker's <see cref="KafkaErrorPolicy"/>. <paramref name="cancellationToken"/>
    /// fires when the host stops: the record is then neither committed nor dead-lettered.
    /// </summary>
    ValueTask HandleAsync(ConsumeResult<TKey, TValue> record, CancellationToken cancellationToken);
}

/// <summary>What a worker does with a record whose handler still fails after the retries.</summary>
public enum KafkaErrorAction
{
    /// <summary>Commit what was handled before it, then stop the worker with the error (the host stops, by default). The record is read again on restart.</summary>
    Stop,

    /// <summary>Log it and go on: the record counts as handled.</summary>
    Skip,

    /// <summary>Produce it to <see cref="KafkaErrorPolicy.DeadLetterTopic"/> with headers saying where it came from and why, then go on.</summary>
    DeadLetter,
}

/// <summary>Retries, then an action, for records whose handler throws.</summary>
public sealed record KafkaErrorPolicy
{
    /// <summary>How many times to call the handler again after a failure (0: no retries).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>The wait before each retry.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>What to do once the retries are spent.</summary>
    public KafkaErrorAction Action { get; init; } = KafkaErrorAction.Stop;

    /// <summary>The dead-letter topic for <see cref="KafkaErrorAction.DeadLetter"/>; its producer is <c>AddKafkaProducer&lt;TKey, TValue&gt;</c>'s (registered for it when missing).</summary>
    public string? DeadLetterTopic { get; init; }

    /// <summary>Header names on a dead-lettered record (Spring Kafka's convention, without its prefix).</summary>
    public static class Headers
    {
        /// <summary>The topic the record was read from.</summary>
        public const string OriginalTopic = "dlt-original-topic";

        /// <summary>Its partition, as a decimal string.</summary>
        public const string OriginalPartition = "dlt-original-partition";

        /// <summary>Its offset, as a decimal string.</summary>
        public const string OriginalOffset = "dlt-original-offset";

        /// <summary>The consumer group that failed it.</summary>
        public const string OriginalGroup = "dlt-original-consumer-group";

        /// <summary>The exception's type name.</summary>
        public const string ExceptionType = "dlt-exception-fqcn";

        /// <summary>The exception's message.</summary>
        public const string ExceptionMessage = "dlt-exception-message";
    }
}

/// <summary>Settings of a <see cref="KafkaConsumerWorker{TKey, TValue}"/>.</summary>
public sealed class KafkaConsumerWorkerOptions
{
    /// <summary>The topics the worker's group subscribes to.</summary>
    public IList<string> Topics { get; } = new List<string>();

    /// <summary>What happens when the handler throws.</summary>
    public KafkaErrorPolicy ErrorPolicy { get; set; } = new();

    /// <summary>How long one poll waits for records before checking for shutdown.</summary>
    public TimeSpan PollTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most the final commit and leaving the group may take when the host stops.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
