using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>Markup that is already safe: inserted as it is.</summary>
internal readonly record struct HtmlString(string Value)
{
    public override string ToString() => Value;
}

/// <summary>
/// Server-side HTML by interpolation: <c>h.Add($"&lt;td&gt;{name}&lt;/td&gt;")</c> encodes every hole
/// unless it is an <see cref="HtmlString"/>, so no page can forget to encode a topic name, a key or
/// a client id. Numbers are written with the invariant culture.
/// </summary>
internal sealed class Html
{
    public StringBuilder Builder { get; } = new(4096);

    public Html Add([InterpolatedStringHandlerArgument("")] ref HtmlHandler handler) => this;

    public Html Add(Html inner)
    {
        Builder.Append(inner.Builder);
        return this;
    }

    public static HtmlString Raw(string markup) => new(markup);

    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>Encoded for a URL path segment or query value.</summary>
    public static string Url(string text) => Uri.EscapeDataString(text);

    public HtmlString ToHtml() => new(Builder.ToString());

    public override string ToString() => Builder.ToString();
}

[InterpolatedStringHandler]
internal readonly ref struct HtmlHandler
{
    private readonly StringBuilder _builder;

    public HtmlHandler(int literalLength, int formattedCount, Html html)
    {
        _ = formattedCount;
        _builder = html.Builder;
        _builder.EnsureCapacity(_builder.Length + literalLength);
    }

    public void AppendLiteral(string literal) => _builder.Append(literal);

    public void AppendFormatted(HtmlString markup) => _builder.Append(markup.Value);

    public void AppendFormatted(Html markup) => _builder.Append(markup.Builder);

    public void AppendFormatted(string? text) => _builder.Append(Html.Encode(text));

    public void AppendFormatted<T>(T value) => _builder.Append(Html.Encode(value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString()));

    public void AppendFormatted<T>(T value, string format)
        where T : IFormattable => _builder.Append(Html.Encode(value.ToString(format, CultureInfo.InvariantCulture)));
}

/// <summary>How the pages write sizes, counts and times.</summary>
internal static class Show
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string Count(long n) => n.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>Records per second: whole numbers, one decimal below 10 so a trickle does not read as 0.</summary>
    public static string Rate(double perSecond) => perSecond.ToString(perSecond < 10 ? "0.0" : "#,0", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);

    public static string Clock(DateTimeOffset t) => t.ToUniversalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    public static string Millis(long unixMs) => unixMs < 0 ? "—" : Time(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));

    /// <summary>Member ids are long (a client id and a UUID); the tail tells them apart.</summary>
    public static string ShortId(string memberId) => memberId.Length <= 12 ? memberId : "…" + memberId[^8..];
}
