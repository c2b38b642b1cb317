using Samsa.Broker.Topics;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>A topic: its partitions (log start and end, size), its configs, and the groups that read it.</summary>
internal static class TopicPage
{
    public static string? Render(ConsoleContext c, string name)
    {
        if (!c.Topics.TryGet(name, out var topic))
            return null;
        var h = new Html();
        h.Add($"<h1>{topic.Name}</h1>");
        h.Add($"<p class=\"sub\">id <code>{topic.Id}</code>{(topic.IsInternal ? Html.Raw(" · internal") : Html.Raw(""))}</p>");
        var rates = FrontPage.Rates(c, topic.Name);
        h.Add(Layout.Table(["produced/s", "consumed/s (committed by groups)"], [rates], "", id: "rates", cssClass: "grid facts"));

        h.Add($"<h2>Partitions <span class=\"count\">{topic.Partitions.Length}</span></h2>");
        var partitions = topic.Partitions.Select((log, p) => new[]
        {
            Layout.Num(p),
            Layout.Num(log.LogStartOffset),
            Layout.Num(log.LogEndOffset),
            Layout.Num(log.LogEndOffset - log.LogStartOffset),
            Layout.Text(Show.Bytes(log.SizeInBytes)),
            Layout.Link($"{Layout.TopicHref(topic.Name)}/messages?partition={p}&offset={Math.Max(log.LogStartOffset, log.LogEndOffset - 20)}", "browse"),
        }).ToList();
        h.Add(Layout.Table(["partition", "log start", "log end", "messages", "size", ""], partitions, "", id: "partitions"));

        var readers = c.AllGroups.Where(g => GroupOwnership.SubscribedTopics(g).Contains(topic.Name)).ToList();
        h.Add($"<h2>Read by</h2>");
        h.Add(Layout.Table(["group", "state", "members"],
            readers.Select(g => new[] { Layout.Link(Layout.GroupHref(g.GroupId), g.GroupId), Layout.State(g.State), Layout.Num(g.Members.Count) }).ToList(),
            "No group subscribes to this topic right now."));

        h.Add($"<h2>Configs</h2>");
        var configs = TopicConfigs.Known.Values.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d =>
        {
            sbyte source = topic.SourceOf(d.Name);
            return new[] { Layout.Text(d.Name), Html.Raw($"<code>{Html.Encode(topic.Config(d.Name))}</code>"), source == 1 ? Layout.Badge("topic", "ok") : source == 4 ? Layout.Badge("broker", "muted") : Layout.Badge("default", "muted") };
        }).ToList();
        h.Add(Layout.Table(["name", "value", "source"], configs, "", id: "configs"));
        return Layout.Page(topic.Name, h, [("Overview", "/"), ("Topics", "/#topics"), (topic.Name, null)]);
    }
}
