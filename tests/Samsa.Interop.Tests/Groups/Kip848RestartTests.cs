using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol.Messages;

namespace Samsa.Interop.Tests.Groups;

/// <summary>
/// A KIP-848 group of Confluent.Kafka consumers across a broker restart: the group comes back from
/// __consumer_offsets with its epoch, members and assignments, so the members carry on where they
/// were, nobody's partitions move and the group sees no new epoch.
/// </summary>
public sealed class Kip848RestartTests
{
    [Fact]
    public async Task A_consumer_group_and_its_assignments_survive_a_broker_restart()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            ConsumerGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ConsumerGroupHeartbeatInterval = TimeSpan.FromSeconds(1),
        });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "restart", NumPartitions = 4, ReplicationFactor = 1 }]);
        using var a = new ConfluentMember(broker.Bootstrap, "survivors", "restart", "consumer");
        using var b = new ConfluentMember(broker.Bootstrap, "survivors", "restart", "consumer");
        await Eventually.True(() => a.Assigned.Count == 2 && b.Assigned.Count == 2, "the members split the partitions 2/2");
        var (beforeA, beforeB) = (a.Assigned, b.Assigned);
        int revocations = a.RevokeCount + b.RevokeCount;
        int epoch = await StableEpochAsync(broker.Bootstrap);
        Assert.True(epoch > 0);

        await broker.RestartAsync();
        // The members must reach the restarted broker and heartbeat at their epochs, accepted.
        await Eventually.True(() => StableEpochAsync(broker.Bootstrap).Result == epoch, "the restored group is stable at its old epoch", seconds: 30);
        // A few heartbeat intervals later nothing has moved either.
        var settled = DateTime.UtcNow.AddSeconds(3);
        await Eventually.True(() => DateTime.UtcNow > settled, "three heartbeat intervals passed");
        Assert.Equal(epoch, await StableEpochAsync(broker.Bootstrap));
        Assert.Equal(beforeA, a.Assigned);
        Assert.Equal(beforeB, b.Assigned);
        Assert.Equal(revocations, a.RevokeCount + b.RevokeCount);
    }

    /// <summary>The group epoch when both members are in and at it (ConsumerGroupDescribe, which Confluent's admin does not expose epochs of), else -1.</summary>
    private static async Task<int> StableEpochAsync(string bootstrap)
    {
        try
        {
            using var connection = await RawConnection.ConnectAsync(bootstrap);
            var response = await connection.SendAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeRequest { GroupIds = ["survivors"] }, 1);
            var group = response.Groups.Single();
            return group.ErrorCode == Samsa.Protocol.ErrorCode.None && group.Members.Count == 2 && group.Members.All(m => m.MemberEpoch == group.GroupEpoch)
                ? group.GroupEpoch
                : -1;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return -1;
        }
    }
}
