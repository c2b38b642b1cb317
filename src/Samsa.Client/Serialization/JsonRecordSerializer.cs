using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Samsa.Client.Serialization;

/// <summary>
/// Keys or values as UTF-8 JSON through System.Text.Json, both ways: pass it as the producer's serializer and
/// the consumer's deserializer. A null value is written as a null record value (a tombstone), and a null
/// record reads back as <c>default</c>. Bytes that are not JSON of <typeparamref name="T"/> fail the read
/// with the consumer's deserialization error (the record's offset is named, so it can be skipped).
/// </summary>
/// <remarks>
/// Built from a <see cref="JsonTypeInfo{T}"/> (a <c>JsonSerializerContext</c>'s source-generated metadata)
/// it is trim- and AOT-safe: see <see cref="Serializers.Json{T}(JsonTypeInfo{T})"/>.
/// </remarks>
/// <typeparam name="T">The type of the key or value.</typeparam>
public sealed class JsonRecordSerializer<T> : ISerializer<T?>, IDeserializer<T?>
{
    private readonly JsonTypeInfo<T> _typeInfo;

    /// <summary>A serializer that writes and reads <typeparamref name="T"/> with <paramref name="typeInfo"/>, e.g. <c>AppJsonContext.Default.Order</c>.</summary>
    /// <param name="typeInfo">The metadata for <typeparamref name="T"/>, usually source-generated.</param>
    public JsonRecordSerializer(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        _typeInfo = typeInfo;
    }

    /// <summary>The metadata this serializer writes and reads with.</summary>
    public JsonTypeInfo<T> TypeInfo => _typeInfo;

    /// <inheritdoc />
    public byte[]? Serialize(T? data, SerializationContext context) =>
        data is null ? null : System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(data, _typeInfo);

    /// <inheritdoc />
    public T? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) =>
        isNull ? default : System.Text.Json.JsonSerializer.Deserialize(data, _typeInfo);
}

/// <summary>JSON factories beside the built-in formats.</summary>
public static partial class Serializers
{
    /// <summary>
    /// A JSON serializer (and deserializer) from source-generated metadata: trim- and AOT-safe.
    /// <code>
    /// [JsonSerializable(typeof(Order))]
    /// internal sealed partial class AppJsonContext : JsonSerializerContext;
    ///
    /// var orders = Serializers.Json(AppJsonContext.Default.Order);
    /// new KafkaProducer&lt;string, Order?&gt;(options, valueSerializer: orders);
    /// </code>
    /// </summary>
    /// <param name="typeInfo">The metadata for <typeparamref name="T"/>.</param>
    /// <typeparam name="T">The type of the key or value.</typeparam>
    public static JsonRecordSerializer<T> Json<T>(JsonTypeInfo<T> typeInfo) => new(typeInfo);

    /// <summary>
    /// A JSON serializer (and deserializer) from options, resolving <typeparamref name="T"/>'s metadata by
    /// reflection when the options carry no source-generated resolver. Prefer
    /// <see cref="Json{T}(JsonTypeInfo{T})"/> in trimmed or native AOT applications.
    /// </summary>
    /// <param name="options">The serializer options; null means System.Text.Json's defaults.</param>
    /// <typeparam name="T">The type of the key or value.</typeparam>
    [RequiresUnreferencedCode("JSON serialization by reflection may need members that trimming removes; use the JsonTypeInfo<T> overload.")]
    [RequiresDynamicCode("JSON serialization by reflection may need code generated at run time; use the JsonTypeInfo<T> overload.")]
    public static JsonRecordSerializer<T> Json<T>(JsonSerializerOptions? options = null)
    {
        options = options is null ? new JsonSerializerOptions(JsonSerializerDefaults.General) : new JsonSerializerOptions(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return new((JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
    }
}

/// <summary>JSON factories beside the built-in formats.</summary>
public static partial class Deserializers
{
    /// <summary>The consumer's side of <see cref="Serializers.Json{T}(JsonTypeInfo{T})"/>: trim- and AOT-safe.</summary>
    /// <param name="typeInfo">The metadata for <typeparamref name="T"/>.</param>
    /// <typeparam name="T">The type of the key or value.</typeparam>
    public static JsonRecordSerializer<T> Json<T>(JsonTypeInfo<T> typeInfo) => new(typeInfo);

    /// <summary>The consumer's side of <see cref="Serializers.Json{T}(JsonSerializerOptions?)"/> (reflection; prefer the <see cref="JsonTypeInfo{T}"/> overload).</summary>
    /// <param name="options">The serializer options; null means System.Text.Json's defaults.</param>
    /// <typeparam name="T">The type of the key or value.</typeparam>
    [RequiresUnreferencedCode("JSON serialization by reflection may need members that trimming removes; use the JsonTypeInfo<T> overload.")]
    [RequiresDynamicCode("JSON serialization by reflection may need code generated at run time; use the JsonTypeInfo<T> overload.")]
    public static JsonRecordSerializer<T> Json<T>(JsonSerializerOptions? options = null) => Serializers.Json<T>(options);
}
