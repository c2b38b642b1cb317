using Samsa.Protocol.Messages;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>Request bytes captured from real clients and kept in tests/golden (see its README).</summary>
public class GoldenFileTests
{
    private static byte[] Golden(string path) =>
        File.ReadAllBytes(Path.Combine(MessageGeneratorPaths.Root, "tests", "golden", path));

    [Fact]
    public void Kafka_python_DescribeCluster_v2_decodes()
    {
        var request = Assert.IsType<DescribeClusterRequest>(KafkaFrame.ReadRequest(Golden("kafka-python-master/DescribeCluster-v2-request.bin"), out var header));
        Assert.Equal((short)ApiKey.DescribeCluster, header.RequestApiKey);
        Assert.Equal(2, header.RequestApiVersion);
        Assert.StartsWith("kafka-python", header.ClientId, StringComparison.Ordinal);
        // Its admin client asks for authorized operations and fenced brokers, for broker endpoints.
        Assert.True(request.IncludeClusterAuthorizedOperations);
        Assert.Equal(1, request.EndpointType);
        Assert.True(request.IncludeFencedBrokers);
    }
}
