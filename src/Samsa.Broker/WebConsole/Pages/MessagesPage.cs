using System.Text;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Broker.WebConsole.Pages;

/// <summary>
/// A partition's records from an offset on: offset, timestamp, key, headers and value. Reads the log
/// as a Fetch does (whole batches, decompressed here), without any fetch session or group.
/// </summary>
internal static class MessagesPage
{
    public const int DefaultLimit = 20;
    private const int MaxLimit = 200;

    public static string? Render(ConsoleContext c, string name, int partition, long? from, int limit, ValueFormat format)
    {
        if (!c.Topics.TryGet(name, out var topic) || partition < 0 || partition >= topic.Partitions.Length)
            return null;
        var log = topic.Partitions[partition];
        limit = Math.Clamp(limit, 1, MaxLimit);
        long offset = Math.Clamp(from ?? log.LogStartOffset, log.LogStartOffset, log.LogEndOffset);
        var records = Read(log, offset, limit);

        var h = new Html();
        h.Add($"<h1>{topic.Name}-{partition}</h1>");
        h.Add($"<p class=\"sub\">log start {Show.Count(log.LogStartOffset)} · log end {Show.Count(log.LogEndOffset)} · {Show.Bytes(log.SizeInBytes)}</p>");
        h.Add($"<form class=\"browse\" method=\"get\"><label>partition <select name=\"partition\">");
        for (int p = 0; p < topic.Partitions.Length; p++)
            h.Add($"<option value=\"{p}\"{(p == partition ? Html.Raw(" selected") : Html.Raw(""))}>{p}</option>");
        h.Add($"</select></label><label>offset <input name=\"offset\" type=\"number\" value=\"{offset}\" min=\"0\"></label>");
        h.Add($"<label>show <select name=\"format\">");
        foreach (var f in Enum.GetValues<ValueFormat>())
            h.Add($"<option value=\"{f.ToString().ToLowerInvariant()}\"{(f == format ? Html.Raw(" selected") : Html.Raw(""))}>{f.ToString().ToLowerInvariant()}</option>");
        h.Add($"</select></label><input type=\"hidden\" name=\"limit\" value=\"{limit}\"><button>Go</button></form>");

        string Page(long at) => $"{Layout.TopicHref(topic.Name)}/messages?partition={partition}&offset={at}&limit={limit}&format={format.ToString().ToLowerInvariant()}";
        h.Add($"<p class=\"pager\">");
        if (offset > log.LogStartOffset)
            h.Add($"<a href=\"{Page(Math.Max(log.LogStartOffset, offset - limit))}\">← older</a>");
        long next = records.Count > 0 ? records[^1].Offset + 1 : offset;
        if (next < log.LogEndOffset)
            h.Add($"<a href=\"{Page(next)}\">newer →</a>");
        h.Add($"</p>");

        var rows = records.Select(r => new[]
        {
            Layout.Num(r.Offset),
            Layout.Text(Show.Millis(r.Timestamp)),
            RecordFormat.Format(r.Key, format),
            Headers(r.Headers, format),
            RecordFormat.Format(r.Value, format),
        }).ToList();
        h.Add($"<div class=\"scroll\">");
        h.Add(Layout.Table(["offset", "timestamp", "key", "headers", "value"], rows, offset >= log.LogEndOffset ? "No records at or after this offset." : "No records here.", id: "messages", cssClass: "grid records"));
        h.Add($"</div>");
        return Layout.Page($"{topic.Name}-{partition}", h, [("Overview", "/"), (topic.Name, Layout.TopicHref(topic.Name)), ($"partition {partition}", null)]);
    }

    private static HtmlString Headers(IReadOnlyList<(string Key, ReadOnlyMemory<byte>? Value)> headers, ValueFormat format)
    {
        if (headers.Count == 0)
            return Html.Raw("<span class=\"null\">—</span>");
        var h = new Html();
        h.Add($"<dl class=\"headers\">");
        foreach (var (key, value) in headers)
            h.Add($"<dt>{key}</dt><dd>{RecordFormat.Format(value, format)}</dd>");
        return h.Add($"</dl>").ToHtml();
    }

    internal sealed record Shown(long Offset, long Timestamp, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, IReadOnlyList<(string Key, ReadOnlyMemory<byte>? Value)> Headers);

    /// <summary>Up to <paramref name="limit"/> records at or after <paramref name="offset"/>, copied out of the pooled read buffer.</summary>
    internal static List<Shown> Read(Samsa.Storage.PartitionLog log, long offset, int limit)
    {
        var shown = new List<Shown>();
        using var scratch = new PooledBufferWriter(4096);
        long at = offset;
        while (shown.Count < limit && at < log.LogEndOffset)
        {
            using var read = log.Read(at, 1024 * 1024);
            if (read.Length == 0)
                break;
            var buffer = read.Memory;
            long before = at;
            while (shown.Count < limit && RecordBatch.TryReadNext(ref buffer, out var batch))
            {
                at = Math.Max(at, batch.Header.LastOffset + 1);
                if (batch.Header.IsControl)
                    continue; // transaction markers are not records a reader sees
                foreach (var r in batch.GetRecords(scratch))
                {
                    if (r.Offset < offset || shown.Count >= limit)
                        continue;
                    var headers = new List<(string, ReadOnlyMemory<byte>?)>();
                    foreach (var header in r.GetHeaders())
                        headers.Add((Encoding.UTF8.GetString(header.Key.Span), Copy(header.Value)));
                    shown.Add(new Shown(r.Offset, r.Timestamp, Copy(r.Key), Copy(r.Value), headers));
                }
            }
            if (at == before)
                break; // nothing advanced (a batch bigger than the read): stop rather than spin
        }
        return shown;
    }

    /// <summary>
    /// Out of the pooled buffer, keeping null apart from empty: null would convert to an
    /// empty ReadOnlyMemory, not to null, so the conversion is spelled out.
    /// </summary>
    private static ReadOnlyMemory<byte>? Copy(ReadOnlyMemory<byte>? bytes) => bytes is { } b ? b.ToArray() : (ReadOnlyMemory<byte>?)null;
}
