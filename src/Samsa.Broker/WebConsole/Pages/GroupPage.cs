using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>
/// A group: the picture of who consumes what (members as columns, partitions as boxes under their
/// holder, idle members shown idle, partitions nobody holds set apart), lag per partition, the
/// rebalance timeline and the members. The page renders once; its event stream then replaces the
/// same fragments whenever the coordinator publishes a change.
/// </summary>
internal static class GroupPage
{
    public static string? Render(ConsoleContext c, string groupId)
    {
        if (c.Groups.View(groupId) is not { } view)
            return null;
        var h = new Html();
        h.Add($"<h1>{view.GroupId}</h1>");
        h.Add($"<section id=\"live\" data-events=\"{Layout.GroupHref(view.GroupId)}/events\">");
        foreach (var (id, fragment) in Fragments(c, view))
        {
            string? heading = id switch
            {
                "picture" => "Who consumes what",
                "lag" => "Lag",
                "lagchart" => "Total lag over time",
                "timeline" => "Rebalance timeline",
                "members" => "Members",
                _ => null,
            };
            if (heading is not null)
                h.Add($"<h2>{heading}</h2>");
            h.Add($"<div id=\"{id}\">{fragment}</div>");
        }
        h.Add($"<p class=\"live-note\"><span class=\"dot\"></span><span class=\"live-text\">live</span></p></section>");
        return Layout.Page(view.GroupId, h, [("Overview", "/"), ("Groups", "/#groups"), (view.GroupId, null)], script: "console.js");
    }

    /// <summary>The parts of the page that change, by element id: the page and its event stream send the same.</summary>
    public static IEnumerable<(string Id, Html Fragment)> Fragments(ConsoleContext c, GroupView view)
    {
        var timeline = c.Watcher.Timeline(view.GroupId);
        var lag = c.Lag(view);
        yield return ("summary", Summary(view, lag));
        yield return ("picture", GroupPicture.Render(c.PartitionsOf(view), GroupOwnership.Of(view), timeline?.Colours));
        yield return ("lag", Lag(view, lag, timeline?.Colours));
        yield return ("lagchart", LagChart.Render(c.LagHistory.Of(view.GroupId)));
        yield return ("timeline", TimelineSvg.Render(timeline, view));
        yield return ("members", Members(view, timeline?.Colours));
    }

    private static Html Summary(GroupView view, IReadOnlyList<PartitionLag> lag)
    {
        var h = new Html();
        string epoch = view.Type == GroupType.Classic ? "generation" : "group epoch";
        h.Add($"<dl class=\"facts\"><div><dt>type</dt><dd>{Layout.Badge(GroupTypes.Name(view.Type), "type")}</dd></div>");
        h.Add($"<div><dt>state</dt><dd>{Layout.State(view.State)}</dd></div>");
        h.Add($"<div><dt>protocol</dt><dd>{view.ProtocolType}{(view.Protocol is { } p ? " / " + p : "")}</dd></div>");
        h.Add($"<div><dt>{epoch}</dt><dd>{view.Epoch}</dd></div>");
        if (view.Type != GroupType.Classic)
            h.Add($"<div><dt>assignment epoch</dt><dd>{view.AssignmentEpoch}</dd></div>");
        h.Add($"<div><dt>members</dt><dd>{view.Members.Count}</dd></div>");
        long total = lag.Sum(l => l.Lag ?? 0);
        h.Add($"<div><dt>total lag</dt><dd data-total-lag=\"{total}\">{Show.Count(total)}</dd></div></dl>");
        return h;
    }

    private static Html Lag(GroupView view, IReadOnlyList<PartitionLag> lag, IReadOnlyDictionary<string, int>? colours)
    {
        var owners = GroupOwnership.Of(view)
            .SelectMany(m => m.Holding.Select(p => (p, Owner: MemberLabel(m.Member, colours))))
            .GroupBy(x => x.p).ToDictionary(g => g.Key, g => Html.Raw(string.Join(" ", g.Select(x => x.Owner.Value))));
        long max = Math.Max(1, lag.Max(l => l.Lag) ?? 1);
        var rows = lag.Select(l => new[]
        {
            Layout.Text(l.Partition.ToString()),
            owners.GetValueOrDefault(l.Partition, Html.Raw("<span class=\"null\">nobody</span>")),
            Layout.Num(l.LogEnd),
            l.Committed >= 0 ? Layout.Num(l.Committed) : Html.Raw("<span class=\"null\">none</span>"),
            l.Lag is { } n
                ? Html.Raw($"<span class=\"lagbar\"><span style=\"width:{(int)(100 * n / max)}%\"></span></span><span class=\"num\">{Show.Count(n)}</span>")
                : Html.Raw("<span class=\"null\">—</span>"),
        }).ToList();
        return Layout.Table(["partition", "owner", "log end", "committed", "lag"], rows, "No partitions.", cssClass: "grid lag");
    }

    /// <summary>A member as the tables name it: its colour, client id and the tail of its id (client ids are often shared).</summary>
    private static HtmlString MemberLabel(MemberView m, IReadOnlyDictionary<string, int>? colours) => new Html()
        .Add($"<span class=\"who\"><span class=\"swatch {GroupPicture.ColourClass(colours, m.MemberId)}\"></span>{m.ClientId} <small>{Show.ShortId(m.MemberId)}</small></span>").ToHtml();

    private static Html Members(GroupView view, IReadOnlyDictionary<string, int>? colours)
    {
        var rows = GroupOwnership.Of(view).Select(m => new[]
        {
            Html.Raw($"<span class=\"swatch {GroupPicture.ColourClass(colours, m.Member.MemberId)}\"></span> <code title=\"{Html.Encode(m.Member.MemberId)}\">{Html.Encode(Show.ShortId(m.Member.MemberId))}</code>"),
            Layout.Text(m.Member.ClientId),
            Layout.Text(m.Member.ClientHost),
            Layout.Text(m.Member.InstanceId ?? "—"),
            Layout.Num(m.Member.MemberEpoch),
            Layout.Text(m.Member.MemberState.Length > 0 ? m.Member.MemberState : "—"),
            Layout.Num(m.Owned.Count + m.Revoking.Count),
        }).ToList();
        return Layout.Table(["member", "client id", "host", "instance", "epoch", "state", "partitions"], rows, "No members: nobody is consuming.");
    }
}
