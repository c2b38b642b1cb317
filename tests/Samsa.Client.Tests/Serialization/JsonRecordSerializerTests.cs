using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Samsa.Client.Serialization;

namespace Samsa.Client.Tests.Serialization;

public sealed record JsonOrder(int Id, string Item, decimal Amount, IReadOnlyList<string> Tags);

[JsonSerializable(typeof(JsonOrder))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class TestJson : JsonSerializerContext;

public class JsonRecordSerializerTests
{
    private static readonly SerializationContext Value = new("orders", IsKey: false);

    [Fact]
    public void Source_generated_metadata_round_trips_and_writes_its_naming_policy()
    {
        var json = Serializers.Json(TestJson.Default.JsonOrder);
        var order = new JsonOrder(7, "käse", 12.5m, ["a", "b"]);

        var bytes = json.Serialize(order, Value)!;

        // System.Text.Json's default encoder escapes non-ASCII; it reads back the same.
        Assert.Equal("""{"id":7,"item":"k\u00E4se","amount":12.5,"tags":["a","b"]}""", Encoding.UTF8.GetString(bytes));
        var back = Deserializers.Json(TestJson.Default.JsonOrder).Deserialize(bytes, isNull: false, Value)!;
        Assert.Equal(order with { Tags = [] }, back with { Tags = [] });
        Assert.Equal(["a", "b"], back.Tags);
    }

    [Fact]
    public void Null_is_a_tombstone_both_ways()
    {
        var json = Serializers.Json(TestJson.Default.JsonOrder);
        Assert.Null(json.Serialize(null, Value));
        Assert.Null(json.Deserialize([], isNull: true, Value));
    }

    [Fact]
    public void Bytes_that_are_not_the_type_fail_the_read()
    {
        var json = Deserializers.Json(TestJson.Default.JsonOrder);
        Assert.ThrowsAny<JsonException>(() => json.Deserialize("not json"u8, isNull: false, Value));
        Assert.ThrowsAny<JsonException>(() => json.Deserialize("[1,2]"u8, isNull: false, Value));
        // Present but empty is not a tombstone: there is no JSON in it.
        Assert.ThrowsAny<JsonException>(() => json.Deserialize([], isNull: false, Value));
    }

    [Fact]
    public void The_options_overload_uses_reflection_with_the_given_options_and_leaves_them_writable()
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var json = Serializers.Json<ReflectedOrder>(options);

        var bytes = json.Serialize(new ReflectedOrder(3, "pen"), Value)!;

        Assert.Equal("""{"order_id":3,"item_name":"pen"}""", Encoding.UTF8.GetString(bytes));
        Assert.Equal(new ReflectedOrder(3, "pen"), Deserializers.Json<ReflectedOrder>(options).Deserialize(bytes, isNull: false, Value));
        Assert.False(options.IsReadOnly); // copied, so the caller can still change theirs
        Assert.Equal("""{"OrderId":1,"ItemName":"x"}""", Encoding.UTF8.GetString(Serializers.Json<ReflectedOrder>().Serialize(new ReflectedOrder(1, "x"), Value)!));
    }

    [Fact]
    public void Value_types_read_a_null_record_as_default()
    {
        var json = new JsonRecordSerializer<int>(TestIntJson.Default.Int32);
        Assert.Equal("42", Encoding.UTF8.GetString(json.Serialize(42, Value)!));
        Assert.Equal(0, json.Deserialize([], isNull: true, Value));
        Assert.Equal(42, json.Deserialize("42"u8, isNull: false, Value));
    }

    public sealed record ReflectedOrder(int OrderId, string ItemName);
}

[JsonSerializable(typeof(int))]
internal sealed partial class TestIntJson : JsonSerializerContext;
