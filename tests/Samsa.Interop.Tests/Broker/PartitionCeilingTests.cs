using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// A fuzzed num_partitions once made the broker create ~19,800 partition directories, run out of
/// file descriptors and die the same way at every restart. Kafka's per-request cap and our
/// max.partitions refuse such requests whole, as librdkafka's admin client sees them.
/// </summary>
public sealed class PartitionCeilingTests
{
    [Fact]
    public async Task A_huge_partition_count_is_refused_with_policy_violation_and_creates_nothing()
    {
        await using var broker = await TempBroker.StartAsync(o => o with { MaxPartitions = 500 });
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();

        var perRequest = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "huge", NumPartitions = 10_001, ReplicationFactor = 1 }, new TopicSpecification { Name = "small", NumPartitions = 1 }]));
        Assert.All(perRequest.Results, r => Assert.Equal(ErrorCode.PolicyViolation, r.Error.Code));

        var ceiling = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "big", NumPartitions = 600, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.PolicyViolation, ceiling.Results.Single().Error.Code);
        Assert.Contains("max.partitions", ceiling.Results.Single().Error.Reason, StringComparison.Ordinal);

        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(metadata.Topics, t => t.Topic is "huge" or "small" or "big");
        Assert.Empty(Directory.GetDirectories(broker.Directory, "huge-*").Concat(Directory.GetDirectories(broker.Directory, "big-*")));
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "fits", NumPartitions = 10, ReplicationFactor = 1 }]);

        // CreatePartitions has Kafka's cap too, whole request, with KRaft's message.
        var grow = await Assert.ThrowsAsync<CreatePartitionsException>(() =>
            admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "fits", IncreaseTo = 10_020 }]));
        Assert.Equal(ErrorCode.PolicyViolation, grow.Results.Single().Error.Code);
        Assert.Equal("Unable to perform excessively large batch operation.", grow.Results.Single().Error.Reason);
    }
}
