using System.Buffers.Binary;
using System.Text;

namespace Samsa.Client.Serialization;

/// <summary>Where the bytes came from, for deserializers that care (schema registries, per-topic formats).</summary>
public readonly record struct SerializationContext(string Topic, bool IsKey);

/// <summary>Turns a record's key or value bytes into a value. <paramref name="isNull"/> is true for a null key or value (a tombstone).</summary>
public interface IDeserializer<out T>
{
    T Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context);
}

/// <summary>Turns a value into a record's key or value bytes; null writes a null key or value.</summary>
public interface ISerializer<in T>
{
    byte[]? Serialize(T data, SerializationContext context);
}

/// <summary>Kafka's built-in formats: UTF-8 strings, raw bytes, and big-endian integers as Java's serializers write them.</summary>
public static class Deserializers
{
    public static readonly IDeserializer<string?> Utf8 = new Utf8Deserializer();

    public static readonly IDeserializer<byte[]?> ByteArray = new ByteArrayDeserializer();

    /// <summary>Skips the bytes entirely: for keys or values the application does not read.</summary>
    public static readonly IDeserializer<Ignore?> Ignore = new IgnoreDeserializer();

    public static readonly IDeserializer<int> BigEndianInt = new Int32Deserializer();

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
public static class Serializers
{
    public static readonly ISerializer<string?> Utf8 = new Utf8Serializer();

    public static readonly ISerializer<byte[]?> ByteArray = new ByteArraySerializer();

    public static readonly ISerializer<int> BigEndianInt = new Int32Serializer();

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
