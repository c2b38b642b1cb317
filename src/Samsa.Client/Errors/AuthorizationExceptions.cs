using Samsa.Protocol;

namespace Samsa.Client.Errors;

/// <summary>TOPIC_AUTHORIZATION_FAILED: the principal may not use the topic.</summary>
public sealed class TopicAuthorizationException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public TopicAuthorizationException(string message, Exception? innerException = null)
        : base(ErrorCode.TopicAuthorizationFailed, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public TopicAuthorizationException() : this("Not authorized to access the topic.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public TopicAuthorizationException(string message) : this(message, null) { }
}

/// <summary>GROUP_AUTHORIZATION_FAILED: the principal may not use the group.</summary>
public sealed class GroupAuthorizationException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public GroupAuthorizationException(string message, Exception? innerException = null)
        : base(ErrorCode.GroupAuthorizationFailed, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public GroupAuthorizationException() : this("Not authorized to access the group.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public GroupAuthorizationException(string message) : this(message, null) { }
}

/// <summary>The broker and this client share no version of an API the client needs.</summary>
public sealed class UnsupportedVersionException : KafkaException
{
    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    public UnsupportedVersionException(string message, Exception? innerException = null)
        : base(ErrorCode.UnsupportedVersion, message, innerException) { }

    /// <summary>The error with a default message.</summary>
    public UnsupportedVersionException() : this("The broker supports no version of this API that the client knows.") { }

    /// <summary>The error with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public UnsupportedVersionException(string message) : this(message, null) { }
}
