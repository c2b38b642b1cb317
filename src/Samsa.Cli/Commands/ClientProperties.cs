using System.CommandLine;

namespace Samsa.Cli.Commands;

/// <summary>
/// Kafka client properties on the command line, as Kafka's console tools take them:
/// <c>--command-config FILE</c> (key=value lines) and repeated <c>--producer-property</c> /
/// <c>--consumer-property k=v</c>, the latter winning. The properties go through the client's own
/// FromProperties, so a bad key or value is the client's one-line error naming it.
/// </summary>
internal static class ClientProperties
{
    public static Option<string?> CommandConfig() => new("--command-config") { Description = "a file of Kafka client properties (key=value lines)" };

    public static Option<string[]> Property(string name) => new(name) { Description = "key=value Kafka client property, repeatable; wins over --command-config" };

    /// <summary>The file's properties, then the command line's; later keys win.</summary>
    public static List<KeyValuePair<string, string>> Read(ParseResult r, Option<string?> file, Option<string[]> properties, string optionName)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.GetValue(file) is { } path)
        {
            if (!File.Exists(path))
                throw new ArgumentException($"--command-config: {path} does not exist.");
            int line = 0;
            foreach (var raw in File.ReadLines(path))
            {
                line++;
                string text = raw.Trim();
                if (text.Length == 0 || text[0] is '#' or '!')
                    continue;
                int eq = text.IndexOfAny(['=', ':']);
                if (eq <= 0)
                    throw new ArgumentException($"{path}:{line}: expected key=value, got '{text}'.");
                merged[text[..eq].Trim()] = text[(eq + 1)..].Trim();
            }
        }
        foreach (var (key, value) in Common.Pairs(r.GetValue(properties), optionName))
            merged[key.Trim()] = value.Trim();
        return [.. merged];
    }

    /// <summary>The topic from the argument or Kafka's <c>--topic</c> flag (exactly one of them).</summary>
    public static Option<string?> TopicFlag() => new("--topic") { Description = "the topic (as Kafka's tools take it; same as the argument)" };

    public static string Topic(ParseResult r, Argument<string?> argument, Option<string?> flag)
    {
        string? positional = r.GetValue(argument), named = r.GetValue(flag);
        if (positional is not null && named is not null && positional != named)
            throw new ArgumentException($"Two topics given: '{positional}' and --topic '{named}'.");
        return positional ?? named ?? throw new ArgumentException("Give the topic: as the argument or with --topic.");
    }
}
