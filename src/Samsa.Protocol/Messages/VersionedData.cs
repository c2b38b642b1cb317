using System.Buffers.Binary;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Messages;

/// <summary>
/// Data messages framed Kafka's way: an int16 version, then the body. Used for the consumer
/// protocol's subscription and assignment bytes and for <c>__consumer_offsets</c> keys and values.
/// </summary>
public static class VersionedData
{
    public static byte[] Write<T>(T message, short version)
        where T : IMessage<T>
    {
        using var buffer = new PooledBufferWriter();
        var writer = new ProtocolWriter(buffer);
        writer.WriteInt16(version);
        message.Write(ref writer, version);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads a versioned body. A version newer than ours is read with our newest layout, since these
    /// formats only ever append fields (Kafka's consumer protocol relies on this); trailing bytes
    /// from such a newer version are ignored. Empty input yields null (members with no assignment
    /// are sent empty bytes).
    /// </summary>
    public static T? Read<T>(ReadOnlyMemory<byte> data, out short version)
        where T : class, IMessage<T>
    {
        version = -1;
        if (data.IsEmpty)
            return null;
        if (data.Length < 2)
            throw new ProtocolException($"{typeof(T).Name}: {data.Length} byte(s) is too short for a version.");
        version = BinaryPrimitives.ReadInt16BigEndian(data.Span);
        if (version < T.LowestVersion)
            throw new ProtocolException($"{typeof(T).Name} v{version} is not supported ({T.LowestVersion}-{T.HighestVersion}).");
        short readAs = Math.Min(version, T.HighestVersion);
        var reader = new ProtocolReader(data[2..]);
        return T.Read(ref reader, readAs);
    }
}
