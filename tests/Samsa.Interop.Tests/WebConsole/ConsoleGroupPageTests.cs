using System.Net;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Playwright;
using Samsa.Interop.Tests.Groups;
using static Microsoft.Playwright.Assertions;

namespace Samsa.Interop.Tests.WebConsole;

/// <summary>
/// The group page in a real browser against an in-process broker and librdkafka KIP-848 members:
/// the seed's picture with two members, a third joining while the page is open (the page changes
/// through its event stream, without a reload), and the timeline's gap for every moved partition.
/// Playwright's locators wait for the DOM; nothing sleeps.
/// </summary>
[Collection(nameof(ConsoleGroupPageTests))]
public sealed class ConsoleGroupPageTests
{
    private const string Topic = "console-orders";
    private const string Group = "console-group";
    private static readonly LocatorAssertionsToHaveCountOptions Patient = new() { Timeout = 45_000 };

    internal static Task<TempBroker> StartBrokerAsync(Func<Samsa.Broker.BrokerOptions, Samsa.Broker.BrokerOptions>? more = null) => TempBroker.StartAsync(o =>
    {
        // As the KIP-848 interop target: heartbeats every second so joins settle in seconds.
        o = o with
        {
            UiListen = new IPEndPoint(IPAddress.Loopback, 0),
            ConsumerGroupMinSessionTimeout = TimeSpan.FromSeconds(3),
            ConsumerGroupSessionTimeout = TimeSpan.FromSeconds(5),
            ConsumerGroupMinHeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ConsumerGroupHeartbeatInterval = TimeSpan.FromSeconds(1),
            GroupInitialRebalanceDelay = TimeSpan.Zero,
        };
        return more?.Invoke(o) ?? o;
    });

    internal static async Task CreateTopicWithRecordsAsync(string bootstrap, string topic, int partitions, int records)
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
        Produce(bootstrap, topic, records);
    }

    private static void Produce(string bootstrap, string topic, int records)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        for (int i = 0; i < records; i++)
        {
            var headers = new Headers { { "trace", System.Text.Encoding.UTF8.GetBytes($"t-{i}") } };
            producer.Produce(topic, new Message<string, string> { Key = $"order-{i}", Value = $"{{\"order\":{i},\"item\":\"책\",\"qty\":{i % 4}}}", Headers = headers });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Group_page_draws_members_owning_partitions_and_follows_a_join_without_reloading()
    {
        await using var broker = await StartBrokerAsync();
        string ui = broker.Broker.UiAddress!.ToString();
        await CreateTopicWithRecordsAsync(broker.Bootstrap, Topic, 6, 60);
        await using var chromium = await Chromium.LaunchAsync();

        using var a = new ConfluentMember(broker.Bootstrap, Group, Topic, protocol: GroupProtocol.Consumer, clientId: "member-a", autoCommit: true);
        using var b = new ConfluentMember(broker.Bootstrap, Group, Topic, protocol: GroupProtocol.Consumer, clientId: "member-b", autoCommit: true);
        await Eventually.True(() => a.Assigned.Count > 0 && b.Assigned.Count > 0 && Eventually.Partitioned([a.Assigned, b.Assigned], 6), "two members share the six partitions");

        var page = await chromium.NewPageAsync();
        await page.GotoAsync(ui + "groups/" + Group);
        var members = page.Locator("#picture .member");
        var owned = page.Locator("#picture .member .box.owned");
        await Expect(members).ToHaveCountAsync(2, Patient);
        await Expect(owned).ToHaveCountAsync(6, Patient);
        foreach (string client in new[] { "member-a", "member-b" })
            await Expect(Column(page, client).Locator(".box.owned")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator("#lag table")).ToContainTextAsync($"{Topic}-5");
        await Chromium.ShotAsync(page, "group-two-members");

        // Marks this document: a reload would lose it.
        await page.EvaluateAsync("() => { window.__samsaSameDocument = true; }");
        // member-c never commits, so records produced after it joined stay as lag on its partitions.
        using var c = new ConfluentMember(broker.Bootstrap, Group, Topic, protocol: GroupProtocol.Consumer, clientId: "member-c", autoCommit: false);
        await Expect(members).ToHaveCountAsync(3, Patient);
        var third = Column(page, "member-c");
        await Expect(third.Locator(".box.owned")).ToHaveCountAsync(2, Patient);
        await Expect(owned).ToHaveCountAsync(6, Patient);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__samsaSameDocument === true"), "the page reloaded");

        // The partitions the third member took moved from another member: each has a gap that ends
        // with member-c's assignment, then its first fetch.
        string thirdId = (await third.GetAttributeAsync("data-member"))!;
        var moved = await third.Locator(".box.owned").EvaluateAllAsync<string[]>("boxes => boxes.map(b => b.dataset.partition)");
        Assert.Equal(2, moved.Length);
        foreach (string partition in moved)
        {
            var gap = page.Locator($"svg.timeline .gap[data-partition='{partition}'][data-to='{thirdId}']");
            await Expect(gap).ToHaveCountAsync(1, Patient);
            await Expect(gap).ToHaveAttributeAsync("data-fetched", "true", new() { Timeout = 45_000 });
        }
        // Partitions that stayed put have no gap after the join: only the moved rows do.
        var gapsToThird = page.Locator($"svg.timeline .gap[data-to='{thirdId}']");
        await Expect(gapsToThird).ToHaveCountAsync(2);
        await Expect(page.Locator("svg.timeline .band")).Not.ToHaveCountAsync(0);

        Produce(broker.Bootstrap, Topic, 120);
        await Expect(page.Locator("#summary [data-total-lag]")).Not.ToHaveAttributeAsync("data-total-lag", "0", new() { Timeout = 30_000 });
        await Expect(page.Locator("#lagchart svg.lagchart")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Chromium.ShotAsync(page, "group-three-members");
        await page.Locator("svg.timeline").ScreenshotAsync(new() { Path = Path.Combine(Chromium.Screenshots, "timeline.png") });

        // The other pages, for the screenshots and a look at their contents.
        await page.GotoAsync(ui);
        await Expect(page.Locator("#topics")).ToContainTextAsync(Topic);
        await Expect(page.Locator("#groups")).ToContainTextAsync(Group);
        await Chromium.ShotAsync(page, "front");
        await page.Locator("#topics").GetByRole(AriaRole.Link, new() { Name = Topic }).ClickAsync();
        await Expect(page.Locator("#partitions tbody tr")).ToHaveCountAsync(6);
        await Chromium.ShotAsync(page, "topic");
        await page.Locator("#partitions tbody tr").First.GetByRole(AriaRole.Link, new() { Name = "browse" }).ClickAsync();
        await Expect(page.Locator("#messages pre.json").First).ToContainTextAsync("\"item\": \"책\"");
        await Chromium.ShotAsync(page, "messages");
        await page.SelectOptionAsync("select[name=format]", "hex");
        await page.GetByRole(AriaRole.Button, new() { Name = "Go" }).ClickAsync();
        await Expect(page.Locator("#messages pre.hex").First).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new Regex("format=hex"));
        await Chromium.ShotAsync(page, "messages-hex");
    }

    private static ILocator Column(IPage page, string clientId) =>
        page.Locator("#picture .member").Filter(new() { Has = page.Locator("b", new() { HasTextString = clientId }) });
}
