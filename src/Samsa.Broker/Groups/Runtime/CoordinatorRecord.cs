using Samsa.Protocol;

namespace Samsa.Broker.Groups.Runtime;

/// <summary>One __consumer_offsets record: a versioned key and value (null value = tombstone).</summary>
internal readonly record struct CoordinatorRecord(byte[] Key, byte[]? Value);

/// <summary>
/// What a coordinator operation decided, before anything changed: the records to append and the
/// response to give once they are applied (Kafka's CoordinatorResult). <see cref="Applied"/> runs
/// after the records were appended and replayed — it completes parked requests and arms timers, the
/// side effects that must not happen for a change that was never written.
/// </summary>
internal readonly struct CoordinatorResult<T>
{
    public CoordinatorResult(T response, IReadOnlyList<CoordinatorRecord>? records = null, Action? applied = null, Func<ErrorCode, T>? failed = null)
    {
        Response = response;
        Records = records ?? [];
        Applied = applied;
        Failed = failed;
    }

    public T Response { get; }

    public IReadOnlyList<CoordinatorRecord> Records { get; }

    public Action? Applied { get; }

    /// <summary>The answer when the append fails (nothing was applied); null uses the operation's error answer.</summary>
    public Func<ErrorCode, T>? Failed { get; }

    public static implicit operator CoordinatorResult<T>(T response) => new(response);
}

/// <summary>
/// Thrown by a coordinator operation to answer with a Kafka error, as Kafka's coordinator throws
/// ApiExceptions: nothing the operation computed is appended or applied.
/// </summary>
internal sealed class CoordinatorException(ErrorCode error, string? message = null) : Exception(message ?? error.ToString())
{
    public ErrorCode Error { get; } = error;

    public string? ErrorMessage { get; } = message;
}

/// <summary>An append to __consumer_offsets failed; nothing of it was applied.</summary>
internal sealed class CoordinatorAppendException(Exception inner) : Exception("Appending to __consumer_offsets failed: " + inner.Message, inner);
