using Samsa.Protocol;

namespace Samsa.Client.Errors;

/// <summary>A transient failure (leader moved, coordinator loading, connection lost): trying again can succeed.</summary>
public class RetriableKafkaException : KafkaException
{
    public RetriableKafkaException(ErrorCode error, string message, Exception? innerException = null)
        : base(error, message, innerException) { }

    public RetriableKafkaException() : this(ErrorCode.NetworkException, "Transient Kafka failure.") { }

    public RetriableKafkaException(string message) : this(ErrorCode.NetworkException, message) { }

    public RetriableKafkaException(string message, Exception innerException)
        : this(ErrorCode.NetworkException, message, innerException) { }

    public override bool IsRetriable => true;
}

/// <summary>No answer within request.timeout.ms (or the operation's deadline); Kafka closes the connection in that case.</summary>
public sealed class KafkaTimeoutException : RetriableKafkaException
{
    public KafkaTimeoutException(string message, Exception? innerException = null)
        : base(ErrorCode.RequestTimedOut, message, innerException) { }

    public KafkaTimeoutException() : this("The request timed out; raise request.timeout.ms if the broker is slow.") { }

    public KafkaTimeoutException(string message) : this(message, null) { }
}
