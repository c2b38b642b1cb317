using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>The front page: the broker and its listeners, every topic and every group, each a link.</summary>
internal static class FrontPage
{
    public static string Render(ConsoleContext c)
    {
        var b = c.Broker;
        var h = new Html();
        h.Add($"<h1>Broker {b.NodeId}</h1>");
        h.Add(Layout.Table(["cluster", "listener", "advertised", "security", "console", "data"],
            [[Layout.Text(b.ClusterId), Layout.Text(b.Listener), Layout.Text(b.Advertised), Layout.Text(b.Sasl ? "SASL_PLAINTEXT (PLAIN)" : "PLAINTEXT"), Layout.Text(c.UiAddress), Layout.Text(b.DataDirectory)]],
            "", id: "broker", cssClass: "grid facts"));

        var topics = c.UserTopics.ToList();
        h.Add($"<h2>Topics <span class=\"count\">{topics.Count}</span></h2>");
        h.Add(Layout.Table(["topic", "partitions", "messages", "size", "in/s", "out/s"],
            topics.Select(t => (HtmlString[])
            [
                Layout.Link(Layout.TopicHref(t.Name), t.Name),
                Layout.Num(t.Partitions.Length),
                Layout.Num(t.Partitions.Sum(p => p.LogEndOffset - p.LogStartOffset)),
                Layout.Text(Show.Bytes(t.Partitions.Sum(p => p.SizeInBytes))),
                .. Rates(c, t.Name),
            ]).ToList(),
            "No topics yet.", id: "topics"));

        var groups = c.AllGroups.ToList();
        h.Add($"<h2>Consumer groups <span class=\"count\">{groups.Count}</span></h2>");
        h.Add(Layout.Table(["group", "type", "state", "protocol", "epoch", "members"],
            groups.Select(g => new[]
            {
                Layout.Link(Layout.GroupHref(g.GroupId), g.GroupId),
                Layout.Badge(GroupTypes.Name(g.Type), "type"),
                Layout.State(g.State),
                Layout.Text(g.Protocol ?? "—"),
                Layout.Num(g.Epoch),
                Layout.Num(g.Members.Count),
            }).ToList(),
            "No groups yet.", id: "groups"));
        return Layout.Page("Overview", h, [("Overview", null)]);
    }

    /// <summary>Records/s produced and consumed (committed) over the last minute; "—" until the console has two samples.</summary>
    public static HtmlString[] Rates(ConsoleContext c, string topic) => c.TopicRates.Of(topic) is { } r
        ? [Layout.Text(Show.Rate(r.Produced)), Layout.Text(Show.Rate(r.Consumed))]
        : [Layout.Text("—"), Layout.Text("—")];
}
