using Samsa.Protocol;

namespace Samsa.Client.Errors;

/// <summary>A transient failure (leader moved, coordinator loading, connection lost): trying again can succeed.</summary>
public class RetriableKafkaException : KafkaException
{
    /// <summary>A transient failure with the broker's error code.</summary>
    /// <param name="error">The error code.</param>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause, if any.</param>
    public RetriableKafkaException(ErrorCode error, string message, Exception? innerException = null)
        : base(error, message, innerException) { }

    /// <summary>A transient failure with a default message.</summary>
    public RetriableKafkaException() : this(ErrorCode.NetworkException, "Transient Kafka failure.") { }

    /// <summary>A transient failure with a message.</summary>
    /// <param name="message">What failed.</param>
    public RetriableKafkaException(string message) : this(ErrorCode.NetworkException, message) { }

    /// <summary>A transient failure with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public RetriableKafkaException(string message, Exception innerException)
        : this(ErrorCode.NetworkException, message, innerException) { }

    /// <inheritdoc />
    public override bool IsRetriable => true;
}

/// <summary>No answer within request.timeout.ms (or the operation's deadline); Kafka closes the connection in that case.</summary>
public sealed class KafkaTimeoutException : RetriableKafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public KafkaTimeoutException(string message, Exception? innerException = null)
        : base(ErrorCode.RequestTimedOut, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public KafkaTimeoutException() : this("The request timed out; raise request.timeout.ms if the broker is slow.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public KafkaTimeoutException(string message) : this(message, null) { }
}
