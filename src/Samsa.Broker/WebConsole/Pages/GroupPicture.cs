namespace Samsa.Broker.WebConsole.Pages;

/// <summary>
/// The picture from the consumer-group notes: the topic's partitions as a strip of boxes coloured
/// by their holder, then one column per member with its partitions under it. A member holding
/// nothing is drawn idle (more members than partitions leaves some idle); partitions nobody holds
/// are set apart. Revoking boxes are striped, incoming ones dashed.
/// </summary>
internal static class GroupPicture
{
    public static string ColourClass(IReadOnlyDictionary<string, int>? colours, string memberId) =>
        "c" + ((colours?.GetValueOrDefault(memberId, 0) ?? 0) % TimelineSvg.Palette).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static Html Render(IReadOnlyList<PartitionKey> partitions, IReadOnlyList<MemberPartitions> members, IReadOnlyDictionary<string, int>? colours)
    {
        var h = new Html();
        var holder = new Dictionary<PartitionKey, List<string>>();
        foreach (var m in members)
        {
            foreach (var p in m.Holding)
            {
                if (!holder.TryGetValue(p, out var list))
                    holder[p] = list = [];
                list.Add(m.Member.MemberId);
            }
        }
        string Colour(string memberId) => ColourClass(colours, memberId);

        h.Add($"<div class=\"picture\"><div class=\"strip\">");
        string? topic = null;
        foreach (var p in partitions)
        {
            if (p.Topic != topic)
            {
                topic = p.Topic;
                h.Add($"<span class=\"topic\">{topic}</span>");
            }
            var held = holder.GetValueOrDefault(p);
            string css = held is null ? "box free" : "box " + Colour(held[0]);
            h.Add($"<span class=\"{css}\" data-partition=\"{p}\" data-owner=\"{(held is null ? "" : string.Join(' ', held))}\">{p.Partition}</span>");
        }
        h.Add($"</div><div class=\"columns\">");
        foreach (var m in members.OrderBy(m => colours?.GetValueOrDefault(m.Member.MemberId, int.MaxValue) ?? 0).ThenBy(m => m.Member.MemberId, StringComparer.Ordinal))
        {
            bool idle = m.Owned.Count + m.Revoking.Count + m.Incoming.Count == 0;
            h.Add($"<div class=\"member {Colour(m.Member.MemberId)}{(idle ? " idle" : "")}\" data-member=\"{m.Member.MemberId}\">");
            h.Add($"<div class=\"member-head\"><span class=\"swatch {Colour(m.Member.MemberId)}\"></span><b>{(m.Member.ClientId.Length > 0 ? m.Member.ClientId : "(no client id)")}</b>");
            h.Add($"<small title=\"{m.Member.MemberId}\">{Show.ShortId(m.Member.MemberId)} · {m.Member.ClientHost}</small></div><div class=\"boxes\">");
            foreach (var p in m.Owned)
                h.Add($"<span class=\"box owned {Colour(m.Member.MemberId)}\" data-partition=\"{p}\">{p}</span>");
            foreach (var p in m.Revoking)
                h.Add($"<span class=\"box revoking {Colour(m.Member.MemberId)}\" data-partition=\"{p}\" title=\"being revoked\">{p}</span>");
            foreach (var p in m.Incoming)
                h.Add($"<span class=\"box incoming\" data-partition=\"{p}\" title=\"assigned, waiting for the holder to let go\">{p}</span>");
            if (idle)
                h.Add($"<span class=\"idle-note\">idle — no partitions</span>");
            h.Add($"</div></div>");
        }
        if (members.Count == 0)
            h.Add($"<p class=\"empty\">No members.</p>");
        h.Add($"</div>");
        var free = partitions.Where(p => !holder.ContainsKey(p)).ToList();
        if (free.Count > 0 && members.Count > 0)
        {
            h.Add($"<div class=\"unassigned\"><span class=\"label\">not consumed</span>");
            foreach (var p in free)
                h.Add($"<span class=\"box free\" data-partition=\"{p}\">{p}</span>");
            h.Add($"</div>");
        }
        return h.Add($"</div>");
    }
}
