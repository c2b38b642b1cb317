using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Samsa.Client;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;

namespace Samsa.Extensions.Hosting;

/// <summary>
/// A hosted consumer loop (registered by <c>AddKafkaConsumerWorker</c>): subscribe, poll, hand each record
/// to the handler, commit what was handled after each poll (at least once), and on host stop commit
/// and leave the group so that its partitions move at once instead of after the session timeout.
/// </summary>
public sealed partial class KafkaConsumerWorker<TKey, TValue> : BackgroundService
{
    private readonly IServiceProvider _services;
    private readonly KafkaConsumerWorkerOptions _options;
    private readonly Type _handlerType;
    private readonly Func<IKafkaConsumer<TKey, TValue>> _createConsumer;
    private readonly ILogger _logger;
    private readonly Dictionary<TopicPartition, TopicPartitionOffset> _handled = [];
    private long _handledTotal;

    internal KafkaConsumerWorker(IServiceProvider services, KafkaConsumerWorkerOptions options, Type handlerType, Func<IKafkaConsumer<TKey, TValue>> createConsumer, ILogger logger)
    {
        _services = services;
        _options = options;
        _handlerType = handlerType;
        _createConsumer = createConsumer;
        _logger = logger;
    }

    /// <summary>Records handled (or skipped, or dead-lettered) since start, committed or about to be.</summary>
    public long HandledCount => Interlocked.Read(ref _handledTotal);

    /// <summary>The group membership of the worker's consumer while it runs (null before it joined and after it stopped).</summary>
    public ConsumerGroupMetadata? GroupMetadata { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Yield first: the host starts hosted services one after another, and polling must not hold it up.
        await Task.Yield();
        var consumer = _createConsumer();
        try
        {
            consumer.Subscribe(_options.Topics);
            while (!stoppingToken.IsCancellationRequested)
            {
                IReadOnlyList<ConsumeResult<TKey, TValue>> records;
                try
                {
                    records = await consumer.PollAsync(_options.PollTimeout, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                GroupMetadata = consumer.GroupMetadata;
                if (records.Count == 0)
                    continue;
                if (!await HandleAsync(records, stoppingToken).ConfigureAwait(false))
                    break;
                await CommitHandledAsync(consumer, stoppingToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ShutDownAsync(consumer).ConfigureAwait(false);
        }
    }

    /// <summary>False when the host is stopping mid-poll; throws for <see cref="KafkaErrorAction.Stop"/>.</summary>
    private async Task<bool> HandleAsync(IReadOnlyList<ConsumeResult<TKey, TValue>> records, CancellationToken stoppingToken)
    {
        var scope = _services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = (IKafkaRecordHandler<TKey, TValue>)scope.ServiceProvider.GetRequiredService(_handlerType);
            foreach (var record in records)
            {
                try
                {
                    await HandleOneAsync(handler, record, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return false;
                }
                _handled[record.TopicPartition] = record.NextOffset;
                Interlocked.Increment(ref _handledTotal);
            }
        }
        return true;
    }

    private async Task HandleOneAsync(IKafkaRecordHandler<TKey, TValue> handler, ConsumeResult<TKey, TValue> record, CancellationToken stoppingToken)
    {
        var policy = _options.ErrorPolicy;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await handler.HandleAsync(record, stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (attempt < policy.Retries)
                {
                    LogRetry(record.ToString(), attempt + 1, policy.Retries, e);
                    await Task.Delay(policy.RetryBackoff, stoppingToken).ConfigureAwait(false);
                    continue;
                }
                switch (policy.Action)
                {
                    case KafkaErrorAction.Skip:
                        LogSkipped(record.ToString(), e);
                        return;
                    case KafkaErrorAction.DeadLetter:
                        await DeadLetterAsync(record, e, stoppingToken).ConfigureAwait(false);
                        return;
                    default:
                        throw new KafkaConsumerWorkerException($"The handler failed on {record} after {policy.Retries} retries; the worker stops (ErrorPolicy.Action = Stop). Records handled before it are committed.", e);
                }
            }
        }
    }

    private async Task DeadLetterAsync(ConsumeResult<TKey, TValue> record, Exception error, CancellationToken stoppingToken)
    {
        string topic = _options.ErrorPolicy.DeadLetterTopic!;
        var producer = _services.GetRequiredService<IKafkaProducer<TKey, TValue>>();
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        var headers = new List<Header>(record.Headers)
        {
            new(KafkaErrorPolicy.Headers.OriginalTopic, Utf8(record.Topic)),
            new(KafkaErrorPolicy.Headers.OriginalPartition, Utf8(record.Partition.ToString(CultureInfo.InvariantCulture))),
            new(KafkaErrorPolicy.Headers.OriginalOffset, Utf8(record.Offset.ToString(CultureInfo.InvariantCulture))),
            new(KafkaErrorPolicy.Headers.ExceptionType, Utf8(error.GetType().FullName ?? error.GetType().Name)),
            new(KafkaErrorPolicy.Headers.ExceptionMessage, Utf8(error.Message)),
        };
        if (GroupMetadata?.GroupId is { } group)
            headers.Add(new(KafkaErrorPolicy.Headers.OriginalGroup, Utf8(group)));
        var result = await producer.ProduceAsync(topic, new Message<TKey, TValue>(record.Key, record.Value) { Headers = headers, Timestamp = record.Timestamp }, stoppingToken).ConfigureAwait(false);
        LogDeadLettered(record.ToString(), $"{result.Topic}-{result.Partition}@{result.Offset}", error);
    }

    private async Task CommitHandledAsync(IKafkaConsumer<TKey, TValue> consumer, CancellationToken cancellationToken)
    {
        if (_handled.Count == 0)
            return;
        await consumer.CommitSyncAsync(_handled.Values.ToList(), cancellationToken).ConfigureAwait(false);
        _handled.Clear();
    }

    private async Task ShutDownAsync(IKafkaConsumer<TKey, TValue> consumer)
    {
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout);
        try
        {
            await CommitHandledAsync(consumer, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            LogFinalCommitFailed(e);
        }
        try
        {
            // Leaves the group (LeaveGroup or a leaving heartbeat), so the partitions move now.
            await consumer.CloseAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            LogCloseFailed(e);
        }
        finally
        {
            GroupMetadata = null;
            await consumer.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handler failed on {Record} (attempt {Attempt} of {Retries} retries); retrying")]
    private partial void LogRetry(string record, int attempt, int retries, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handler failed on {Record}; skipped (ErrorPolicy.Action = Skip)")]
    private partial void LogSkipped(string record, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handler failed on {Record}; dead-lettered to {DeadLetter}")]
    private partial void LogDeadLettered(string record, string deadLetter, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The final commit on shutdown failed; the records handled since the last commit will be read again")]
    private partial void LogFinalCommitFailed(Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the consumer on shutdown failed; its partitions move after the session timeout")]
    private partial void LogCloseFailed(Exception error);
}

/// <summary>A <see cref="KafkaConsumerWorker{TKey, TValue}"/> stopped because its handler failed and the error policy says stop.</summary>
public sealed class KafkaConsumerWorkerException(string message, Exception innerException) : Exception(message, innerException);
