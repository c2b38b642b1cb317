namespace Samsa.Broker.WebConsole.Pages;

/// <summary>The frame every page shares: head, a top bar with the way back, and the page's own body.</summary>
internal static class Layout
{
    public static string Page(string title, Html body, IReadOnlyList<(string Text, string? Href)> trail, string? script = null)
    {
        var h = new Html();
        h.Add($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · Samsa</title>
            <link rel="stylesheet" href="/assets/console.css">
            </head>
            <body>
            <header class="bar"><a class="brand" href="/">Samsa</a><nav>
            """);
        foreach (var (text, href) in trail)
        {
            if (href is null)
                h.Add($"<span class=\"crumb\">{text}</span>");
            else
                h.Add($"<a class=\"crumb\" href=\"{href}\">{text}</a>");
        }
        h.Add($"</nav></header>\n<main>\n");
        h.Add(body);
        h.Add($"\n</main>\n");
        if (script is not null)
            h.Add($"<script src=\"/assets/{script}\"></script>\n");
        h.Add($"</body>\n</html>\n");
        return h.ToString();
    }

    /// <summary>A table from rows of cells already rendered; an empty list shows <paramref name="empty"/>.</summary>
    public static Html Table(IReadOnlyList<string> headings, IReadOnlyList<HtmlString[]> rows, string empty, string? id = null, string cssClass = "grid")
    {
        var h = new Html();
        if (rows.Count == 0)
            return h.Add($"<p class=\"empty\">{empty}</p>");
        h.Add($"<table class=\"{cssClass}\"{(id is null ? Html.Raw("") : Html.Raw($" id=\"{Html.Encode(id)}\""))}><thead><tr>");
        foreach (string heading in headings)
            h.Add($"<th>{heading}</th>");
        h.Add($"</tr></thead><tbody>");
        foreach (var row in rows)
        {
            h.Add($"<tr>");
            foreach (var cell in row)
                h.Add($"<td>{cell}</td>");
            h.Add($"</tr>");
        }
        return h.Add($"</tbody></table>");
    }

    public static HtmlString Link(string href, string text) => Html.Raw($"<a href=\"{Html.Encode(href)}\">{Html.Encode(text)}</a>");

    public static HtmlString Text(string text) => Html.Raw(Html.Encode(text));

    public static HtmlString Num(long n) => Html.Raw($"<span class=\"num\">{Html.Encode(Show.Count(n))}</span>");

    public static HtmlString Badge(string text, string kind) => Html.Raw($"<span class=\"badge {Html.Encode(kind)}\">{Html.Encode(text)}</span>");

    public static string GroupHref(string groupId) => "/groups/" + Html.Url(groupId);

    public static string TopicHref(string topic) => "/topics/" + Html.Url(topic);

    /// <summary>Badge colour by state: settled states calm, rebalancing ones loud.</summary>
    public static HtmlString State(string state) => Badge(state, state switch
    {
        "Stable" => "ok",
        "Empty" or "Dead" => "muted",
        _ => "warn",
    });
}
