using Samsa.Protocol;

namespace Samsa.Client;

/// <summary>An error from a Kafka broker or from talking to one. <see cref="IsRetriable"/> says whether trying again can help.</summary>
public class KafkaException : Exception
{
    public KafkaException()
    {
    }

    public KafkaException(string message)
        : base(message)
    {
    }

    public KafkaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KafkaException(ErrorCode error, string message)
        : base(message) => Error = error;

    public ErrorCode Error { get; }

    public virtual bool IsRetriable => Error.IsRetriable();
}

/// <summary>The connection to a broker failed or was closed; the request may be retried on a new one.</summary>
public sealed class KafkaConnectionException(string message, Exception? inner = null)
    : KafkaException(message, inner ?? new IOException(message))
{
    public override bool IsRetriable => true;
}
