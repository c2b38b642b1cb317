using System.Buffers.Binary;
using System.Text;

namespace Samsa.Client.Serialization;

/// <summary>
/// Where the bytes go or came from, for serializers that care: per-topic formats, and a schema registry's
/// serializer, which names its subject from the topic and whether this is the key (Kafka's
/// TopicNameStrategy) and may carry the schema id in a header.
/// </summary>
/// <param name="Topic">The record's topic.</param>
/// <param name="IsKey">True for the record's key, false for its value.</param>
public readonly record struct SerializationContext(string Topic, bool IsKey)
{
    /// <summary>The record's headers: the ones the producer sends with it, or the ones the consumer read; null or empty when there are none.</summary>
    public IReadOnlyList<Header>? Headers { get; init; }
}

/// <summary>Turns a record's key or value bytes into a value; a null key or value (a tombstone) is told apart from empty bytes.</summary>
/// <typeparam name="T">The type the bytes become.</typeparam>
public interface IDeserializer<out T>
{
    /// <summary>Reads one key or value. Throwing fails the read with the consumer's deserialization error, naming the record.</summary>
    /// <param name="data">The bytes; empty when <paramref name="isNull"/>.</param>
    /// <param name="isNull">True when the record has a null key or value.</param>
    /// <param name="context">The topic, key or value, and the record's headers.</param>
    /// <returns>The key or value.</returns>
    T Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context);
}

/// <summary>Turns a value into a record's key or value bytes; null writes a null key or value.</summary>
/// <typeparam name="T">The type written.</typeparam>
public interface ISerializer<in T>
{
    /// <summary>Writes one key or value. Throwing fails the produce call with an InvalidRecord error.</summary>
    /// <param name="data">The key or value.</param>
    /// <param name="context">The topic, key or value, and the headers the record is sent with.</param>
    /// <returns>The bytes, or null for a null key or value.</returns>
    byte[]? Serialize(T data, SerializationContext context);
}

/// <summary>Kafka's built-in formats: UTF-8 strings, raw bytes, and big-endian integers as Java's serializers write them.</summary>
public static partial class Deserializers
{
    /// <summary>UTF-8 text (Java's StringDeserializer); null stays null.</summary>
    public static readonly IDeserializer<string?> Utf8 = new Utf8Deserializer();

    /// <summary>The bytes as they are, copied; null stays null.</summary>
    public static readonly IDeserializer<byte[]?> ByteArray = new ByteArrayDeserializer();

    /// <summary>Skips the bytes entirely: for keys or values the application does not read.</summary>
    public static readonly IDeserializer<Ignore?> Ignore = new IgnoreDeserializer();

    /// <summary>A 4-byte big-endian int (Java's IntegerDeserializer); null reads as 0, another length fails.</summary>
    public static readonly IDeserializer<int> BigEndianInt = new Int32Deserializer();

    /// <summary>An 8-byte big-endian long (Java's LongDeserializer); null reads as 0, another length fails.</summary>
    public static readonly IDeserializer<long> BigEndianLong = new Int64Deserializer();

    /// <summary>The deserializer for a type when none was given: string, byte[], int, long or Ignore.</summary>
    internal static IDeserializer<T> Default<T>() => typeof(T) switch
    {
        var t when t == typeof(string) => (IDeserializer<T>)Utf8,
        var t when t == typeof(byte[]) => (IDeserializer<T>)ByteArray,
        var t when t == typeof(Ignore) => (IDeserializer<T>)Ignore,
        var t when t == typeof(int) => (IDeserializer<T>)BigEndianInt,
        var t when t == typeof(long) => (IDeserializer<T>)BigEndianLong,
        _ => throw new ArgumentException($"No default deserializer for {typeof(T).Name}; pass one (key.deserializer / value.deserializer)."),
    };

    private sealed class Utf8Deserializer : IDeserializer<string?>
    {
        public string? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => isNull ? null : Encoding.UTF8.GetString(data);
    }

    private sealed class ByteArrayDeserializer : IDeserializer<byte[]?>
    {
        public byte[]? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => isNull ? null : data.ToArray();
    }

    private sealed class IgnoreDeserializer : IDeserializer<Ignore?>
    {
        public Ignore? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => null;
    }

    private sealed class Int32Deserializer : IDeserializer<int>
    {
        public int Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) =>
            isNull ? 0 : data.Length == 4 ? BinaryPrimitives.ReadInt32BigEndian(data)
                : throw new FormatException($"An int {(context.IsKey ? "key" : "value")} in {context.Topic} must be 4 bytes, got {data.Length}.");
    }

    private sealed class Int64Deserializer : IDeserializer<long>
    {
        public long Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) =>
            isNull ? 0 : data.Length == 8 ? BinaryPrimitives.ReadInt64BigEndian(data)
                : throw new FormatException($"A long {(context.IsKey ? "key" : "value")} in {context.Topic} must be 8 bytes, got {data.Length}.");
    }
}

/// <summary>The type of a key or value the application does not read (never allocated).</summary>
public sealed class Ignore
{
    private Ignore()
    {
    }
}

/// <summary>The producer's side of <see cref="Deserializers"/>: the same formats, written.</summary>
public static partial class Serializers
{
    /// <summary>UTF-8 text (Java's StringSerializer); null writes null.</summary>
    public static readonly ISerializer<string?> Utf8 = new Utf8Serializer();

    /// <summary>The bytes as they are (not copied: do not change the array until the record is acknowledged); null writes null.</summary>
    public static readonly ISerializer<byte[]?> ByteArray = new ByteArraySerializer();

    /// <summary>A 4-byte big-endian int (Java's IntegerSerializer).</summary>
    public static readonly ISerializer<int> BigEndianInt = new Int32Serializer();

    /// <summary>An 8-byte big-endian long (Java's LongSerializer).</summary>
    public static readonly ISerializer<long> BigEndianLong = new Int64Serializer();

    /// <summary>Always writes null: for records without a key.</summary>
    public static readonly ISerializer<Null?> Null = new NullSerializer();

    internal static ISerializer<T> Default<T>() => typeof(T) switch
    {
        var t when t == typeof(string) => (ISerializer<T>)Utf8,
        var t when t == typeof(byte[]) => (ISerializer<T>)ByteArray,
        var t when t == typeof(Null) => (ISerializer<T>)Null,
        var t when t == typeof(int) => (ISerializer<T>)BigEndianInt,
        var t when t == typeof(long) => (ISerializer<T>)BigEndianLong,
        _ => throw new ArgumentException($"No default serializer for {typeof(T).Name}; pass one (key.serializer / value.serializer)."),
    };

    private sealed class Utf8Serializer : ISerializer<string?>
    {
        public byte[]? Serialize(string? data, SerializationContext context) => data is null ? null : Encoding.UTF8.GetBytes(data);
    }

    private sealed class ByteArraySerializer : ISerializer<byte[]?>
    {
        public byte[]? Serialize(byte[]? data, SerializationContext context) => data;
    }

    private sealed class Int32Serializer : ISerializer<int>
    {
        public byte[]? Serialize(int data, SerializationContext context)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(bytes, data);
            return bytes;
        }
    }

    private sealed class Int64Serializer : ISerializer<long>
    {
        public byte[]? Serialize(long data, SerializationContext context)
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(bytes, data);
            return bytes;
        }
    }

    private sealed class NullSerializer : ISerializer<Null?>
    {
        public byte[]? Serialize(Null? data, SerializationContext context) => null;
    }
}

/// <summary>The type of a key the producer never sets (always null on the wire).</summary>
public sealed class Null
{
    private Null()
    {
    }
}
