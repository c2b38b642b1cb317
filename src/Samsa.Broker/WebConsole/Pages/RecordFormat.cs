using System.Text;
using System.Text.Json;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>How a key, header or value is shown: auto picks JSON (pretty-printed) when it parses, text when it is UTF-8, hex otherwise.</summary>
internal enum ValueFormat
{
    Auto,
    Text,
    Json,
    Hex,
}

internal static class RecordFormat
{
    /// <summary>Longer values are cut: a page of 20 records must stay a page.</summary>
    private const int MaxShown = 16 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    // Relaxed escaping keeps non-ASCII text as it is; the result is HTML-encoded before it is shown.
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ValueFormat Parse(string? text) => text?.ToLowerInvariant() switch
    {
        "text" => ValueFormat.Text,
        "json" => ValueFormat.Json,
        "hex" => ValueFormat.Hex,
        _ => ValueFormat.Auto,
    };

    public static HtmlString Format(ReadOnlyMemory<byte>? bytes, ValueFormat format)
    {
        if (bytes is not { } value)
            return Html.Raw("<span class=\"null\">null</span>");
        if (value.Length == 0)
            return Html.Raw("<span class=\"null\">empty</span>");
        var shown = value.Length > MaxShown ? value[..MaxShown] : value;
        string cut = value.Length > MaxShown ? $"<span class=\"cut\">… {Show.Count(value.Length - MaxShown)} more bytes</span>" : "";
        if (format is ValueFormat.Auto or ValueFormat.Json && value.Length <= MaxShown && TryJson(value.Span) is { } json)
            return Html.Raw($"<pre class=\"json\">{Html.Encode(json)}</pre>");
        if (format is ValueFormat.Auto or ValueFormat.Text or ValueFormat.Json && TryText(shown.Span) is { } text)
            return Html.Raw($"<pre class=\"text\">{Html.Encode(text)}</pre>{cut}");
        return Html.Raw($"<pre class=\"hex\">{Html.Encode(Hex(shown.Span))}</pre>{cut}");
    }

    private static string? TryJson(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length && bytes[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
            i++;
        // Only objects and arrays: a bare number or string reads better as text.
        if (i == bytes.Length || bytes[i] is not ((byte)'{' or (byte)'['))
            return null;
        try
        {
            using var document = JsonDocument.Parse(bytes.ToArray());
            // Written element by element, not through JsonSerializer: no reflection, so trimming keeps it working.
            var output = new System.Buffers.ArrayBufferWriter<byte>(bytes.Length * 2);
            using (var writer = new Utf8JsonWriter(output, Indented))
                document.RootElement.WriteTo(writer);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? TryText(ReadOnlySpan<byte> bytes)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        foreach (char ch in text)
        {
            if (char.IsControl(ch) && ch is not ('\n' or '\r' or '\t'))
                return null;
        }
        return text;
    }

    /// <summary>8 bytes a line (narrow enough for a table cell): offset, hex, and the printable ASCII beside it.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        const int PerLine = 8;
        string offsetFormat = bytes.Length > 0xffff ? "x8" : "x4";
        var s = new StringBuilder(bytes.Length * 5 + 16);
        for (int line = 0; line < bytes.Length; line += PerLine)
        {
            var chunk = bytes.Slice(line, Math.Min(PerLine, bytes.Length - line));
            s.Append(line.ToString(offsetFormat, System.Globalization.CultureInfo.InvariantCulture)).Append("  ");
            // Pad a short last line only when there are lines above to align with.
            int columns = bytes.Length > PerLine ? PerLine : chunk.Length;
            for (int i = 0; i < columns; i++)
                s.Append(i < chunk.Length ? chunk[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture) : "  ").Append(' ');
            s.Append(' ');
            foreach (byte b in chunk)
                s.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            s.Append('\n');
        }
        return s.ToString().TrimEnd('\n');
    }
}
