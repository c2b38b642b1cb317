using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

public class RoundTripTests
{
    public static IEnumerable<object[]> Cases() => MessageCatalog.AllTypeVersions();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_version_of_every_message_survives_encode_decode_encode(string typeName, short version)
    {
        var type = MessageCatalog.ByName(typeName);
        for (int seed = 0; seed < 20; seed++)
        {
            var message = (IMessage)new MessageFiller(seed * 7919 + version).Fill(type);
            byte[] first = MessageCatalog.Encode(message, version);
            var (decoded, unread) = MessageCatalog.Decode(type, first, version);
            Assert.Equal(0, unread);
            byte[] second = MessageCatalog.Encode(decoded, version);
            Assert.Equal(first, second);
        }
    }

    [Fact]
    public void Catalog_holds_every_schema()
    {
        string schemas = MessageGeneratorPaths.SchemaDirectory;
        int files = Directory.GetFiles(schemas, "*.json").Length;
        Assert.Equal(files, MessageCatalog.MessageTypes.Count);
    }

    [Fact]
    public void A_version_outside_the_schema_is_a_protocol_error()
    {
        var type = typeof(JoinGroupRequest);
        Assert.Throws<ProtocolException>(() => MessageCatalog.Decode(type, new byte[64], (short)(JoinGroupRequest.HighestVersion + 1)));
        Assert.Throws<ProtocolException>(() => MessageCatalog.Decode(type, new byte[64], -1));
    }

    [Fact]
    public void Unknown_tagged_fields_survive_a_round_trip()
    {
        var message = new HeartbeatRequest
        {
            GroupId = "g",
            GenerationId = 3,
            MemberId = "m",
            UnknownTaggedFields = [new RawTaggedField(7, [1, 2, 3])],
        };
        byte[] bytes = MessageCatalog.Encode(message, 4);
        var (decoded, _) = MessageCatalog.Decode(typeof(HeartbeatRequest), bytes, 4);
        var field = Assert.Single(((HeartbeatRequest)decoded).UnknownTaggedFields!);
        Assert.Equal(7, field.Tag);
        Assert.Equal(new byte[] { 1, 2, 3 }, field.Data);
    }
}
