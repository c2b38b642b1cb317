using Samsa.Protocol;

namespace Samsa.Client.Errors;

/// <summary>
/// PRODUCER_FENCED: another producer with the same transactional.id called InitTransactions, so
/// this one is a zombie. Fatal: every later transactional call throws it; close the producer.
/// </summary>
public sealed class ProducerFencedException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ProducerFencedException(string message, Exception? innerException = null)
        : base(ErrorCode.ProducerFenced, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public ProducerFencedException() : this("The producer was fenced by another producer with the same transactional id.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ProducerFencedException(string message) : this(message, null) { }
}

/// <summary>
/// INVALID_PRODUCER_EPOCH from a produce request (KIP-588): the records carried an older epoch
/// than the partition knows. Abortable: abort the transaction, which bumps the epoch. From the
/// transaction coordinator the same code means fenced and arrives as <see cref="ProducerFencedException"/>.
/// </summary>
public sealed class InvalidProducerEpochException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public InvalidProducerEpochException(string message, Exception? innerException = null)
        : base(ErrorCode.InvalidProducerEpoch, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public InvalidProducerEpochException() : this("The producer attempted to produce with an old epoch.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public InvalidProducerEpochException(string message) : this(message, null) { }
}

/// <summary>TRANSACTIONAL_ID_AUTHORIZATION_FAILED: the principal may not use the transactional.id. Fatal for the producer.</summary>
public sealed class TransactionalIdAuthorizationException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public TransactionalIdAuthorizationException(string message, Exception? innerException = null)
        : base(ErrorCode.TransactionalIdAuthorizationFailed, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public TransactionalIdAuthorizationException() : this("Not authorized to use the transactional id.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public TransactionalIdAuthorizationException(string message) : this(message, null) { }
}

/// <summary>
/// A record was not sent because its transaction was aborted before it left the producer (Java's
/// TransactionAbortedException): the delivery of every such record fails with this.
/// </summary>
public sealed class TransactionAbortedException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The error that made the transaction abort, if any.</param>
    public TransactionAbortedException(string message, Exception? innerException = null)
        : base(ErrorCode.UnknownServerError, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public TransactionAbortedException() : this("The record's transaction was aborted before it was sent.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed.</param>
    public TransactionAbortedException(string message) : this(message, null) { }
}
