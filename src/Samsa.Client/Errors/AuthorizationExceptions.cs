using Samsa.Protocol;

namespace Samsa.Client.Errors;

public sealed class TopicAuthorizationException : KafkaException
{
    public TopicAuthorizationException(string message, Exception? innerException = null)
        : base(ErrorCode.TopicAuthorizationFailed, message, innerException) { }

    public TopicAuthorizationException() : this("Not authorized to access the topic.") { }

    public TopicAuthorizationException(string message) : this(message, null) { }
}

public sealed class GroupAuthorizationException : KafkaException
{
    public GroupAuthorizationException(string message, Exception? innerException = null)
        : base(ErrorCode.GroupAuthorizationFailed, message, innerException) { }

    public GroupAuthorizationException() : this("Not authorized to access the group.") { }

    public GroupAuthorizationException(string message) : this(message, null) { }
}

/// <summary>The broker and this client share no version of an API the client needs.</summary>
public sealed class UnsupportedVersionException : KafkaException
{
    public UnsupportedVersionException(string message, Exception? innerException = null)
        : base(ErrorCode.UnsupportedVersion, message, innerException) { }

    public UnsupportedVersionException() : this("The broker supports no version of this API that the client knows.") { }

    public UnsupportedVersionException(string message) : this(message, null) { }
}
