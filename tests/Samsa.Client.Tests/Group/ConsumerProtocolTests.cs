using Samsa.Client.Internal.Group;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Client.Tests.Group;

public class ConsumerProtocolTests
{
    [Fact]
    public void Subscriptions_carry_topics_owned_partitions_generation_and_rack()
    {
        byte[] bytes = ConsumerProtocol.EncodeSubscription(["b", "a"], [("a", 2), ("a", 0), ("b", 1)], 5, "rack-1", [9]);
        Assert.Equal(new byte[] { 0, 3 }, bytes[..2]);
        var s = ConsumerProtocol.DecodeSubscription(bytes);
        Assert.Equal(["a", "b"], s.Topics);
        Assert.Equal([0, 2], s.OwnedPartitions.Single(t => t.Topic == "a").Partitions);
        Assert.Equal((5, "rack-1"), (s.GenerationId, s.RackId));
        Assert.Equal(new byte[] { 9 }, s.UserData);
    }

    [Fact]
    public void Empty_assignment_bytes_mean_no_partitions()
    {
        var (partitions, userData) = ConsumerProtocol.DecodeAssignment(ReadOnlyMemory<byte>.Empty);
        Assert.Empty(partitions);
        Assert.Null(userData);
    }

    [Fact]
    public void A_newer_subscription_version_is_read_with_our_newest_layout()
    {
        // v4 from a future client: our v3 fields, then a field we do not know.
        var body = new ConsumerProtocolSubscription { Topics = ["t"], GenerationId = 2 };
        using var buffer = new PooledBufferWriter();
        var writer = new ProtocolWriter(buffer);
        writer.WriteInt16(4);
        body.Write(ref writer, 3);
        writer.WriteInt32(12345);
        var s = ConsumerProtocol.DecodeSubscription(buffer.WrittenSpan.ToArray());
        Assert.Equal(["t"], s.Topics);
        Assert.Equal(2, s.GenerationId);
    }

    [Fact]
    public void Version_zero_subscriptions_from_old_clients_decode()
    {
        byte[] v0 = VersionedData.Write(new ConsumerProtocolSubscription { Topics = ["x"], UserData = null }, 0);
        var s = ConsumerProtocol.DecodeSubscription(v0);
        Assert.Equal(["x"], s.Topics);
        Assert.Empty(s.OwnedPartitions);
        Assert.Equal(-1, s.GenerationId);
    }

    [Fact]
    public void Garbage_is_a_protocol_error()
    {
        Assert.Throws<ProtocolException>(() => ConsumerProtocol.DecodeAssignment(new byte[] { 0 }));
        Assert.Throws<ProtocolException>(() => ConsumerProtocol.DecodeAssignment(new byte[] { 0, 1, 0x7F, 0xFF, 0xFF, 0xFF }));
    }
}
