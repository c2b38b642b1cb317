using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Messages;

/// <summary>A generated message: writes itself in a given version.</summary>
public interface IMessage
{
    void Write(ref ProtocolWriter writer, short version);
}

/// <summary>A generated message type with its versions and reader.</summary>
public interface IMessage<TSelf> : IMessage
    where TSelf : IMessage<TSelf>
{
    static abstract short LowestVersion { get; }

    static abstract short HighestVersion { get; }

    static abstract TSelf Read(ref ProtocolReader reader, short version);
}

/// <summary>A request or response body of a Kafka API.</summary>
public interface IApiMessage : IMessage
{
    ApiKey ApiKey { get; }
}

/// <summary>A request or response type, with its api key known statically.</summary>
public interface IApiMessage<TSelf> : IMessage<TSelf>, IApiMessage
    where TSelf : IApiMessage<TSelf>
{
    static abstract ApiKey Api { get; }
}

public interface IRequest : IApiMessage;

public interface IResponse : IApiMessage;

/// <summary>A tagged field this version of Samsa does not know, kept so it survives a re-encode.</summary>
public readonly record struct RawTaggedField(int Tag, byte[] Data);
