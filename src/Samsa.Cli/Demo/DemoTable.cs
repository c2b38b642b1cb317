namespace Samsa.Cli.Demo;

/// <summary>The demo's tables: plain aligned text, so the output reads the same on a terminal, in a pipe and in a test.</summary>
internal static class DemoTable
{
    public const string Nobody = "-";

    /// <summary>Who owns each partition now, by member name.</summary>
    public static string[] Owners(IEnumerable<DemoMember> members, int partitions)
    {
        var owners = Enumerable.Repeat(Nobody, partitions).ToArray();
        foreach (var m in members)
        {
            foreach (int p in m.Owned)
                owners[p] = m.Name;
        }
        return owners;
    }

    /// <summary>The partitions whose owner differs between two snapshots of <see cref="Owners"/>.</summary>
    public static List<int> Moved(string[] before, string[] after) =>
        Enumerable.Range(0, before.Length).Where(p => before[p] != after[p]).ToList();

    /// <summary>
    /// Prints snapshots of ownership side by side, one column each, and marks with * an owner that
    /// differs from the column to its left: the reader sees what moved at each step without diffing.
    /// </summary>
    public static void Ownership(IReadOnlyList<string> headers, IReadOnlyList<string[]> columns)
    {
        var rows = new List<string[]>();
        for (int p = 0; p < columns[0].Length; p++)
        {
            var row = new string[columns.Count + 1];
            row[0] = p.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (int c = 0; c < columns.Count; c++)
                row[c + 1] = columns[c][p] + (c > 0 && columns[c][p] != columns[c - 1][p] ? " *" : "");
            rows.Add(row);
        }
        Print(["partition", .. headers], rows);
        Console.WriteLine(rows.Any(r => r.Any(cell => cell.EndsWith(" *", StringComparison.Ordinal))) ? "    (* new owner)" : "    (no partition changed owner)");
    }

    /// <summary>Prints the members that own nothing: a group with more members than partitions leaves some idle.</summary>
    public static void Idle(IEnumerable<DemoMember> members)
    {
        foreach (var idle in members.Where(m => m.Owned.Count == 0))
            Console.WriteLine($"    {idle.Name} is idle: more consumers than partitions");
    }

    /// <summary>Prints rows under headers, each column as wide as its widest cell, indented under the step.</summary>
    public static void Print(IReadOnlyList<string> headers, IReadOnlyList<string[]> rows)
    {
        var widths = headers.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        string Line(IReadOnlyList<string> cells) =>
            "    " + string.Join("  ", cells.Select((cell, c) => c == cells.Count - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine(Line(headers));
        foreach (var row in rows)
            Console.WriteLine(Line(row));
    }
}
