using Samsa.Broker.Groups;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Groups;

/// <summary>Kafka's group configs: validation with Kafka's messages, persistence, and the coordinator obeying them per group.</summary>
public sealed class GroupConfigsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-group-configs").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private GroupConfigs Open() => new(new BrokerOptions { DataDirectory = _dir }, persistent: true);

    [Fact]
    public void Overrides_are_validated_as_kafka_does_and_kept_across_a_restart()
    {
        var configs = Open();
        Assert.Equal("Unknown group config name: session.timeout.ms", configs.Set("g", [("session.timeout.ms", "50000")], false, false));
        Assert.Equal("consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms",
            configs.Set("g", [(GroupConfigs.ConsumerSessionTimeoutKey, "1000")], false, false));
        Assert.Equal("share.record.lock.duration.ms must be less than or equal to group.share.max.record.lock.duration.ms",
            configs.Set("g", [(GroupConfigs.ShareRecordLockDurationKey, "600000")], false, false));
        Assert.Contains("Not a number", configs.Set("g", [(GroupConfigs.ConsumerHeartbeatIntervalKey, "soon")], false, false), StringComparison.Ordinal);
        Assert.Contains("share.isolation.level", configs.Set("g", [(GroupConfigs.ShareIsolationLevelKey, "serializable")], false, false), StringComparison.Ordinal);
        // A group needs no members (or existence) to have configs.
        Assert.Null(configs.Set("g", [(GroupConfigs.ConsumerSessionTimeoutKey, "50000"), (GroupConfigs.ShareAutoOffsetResetKey, "earliest")], false, false));
        Assert.Null(configs.Set("validate-only", [(GroupConfigs.ConsumerSessionTimeoutKey, "50000")], false, validateOnly: true));

        var reopened = Open();
        Assert.Equal(TimeSpan.FromSeconds(50), reopened.ConsumerSessionTimeout("g"));
        Assert.Equal("earliest", reopened.ShareAutoOffsetReset("g"));
        Assert.Equal(new BrokerOptions().ConsumerGroupSessionTimeout, reopened.ConsumerSessionTimeout("validate-only"));
        var described = reopened.Describe("g").ToDictionary(c => c.Name);
        Assert.Equal(GroupConfigs.Names.Count, described.Count);
        Assert.Equal(("50000", true), (described[GroupConfigs.ConsumerSessionTimeoutKey].Value, described[GroupConfigs.ConsumerSessionTimeoutKey].IsOverride));
        Assert.Equal(("5000", false), (described[GroupConfigs.ConsumerHeartbeatIntervalKey].Value, described[GroupConfigs.ConsumerHeartbeatIntervalKey].IsOverride));

        // AlterConfigs replaces the whole set; a deleted group's configs go with it.
        Assert.Null(reopened.Set("g", [(GroupConfigs.ConsumerHeartbeatIntervalKey, "6000")], replaceAll: true, false));
        Assert.Equal(new BrokerOptions().ConsumerGroupSessionTimeout, reopened.ConsumerSessionTimeout("g"));
        Assert.Equal(TimeSpan.FromSeconds(6), reopened.ConsumerHeartbeatInterval("g"));
        reopened.Remove("g");
        Assert.Equal(new BrokerOptions().ConsumerGroupHeartbeatInterval, Open().ConsumerHeartbeatInterval("g"));
    }

    [Fact]
    public void The_session_must_outlast_the_heartbeat_interval_counting_the_brokers_defaults()
    {
        Assert.Null(Open().Set("g", [(GroupConfigs.ConsumerSessionTimeoutKey, "45000"), (GroupConfigs.ConsumerHeartbeatIntervalKey, "15000")], false, false));
        // With a wider heartbeat bound the interval alone can reach the broker's 45 s session: refused.
        var broker = new BrokerOptions { DataDirectory = _dir, ConsumerGroupMaxHeartbeatInterval = TimeSpan.FromMinutes(2) };
        var wide = new GroupConfigs(broker, persistent: false);
        Assert.Equal("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms",
            wide.Set("g", [(GroupConfigs.ConsumerHeartbeatIntervalKey, "50000")], false, false));
    }

    [Fact]
    public void A_groups_session_timeout_and_heartbeat_interval_override_the_brokers_for_that_group_only()
    {
        var h = new ConsumerGroupHarness(new GroupCoordinatorOptions
        {
            OffsetsTopicPartitions = 3,
            ConsumerSessionTimeout = TimeSpan.FromSeconds(10),
            ConsumerHeartbeatInterval = TimeSpan.FromSeconds(1),
        });
        h.Topics.Add("t", 2);
        Assert.Null(h.Coordinator.Configs.Set("patient", [(GroupConfigs.ConsumerSessionTimeoutKey, "50000"), (GroupConfigs.ConsumerHeartbeatIntervalKey, "6000")], false, false));

        var patient = h.NewMember("patient", "p", ["t"]);
        var hasty = h.NewMember("hasty", "h", ["t"]);
        var joined = patient.Beat();
        Assert.Equal(6000, joined.HeartbeatIntervalMs);
        Assert.Equal(1000, hasty.Beat().HeartbeatIntervalMs);

        // Both go silent past the broker's 10 s: only the group without an override loses its member.
        h.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(ErrorCode.UnknownMemberId, hasty.Beat().ErrorCode);
        Assert.Single(h.View("patient")!.Members);
        h.Time.Advance(TimeSpan.FromSeconds(40));
        Assert.Empty(h.View("patient")!.Members);
    }
}
