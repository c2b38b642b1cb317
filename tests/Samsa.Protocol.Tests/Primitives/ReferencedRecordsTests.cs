using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Tests.Primitives;

/// <summary>
/// A response frame whose large record sets are held by reference must go out byte for byte as the
/// same frame encoded by copying, in every fetch version, flexible and not.
/// </summary>
public sealed class ReferencedRecordsTests
{
    private static FetchResponse Response(params byte[][] recordSets)
    {
        var topic = new FetchResponse.FetchableTopicResponse { Topic = "t", TopicId = Guid.NewGuid() };
        for (int i = 0; i < recordSets.Length; i++)
        {
            topic.Partitions.Add(new FetchResponse.PartitionData
            {
                PartitionIndex = i,
                HighWatermark = 100 + i,
                Records = recordSets[i],
                AbortedTransactions = null,
            });
        }
        var response = new FetchResponse();
        response.Responses.Add(topic);
        return response;
    }

    private static byte[] Bytes(int length, byte seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
            bytes[i] = (byte)(seed + i * 7);
        return bytes;
    }

    [Theory]
    [InlineData(4)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(17)]
    public void Referenced_record_sets_send_the_same_bytes_as_copied_ones(short version)
    {
        // Large, small (copied even by the referencing writer), empty and large again.
        var response = Response(Bytes(10_000, 1), Bytes(100, 2), [], Bytes(5_000, 3));
        using var copied = new PooledBufferWriter();
        KafkaFrame.WriteResponse(copied, response, version, correlationId: 7);
        using var referencing = new PooledBufferWriter { ReferenceThreshold = 4096 };
        KafkaFrame.WriteResponse(referencing, response, version, correlationId: 7);

        Assert.Equal(15_000, referencing.ReferencedBytes);
        Assert.Throws<InvalidOperationException>(() => referencing.WrittenMemory);
        var segments = new List<ArraySegment<byte>>();
        referencing.GetSegments(segments);
        Assert.Equal(copied.WrittenSpan.ToArray(), segments.SelectMany(s => s).ToArray());

        // And it decodes: the size prefix counts the referenced bytes.
        var frame = segments.SelectMany(s => s).ToArray();
        var decoded = KafkaFrame.ReadResponse<FetchResponse>(frame.AsMemory(4), version, out int correlationId);
        Assert.Equal(7, correlationId);
        Assert.Equal(Bytes(10_000, 1), decoded.Responses[0].Partitions[0].Records!.Value.ToArray());
        Assert.Equal(Bytes(5_000, 3), decoded.Responses[0].Partitions[3].Records!.Value.ToArray());
    }

    [Fact]
    public void Clear_forgets_references()
    {
        using var writer = new PooledBufferWriter { ReferenceThreshold = 1 };
        KafkaFrame.WriteResponse(writer, Response(Bytes(10, 1)), 11, 1);
        Assert.Equal(10, writer.ReferencedBytes);
        writer.Clear();
        Assert.Equal(0, writer.ReferencedBytes);
        Assert.Equal(0, writer.WrittenMemory.Length);
    }
}
