using System.Globalization;
using Samsa.Broker.Groups.Runtime;
using Samsa.Broker.WebConsole.Timeline;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>
/// The rebalance timeline as SVG: each rebalance a band (its rebalancing phase shaded, labelled
/// with the generation or epoch it produced), each partition a row of its holders' tenures in their
/// colours, and the gaps where nobody consumed it hatched red (revoked → assigned), then pale
/// (assigned → first fetch).
/// </summary>
internal static class TimelineSvg
{
    private const double Width = 1000, Top = 34, RowHeight = 20, Bar = 14;

    public static Html Render(TimelineSnapshot? t, GroupView view)
    {
        var h = new Html();
        if (t is null || (t.Bands.Count == 0 && t.Rows.Count == 0))
            return h.Add($"<p class=\"empty\">No rebalance recorded since the console started.</p>");
        // Room for the longest row label (about 6.6 units a monospace character), within reason.
        double left = Math.Clamp(t.Rows.Select(r => r.Partition.ToString().Length).DefaultIfEmpty(4).Max() * 6.6 + 16, 60, 300);
        var scale = new Scale(t, left);
        double height = Top + t.Rows.Count * RowHeight + 8;
        h.Add($"<svg class=\"timeline\" viewBox=\"0 0 {F(Width)} {F(height)}\" width=\"100%\" role=\"img\" aria-label=\"rebalance timeline\">");
        string label = view.Type == GroupType.Classic ? "gen" : "epoch";
        for (int i = 0; i < t.Bands.Count; i++)
        {
            var band = t.Bands[i];
            double x0 = scale.X(band.Started), x1 = scale.X(i + 1 < t.Bands.Count ? t.Bands[i + 1].Started : t.Now);
            double xs = scale.X(band.Settled ?? (i + 1 < t.Bands.Count ? t.Bands[i + 1].Started : t.Now));
            h.Add($"<g class=\"band\" data-epoch=\"{band.Epoch}\"><rect class=\"band-bg b{i % 2}\" x=\"{F(x0)}\" y=\"0\" width=\"{F(x1 - x0)}\" height=\"{F(height)}\"/>");
            h.Add($"<rect class=\"rebalancing\" x=\"{F(x0)}\" y=\"{F(Top - 6)}\" width=\"{F(Math.Max(1.5, xs - x0))}\" height=\"{F(height - Top + 6)}\"><title>rebalance to {label} {band.Epoch}: {Show.Clock(band.Started)} → {(band.Settled is { } s ? Show.Clock(s) : "not settled")}</title></rect>");
            // Labels need about 64 units; a narrower band shows its number only, and no time.
            double room = (i + 1 < t.Bands.Count ? scale.X(t.Bands[i + 1].Started) : Width) - x0;
            h.Add($"<text class=\"band-label\" x=\"{F(x0 + 3)}\" y=\"12\">{(room >= 64 ? $"{label} {band.Epoch}" : band.Epoch.ToString(CultureInfo.InvariantCulture))}</text>");
            if (room >= 64)
                h.Add($"<text class=\"band-time\" x=\"{F(x0 + 3)}\" y=\"24\">{Show.Clock(band.Started)}</text>");
            h.Add($"</g>");
        }
        for (int r = 0; r < t.Rows.Count; r++)
        {
            var row = t.Rows[r];
            double y = Top + r * RowHeight;
            h.Add($"<g class=\"row\" data-partition=\"{row.Partition}\"><text class=\"row-label\" x=\"{F(left - 8)}\" y=\"{F(y + Bar - 3)}\">{row.Partition}</text>");
            foreach (var tenure in row.Tenures)
            {
                double a = scale.X(tenure.Assigned), e = scale.X(tenure.Ended ?? t.Now), f = scale.X(tenure.FirstFetch ?? tenure.Assigned);
                int colour = t.Colours.GetValueOrDefault(tenure.MemberId) % Palette;
                h.Add($"<rect class=\"tenure c{colour}\" data-member=\"{tenure.MemberId}\" x=\"{F(a)}\" y=\"{F(y)}\" width=\"{F(Math.Max(1, e - a))}\" height=\"{F(Bar)}\" rx=\"2\"><title>{row.Partition}: {tenure.ClientId} ({Show.ShortId(tenure.MemberId)}) from {Show.Clock(tenure.Assigned)}{(tenure.Ended is { } end ? " to " + Show.Clock(end) : "")}</title></rect>");
                if (f > a)
                    h.Add($"<rect class=\"waiting\" x=\"{F(a)}\" y=\"{F(y)}\" width=\"{F(f - a)}\" height=\"{F(Bar)}\"/>");
            }
            foreach (var gap in row.Gaps)
            {
                // Unowned (revoked → assigned) is filled; assigned → first fetch is only outlined, over
                // the new holder's pale start, so the two parts of the gap read apart.
                double from = scale.X(gap.From), assigned = scale.X(gap.Assigned ?? t.Now), to = scale.X(gap.Fetched ?? gap.Assigned ?? t.Now);
                string title = $"{row.Partition}: nobody consumed it from {Show.Clock(gap.From)}" + (gap.Assigned is { } at ? $", assigned {Show.Clock(at)}" : ", still unassigned")
                    + (gap.Fetched is { } ft ? $", first fetch {Show.Clock(ft)}" : "");
                h.Add($"<g class=\"gap\" data-partition=\"{row.Partition}\" data-from=\"{gap.FromMember}\" data-to=\"{gap.ToMember ?? ""}\" data-fetched=\"{(gap.Fetched is null ? "false" : "true")}\"><title>{title}</title>");
                h.Add($"<rect class=\"gap-unowned\" x=\"{F(from)}\" y=\"{F(y)}\" width=\"{F(Math.Max(2, assigned - from))}\" height=\"{F(Bar)}\"/>");
                h.Add($"<rect class=\"gap-outline\" x=\"{F(from - 1)}\" y=\"{F(y - 1)}\" width=\"{F(Math.Max(3, to - from + 2))}\" height=\"{F(Bar + 2)}\"/></g>");
            }
            h.Add($"</g>");
        }
        h.Add($"</svg>");
        h.Add(Legend(t, view));
        return h;
    }

    public const int Palette = 8;

    private static Html Legend(TimelineSnapshot t, GroupView view)
    {
        var h = new Html();
        h.Add($"<ul class=\"legend\">");
        foreach (var (member, colour) in t.Colours.OrderBy(c => c.Value))
        {
            string client = view.Members.FirstOrDefault(m => m.MemberId == member)?.ClientId ?? "gone";
            h.Add($"<li><span class=\"swatch c{colour % Palette}\"></span>{client} <small>{Show.ShortId(member)}</small></li>");
        }
        h.Add($"<li><span class=\"swatch gap\"></span>nobody consuming</li><li><span class=\"swatch waiting\"></span>assigned, no fetch yet</li><li><span class=\"swatch rebalancing\"></span>rebalancing</li></ul>");
        return h;
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>
    /// Time to x, piecewise: every rebalancing phase and every stable stretch between them gets a
    /// width growing with the square root of its length, so a 50 ms rebalance stays visible next to
    /// an hour of calm, while order and proportions within a piece are kept.
    /// </summary>
    private sealed class Scale
    {
        private readonly List<DateTimeOffset> _at = [];
        private readonly List<double> _x = [];

        private readonly double _left;

        public Scale(TimelineSnapshot t, double left)
        {
            _left = left;
            var cuts = new SortedSet<DateTimeOffset> { t.Start, t.Now };
            foreach (var b in t.Bands)
            {
                cuts.Add(b.Started);
                if (b.Settled is { } s)
                    cuts.Add(s);
            }
            var points = cuts.Where(c => c >= t.Start && c <= t.Now).ToList();
            var weights = points.Zip(points.Skip(1), (a, b) => Math.Sqrt(Math.Max((b - a).TotalSeconds, 0.05))).ToList();
            double total = weights.Sum(), x = left;
            for (int i = 0; i < points.Count; i++)
            {
                _at.Add(points[i]);
                _x.Add(x);
                if (i < weights.Count)
                    x += total > 0 ? weights[i] / total * (Width - left - 8) : 0;
            }
        }

        public double X(DateTimeOffset time)
        {
            if (_at.Count < 2 || time <= _at[0])
                return _x.Count > 0 ? _x[0] : _left;
            for (int i = 1; i < _at.Count; i++)
            {
                if (time <= _at[i])
                {
                    double span = (_at[i] - _at[i - 1]).TotalMilliseconds;
                    return _x[i - 1] + (span <= 0 ? 0 : (time - _at[i - 1]).TotalMilliseconds / span * (_x[i] - _x[i - 1]));
                }
            }
            return _x[^1];
        }
    }
}
