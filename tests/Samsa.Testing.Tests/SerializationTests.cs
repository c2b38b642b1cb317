using System.Text;
using System.Text.Json.Serialization;
using Samsa.Client;
using Samsa.Client.Producer;
using Samsa.Client.Serialization;
using Samsa.Testing.XunitV3;

namespace Samsa.Testing.Tests;

public sealed record Shipment(string Id, int Parcels);

[JsonSerializable(typeof(Shipment))]
internal sealed partial class ShipmentJson : JsonSerializerContext;

/// <summary>Serializers through a real broker: JSON both ways, and the context a schema-registry serializer needs.</summary>
public class SerializationTests(SamsaBrokerFixture fixture) : IClassFixture<SamsaBrokerFixture>
{
    [Fact]
    public async Task Json_values_and_tombstones_round_trip_through_the_broker()
    {
        var ct = TestContext.Current.CancellationToken;
        string topic = SamsaBrokerFixture.UniqueName("shipments");
        var json = Serializers.Json(ShipmentJson.Default.Shipment);

        await fixture.Broker.ProduceAsync<string, Shipment?>(topic, [new("a", new Shipment("s-1", 3)), new("a", null), new("b", new Shipment("s-2", 1))], valueSerializer: json, cancellationToken: ct);
        var read = await fixture.Broker.ReadAsync<string, Shipment?>(topic, 3, valueDeserializer: json, cancellationToken: ct);

        Assert.Equal([new Shipment("s-1", 3), null, new Shipment("s-2", 1)], read.Select(r => r.Value));
    }

    [Fact]
    public async Task Serializers_see_the_topic_the_side_and_the_headers_of_each_record()
    {
        var ct = TestContext.Current.CancellationToken;
        string topic = SamsaBrokerFixture.UniqueName("schemas");
        var written = new RecordingSerde();
        var read = new RecordingSerde();

        await fixture.Broker.ProduceAsync<string?, string?>(topic,
            [new("k1", "v1") { Headers = [new Header("schema-id", [0, 0, 0, 7])] }, new("k2", "v2")],
            keySerializer: written, valueSerializer: written, cancellationToken: ct);
        var records = await fixture.Broker.ReadAsync<string?, string?>(topic, 2, keyDeserializer: read, valueDeserializer: read, cancellationToken: ct);

        Assert.Equal(["k1", "k2"], records.Select(r => r.Key));
        Assert.Equal(["v1", "v2"], records.Select(r => r.Value));
        foreach (var seen in new[] { written.Seen, read.Seen })
        {
            Assert.Equal([(topic, true, "7"), (topic, false, "7"), (topic, true, "-"), (topic, false, "-")], seen);
        }
    }

    /// <summary>Writes and reads UTF-8, noting each call's context; a header's last byte stands for a schema id.</summary>
    private sealed class RecordingSerde : ISerializer<string?>, IDeserializer<string?>
    {
        public List<(string Topic, bool IsKey, string SchemaId)> Seen { get; } = [];

        public byte[]? Serialize(string? data, SerializationContext context)
        {
            Note(context);
            return data is null ? null : Encoding.UTF8.GetBytes(data);
        }

        public string? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
        {
            Note(context);
            return isNull ? null : Encoding.UTF8.GetString(data);
        }

        private void Note(SerializationContext context) =>
            Seen.Add((context.Topic, context.IsKey, context.Headers?.FirstOrDefault(h => h.Key == "schema-id") is { Value: { } id } ? id[^1].ToString(System.Globalization.CultureInfo.InvariantCulture) : "-"));
    }
}
