using Samsa.Client.Errors;
using Samsa.Protocol;

namespace Samsa.Client;

/// <summary>
/// A Kafka operation failed. <see cref="Error"/> is the broker's error code (or the closest code for
/// client-side failures) so callers can branch on it; <see cref="IsRetriable"/> says whether trying
/// again later can succeed.
/// </summary>
public class KafkaException : Exception
{
    /// <summary>A failure with the broker's error code (or the closest one for a client-side failure).</summary>
    /// <param name="error">The error code.</param>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public KafkaException(ErrorCode error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    /// <summary>A failure with UNKNOWN_SERVER_ERROR and a default message.</summary>
    public KafkaException() : this(ErrorCode.UnknownServerError, "Kafka operation failed.") { }

    /// <summary>A failure with UNKNOWN_SERVER_ERROR.</summary>
    /// <param name="message">What failed and what to do.</param>
    public KafkaException(string message) : this(ErrorCode.UnknownServerError, message) { }

    /// <summary>A failure with UNKNOWN_SERVER_ERROR and its cause.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public KafkaException(string message, Exception innerException)
        : this(ErrorCode.UnknownServerError, message, innerException) { }

    /// <summary>Kafka's error code for the failure.</summary>
    public ErrorCode Error { get; }

    /// <summary>True when trying again later can succeed (Kafka's retriable errors).</summary>
    public virtual bool IsRetriable => Error.IsRetriable();

    /// <summary>Maps a broker error code to the most specific exception type, with a message saying what to do.</summary>
    public static KafkaException FromError(ErrorCode error, string? context = null)
    {
        var where = context is null ? "" : $" ({context})";
        return error switch
        {
            ErrorCode.TopicAuthorizationFailed => new TopicAuthorizationException(
                $"Not authorized to access the topic{where}: grant this principal Describe/Read on it."),
            ErrorCode.GroupAuthorizationFailed => new GroupAuthorizationException(
                $"Not authorized to access the group{where}: grant this principal Read on the group."),
            ErrorCode.TopicAlreadyExists => new TopicExistsException($"The topic already exists{where}: pick another name, or delete it first."),
            ErrorCode.UnknownTopicOrPartition => new UnknownTopicException($"No such topic or partition{where}: check the name, or create it."),
            ErrorCode.InvalidPartitions => new InvalidPartitionsException($"Invalid partition count{where}: a topic needs at least one partition and can only grow."),
            ErrorCode.NonEmptyGroup => new GroupNotEmptyException($"The group still has members{where}: stop its consumers first (Kafka only changes an empty group)."),
            ErrorCode.GroupIdNotFound => new GroupNotFoundException($"No such group{where}."),
            ErrorCode.ProducerFenced => new ProducerFencedException(
                $"The producer was fenced{where}: another producer with the same transactional.id started; close this one."),
            ErrorCode.InvalidProducerEpoch => new InvalidProducerEpochException(
                $"The producer's epoch is no longer current{where}: abort the transaction (which bumps the epoch)."),
            ErrorCode.TransactionalIdAuthorizationFailed => new TransactionalIdAuthorizationException(
                $"Not authorized to use the transactional id{where}: grant this principal Write on it."),
            ErrorCode.SecurityDisabled => new KafkaException(error,
                $"The broker has no authorizer{where}: set authorizer.class.name on the broker to use ACLs."),
            ErrorCode.ClusterAuthorizationFailed => new KafkaException(error,
                $"Not authorized on the cluster{where}: this needs a super user or an ACL on the cluster resource."),
            ErrorCode.RequestTimedOut => new KafkaTimeoutException(
                $"The broker timed the request out{where}; it will be retried, or raise request.timeout.ms."),
            _ when error.IsRetriable() => new RetriableKafkaException(error,
                $"{error}{where}: transient; the client retries with retry.backoff.ms until the operation deadline."),
            _ => new KafkaException(error, $"{error}{where}."),
        };
    }
}

/// <summary>The connection to a broker failed or was closed; the request may be retried on a new one.</summary>
/// <param name="message">What failed.</param>
/// <param name="inner">The I/O error, if any.</param>
public sealed class KafkaConnectionException(string message, Exception? inner = null)
    : KafkaException(ErrorCode.NetworkException, message, inner ?? new IOException(message))
{
    /// <inheritdoc />
    public override bool IsRetriable => true;
}
