using Samsa.Interop.Tests.Client;

namespace Samsa.Interop.Tests.Cli;

/// <summary><c>samsa groups</c> on a share group (see <see cref="ShareGroupScene"/> for the state it is in).</summary>
public class ShareGroupsCliTests
{
    [Fact]
    public async Task Groups_list_shows_the_share_type_and_describe_shows_members_assignments_start_offset_and_lag()
    {
        await using var scene = await ShareGroupScene.StartAsync();
        string[] b = ["--bootstrap-server", scene.Bootstrap];

        var list = await CliTests.Samsa("", ["groups", "list", .. b]);
        Assert.True(list.Exit == 0, list.Err);
        Assert.Matches(@"workers\s+share\s+Stable\s+share", list.Out);
        var onlyShare = await CliTests.Samsa("", ["groups", "list", "--type", "share", "--output", "json", .. b]);
        Assert.Contains("\"type\": \"share\"", onlyShare.Out, StringComparison.Ordinal);
        var noShare = await CliTests.Samsa("", ["groups", "list", "--type", "consumer", .. b]);
        Assert.DoesNotContain("workers", noShare.Out, StringComparison.Ordinal);

        var described = await CliTests.Samsa("", ["groups", "describe", "workers", .. b]);
        File.WriteAllText("/tmp/share-describe.txt", described.Out + list.Out);
        Assert.True(described.Exit == 0, described.Err);
        Assert.Matches(@"Group workers: share group, Stable, assignor simple, group epoch \d+, assignment epoch \d+, 2 member\(s\)", described.Out);
        Assert.Matches(@"MEMBER\s+CLIENT\s+HOST\s+EPOCH\s+SUBSCRIBED\s+PARTITIONS", described.Out);
        Assert.Matches(@"\S+\s+holder\s+\S+\s+\d+\s+jobs\s+jobs-0", described.Out);
        Assert.Matches(@"\S+\s+idle\s+\S+\s+\d+\s+jobs\s+jobs-0", described.Out);
        Assert.Matches(@"TOPIC\s+PARTITION\s+START-OFFSET\s+LOG-END\s+LAG\s+DONE-AHEAD\s+MEMBERS", described.Out);
        // Offsets 0-2 and 5 accepted: the start offset is 3, six records are not done, one is done ahead, two members share it.
        Assert.Matches(@"(?m)^\s*jobs\s+0\s+3\s+10\s+6\s+1\s+2\s*$", described.Out);

        var json = await CliTests.Samsa("", ["groups", "describe", "workers", "--output", "json", .. b]);
        Assert.True(json.Exit == 0, json.Err);
        Assert.Contains("\"type\": \"share\"", json.Out, StringComparison.Ordinal);
        Assert.Contains("\"startOffset\": 3", json.Out, StringComparison.Ordinal);
        Assert.Contains("\"lag\": 6", json.Out, StringComparison.Ordinal);

        var missing = await CliTests.Samsa("", ["groups", "describe", "nobody", .. b]);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("No such group", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_offsets_and_delete_work_on_a_stopped_share_group()
    {
        await using var scene = await ShareGroupScene.StartAsync();
        await using var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = scene.Bootstrap });
        string[] b = ["--bootstrap-server", scene.Bootstrap];

        var busy = await CliTests.Samsa("", ["groups", "reset-offsets", "workers", "--to-offset", "8", "--execute", .. b]);
        Assert.Equal(1, busy.Exit);
        Assert.Contains("stop its consumers", busy.Err, StringComparison.Ordinal);
        await scene.StopMembersAsync(admin);

        var dry = await CliTests.Samsa("", ["groups", "reset-offsets", "workers", "--to-offset", "8", .. b]);
        Assert.True(dry.Exit == 0, dry.Err);
        Assert.Matches(@"(?m)^\s*jobs\s+0\s+8\s*$", dry.Out);
        Assert.Contains("Dry run", dry.Out, StringComparison.Ordinal);
        Assert.Equal(3, (await admin.ListShareGroupOffsetsAsync("workers")).Single().StartOffset);

        var reset = await CliTests.Samsa("", ["groups", "reset-offsets", "workers", "--to-offset", "8", "--execute", .. b]);
        Assert.True(reset.Exit == 0, reset.Err);
        Assert.Contains("Offsets reset.", reset.Out, StringComparison.Ordinal);
        Assert.Equal(8, (await admin.ListShareGroupOffsetsAsync("workers")).Single().StartOffset);

        var deleted = await CliTests.Samsa("", ["groups", "delete", "workers", .. b]);
        Assert.True(deleted.Exit == 0, deleted.Err);
        Assert.Empty(await admin.ListGroupsAsync(null, [Samsa.Client.Admin.GroupType.Share]));
        var gone = await CliTests.Samsa("", ["groups", "describe", "workers", .. b]);
        Assert.Equal(1, gone.Exit);
    }
}
