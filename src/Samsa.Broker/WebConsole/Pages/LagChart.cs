using System.Globalization;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>A group's total lag over the sampled window as a small SVG line chart.</summary>
internal static class LagChart
{
    private const double Width = 1000, Height = 120, Left = 56, Bottom = 18, Top = 8;

    public static Html Render(IReadOnlyList<(DateTimeOffset At, long Lag)> samples)
    {
        var h = new Html();
        if (samples.Count < 2)
            return h.Add($"<p class=\"empty\">Lag is sampled every few seconds; the chart appears after two samples.</p>");
        var from = samples[0].At;
        double span = Math.Max(1, (samples[^1].At - from).TotalSeconds);
        long max = Math.Max(1, samples.Max(s => s.Lag));
        double X(DateTimeOffset t) => Left + (t - from).TotalSeconds / span * (Width - Left - 8);
        double Y(long lag) => Top + (1 - (double)lag / max) * (Height - Top - Bottom);
        string points = string.Join(" ", samples.Select(s => $"{F(X(s.At))},{F(Y(s.Lag))}"));
        h.Add($"<svg class=\"lagchart\" viewBox=\"0 0 {F(Width)} {F(Height)}\" width=\"100%\" role=\"img\" aria-label=\"total lag over time\">");
        h.Add($"<line class=\"axis\" x1=\"{F(Left)}\" y1=\"{F(Height - Bottom)}\" x2=\"{F(Width - 8)}\" y2=\"{F(Height - Bottom)}\"/>");
        h.Add($"<text class=\"tick\" x=\"{F(Left - 6)}\" y=\"{F(Top + 8)}\">{Show.Count(max)}</text><text class=\"tick\" x=\"{F(Left - 6)}\" y=\"{F(Height - Bottom)}\">0</text>");
        h.Add($"<text class=\"time\" x=\"{F(Left)}\" y=\"{F(Height - 4)}\">{Show.Clock(from)}</text><text class=\"time end\" x=\"{F(Width - 8)}\" y=\"{F(Height - 4)}\">{Show.Clock(samples[^1].At)}</text>");
        h.Add($"<polyline class=\"lagline\" points=\"{points}\"/></svg>");
        return h;
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
