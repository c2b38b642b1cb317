using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Confluent.Kafka;
using Microsoft.Playwright;
using Samsa.Interop.Tests.Groups;
using static Microsoft.Playwright.Assertions;

namespace Samsa.Interop.Tests.WebConsole;

/// <summary>
/// The console only reads: loading every page (in a browser, following its links) leaves groups,
/// offsets, topics and the offsets log as they were. Also: HTTP Basic when SASL is on, and /metrics.
/// </summary>
[Collection(nameof(ConsoleGroupPageTests))]
public sealed class ConsoleReadOnlyTests
{
    private const string Topic = "readonly-topic";
    private const string Group = "readonly-group";

    [Fact]
    public async Task Loading_every_page_changes_no_group_offset_topic_or_log()
    {
        await using var broker = await ConsoleGroupPageTests.StartBrokerAsync();
        string ui = broker.Broker.UiAddress!.ToString();
        await ConsoleGroupPageTests.CreateTopicWithRecordsAsync(broker.Bootstrap, Topic, 3, 30);
        // A classic group that read everything, committed and left: Empty, with offsets.
        using (var member = new ConfluentMember(broker.Bootstrap, Group, Topic, autoCommit: true, clientId: "reader"))
            await Eventually.True(() => member.Received.Count >= 30, "the member read every record");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build();
        await Eventually.True(() => Describe(admin).Result.StartsWith("Empty", StringComparison.Ordinal) && Committed(admin).Result == 30,
            "the group is empty with all 30 records committed");
        var before = await StateAsync(admin, broker);

        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        var visited = new List<string>();
        await page.GotoAsync(ui);
        foreach (string href in await Links(page, "#topics a, #groups a"))
        {
            await page.GotoAsync(new Uri(new Uri(ui), href).ToString());
            visited.Add(href);
            if (href.StartsWith("/groups/", StringComparison.Ordinal))
                await Expect(page.Locator("#live[data-updates]")).ToHaveCountAsync(1); // the event stream delivered
            foreach (string browse in await Links(page, "#partitions a"))
            {
                foreach (string format in new[] { "auto", "text", "json", "hex" })
                {
                    var response = await page.GotoAsync(new Uri(new Uri(ui), browse + "&format=" + format).ToString());
                    Assert.Equal(200, response!.Status);
                }
                visited.Add(browse);
            }
        }
        Assert.Contains($"/groups/{Group}", visited);
        Assert.Contains($"/topics/{Topic}", visited);
        Assert.Equal(404, (await page.GotoAsync(ui + "topics/no-such-topic/messages?partition=0"))!.Status);
        Assert.Equal(404, (await page.GotoAsync(ui + "groups/no-such-group"))!.Status);

        using var http = new HttpClient { BaseAddress = new Uri(ui) };
        Assert.False((await http.PostAsync("/", new StringContent(""))).IsSuccessStatusCode, "the console serves no write verb");
        string metrics = await http.GetStringAsync("/metrics");
        File.WriteAllText(Path.Combine(Chromium.Screenshots, "metrics.txt"), metrics);
        foreach (string name in new[]
        {
            "samsa_broker_requests_total{", "api=\"Fetch\"", "error=\"NONE\"", "samsa_broker_network_received_bytes_total", "samsa_broker_network_sent_bytes_total",
            "samsa_broker_partitions", "samsa_broker_topics", "samsa_group_lag{", $"group=\"{Group}\"", "samsa_group_rebalances_total{", "samsa_group_rebalance_duration_seconds_bucket{",
        })
            Assert.Contains(name, metrics, StringComparison.Ordinal);

        Assert.Equal(before, await StateAsync(admin, broker));
        Assert.Equal("Empty", (await Describe(admin)).Split(' ')[0]);
    }

    [Fact]
    public async Task With_sasl_users_every_page_asks_for_basic_credentials()
    {
        await using var broker = await TempBroker.StartAsync(o => o with
        {
            UiListen = new IPEndPoint(IPAddress.Loopback, 0),
            SaslPlainUsers = new Dictionary<string, string> { ["alice"] = "s3cret" },
        });
        var ui = broker.Broker.UiAddress!;
        using var http = new HttpClient { BaseAddress = ui };
        async Task<HttpResponseMessage> Get(string path, string? user, string? password)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (user is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            return await http.SendAsync(request);
        }
        foreach (string path in new[] { "/", "/metrics", "/assets/console.css", "/groups/x/events" })
        {
            var anonymous = await Get(path, null, null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.StartsWith("Basic", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(path, "alice", "wrong")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(path, "mallory", "s3cret")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await Get("/", "alice", "s3cret")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Get("/metrics", "alice", "s3cret")).StatusCode);

        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(new HttpCredentials { Username = "alice", Password = "s3cret" });
        Assert.Equal(200, (await page.GotoAsync(ui.ToString()))!.Status);
        await Expect(page.Locator("#broker")).ToContainTextAsync("SASL_PLAINTEXT");
    }

    private static async Task<string[]> Links(IPage page, string selector) =>
        await page.Locator(selector).EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");

    private static async Task<string> Describe(IAdminClient admin)
    {
        var described = await admin.DescribeConsumerGroupsAsync([Group]);
        var g = described.ConsumerGroupDescriptions.Single();
        return $"{g.State} {g.PartitionAssignor} members={g.Members.Count}";
    }

    private static async Task<string> Offsets(IAdminClient admin)
    {
        var listed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(Group, null)]);
        return string.Join(",", listed.Single().Partitions.OrderBy(p => p.Partition.Value).Select(p => $"{p.TopicPartition}={p.Offset.Value}"));
    }

    private static async Task<long> Committed(IAdminClient admin)
    {
        var listed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(Group, null)]);
        return listed.Single().Partitions.Sum(p => Math.Max(0, p.Offset.Value));
    }

    /// <summary>The group, its offsets, the topics and their ends, and every byte of __consumer_offsets.</summary>
    private static async Task<string> StateAsync(IAdminClient admin, TempBroker broker)
    {
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        string topics = string.Join(",", metadata.Topics.Select(t => $"{t.Topic}/{t.Partitions.Count}").Order(StringComparer.Ordinal));
        long offsetsLog = Directory.GetDirectories(broker.Directory, "__consumer_offsets-*")
            .SelectMany(d => Directory.GetFiles(d, "*.log")).Sum(f => new FileInfo(f).Length);
        long records = Directory.GetDirectories(broker.Directory, Topic + "-*").SelectMany(d => Directory.GetFiles(d, "*.log")).Sum(f => new FileInfo(f).Length);
        return $"{await Describe(admin)} | {await Offsets(admin)} | {topics} | offsets log {offsetsLog} B | {Topic} {records} B";
    }
}
