using Samsa.Interop.Tests.Client;

namespace Samsa.Interop.Tests.Cli;

/// <summary><c>samsa consume --share-group</c> against librdkafka's mock cluster, which serves share groups.</summary>
public class ShareConsumeCliTests
{
    [Fact]
    public async Task Consume_as_a_share_group_member_releasing_then_accepting()
    {
        await using var target = new MockClusterShareTarget();
        await target.CreateTopicAsync("jobs", 1);
        await SamsaConsumerTests.Produce(target.Bootstrap, "jobs", 3);
        string[] b = ["--bootstrap-server", target.Bootstrap];

        var released = await CliTests.Samsa("", ["consume", "jobs", "--share-group", "workers", "--ack", "release", "--max-messages", "1", "--format", "{value} {deliverycount}", .. b]);
        Assert.True(released.Exit == 0, released.Err);
        Assert.Equal(["m0 1"], Lines(released.Out));

        var accepted = await CliTests.Samsa("", ["consume", "jobs", "--share-group", "workers", "--max-messages", "3", "--format", "{value} {deliverycount}", .. b]);
        Assert.True(accepted.Exit == 0, accepted.Err);
        Assert.Equal(["m0 2", "m1 1", "m2 1"], Lines(accepted.Out).Order());

        var nothing = await CliTests.Samsa("", ["consume", "jobs", "--share-group", "workers", "--timeout-ms", "1500", .. b]);
        Assert.Equal(0, nothing.Exit);
        Assert.Empty(Lines(nothing.Out));
        Assert.Contains("Processed 0 record(s).", nothing.Err, StringComparison.Ordinal);

        var wrong = await CliTests.Samsa("", ["consume", "jobs", "--share-group", "workers", "--group", "g", .. b]);
        Assert.NotEqual(0, wrong.Exit);
        var badAck = await CliTests.Samsa("", ["consume", "jobs", "--ack", "reject", .. b]);
        Assert.NotEqual(0, badAck.Exit);
    }

    private static List<string> Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
