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

    /// <summary>
    /// The admin client of topics/groups: --command-config's properties (security, client.id,
    /// timeouts) over the CLI's defaults, and --bootstrap-server over the file's bootstrap.servers.
    /// </summary>
    public static Samsa.Client.Admin.AdminOptions Admin(ParseResult r, Option<string> bootstrap, Option<string?> file)
    {
        var defaults = new Samsa.Client.Admin.AdminOptions { ClientId = "samsa-cli", RequestTimeout = TimeSpan.FromSeconds(10) };
        var options = r.GetValue(file) is { } path ? Samsa.Client.Admin.AdminOptions.FromProperties(ReadFile(path, "--command-config"), defaults) : defaults;
        return options with { BootstrapServers = r.GetValue(bootstrap)! };
    }

    /// <summary>The file's properties, then the command line's; later keys win.</summary>
    public static List<KeyValuePair<string, string>> Read(ParseResult r, Option<string?> file, Option<string[]> properties, string optionName)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.GetValue(file) is { } path)
        {
            foreach (var (key, value) in ReadFile(path, "--command-config"))
                merged[key] = value;
        }
        foreach (var (key, value) in Common.Pairs(r.GetValue(properties), optionName))
            merged[key.Trim()] = value.Trim();
        return [.. merged];
    }

    /// <summary>
    /// A Java .properties file as Kafka's tools read one: key=value or key:value, # and ! comments,
    /// a trailing backslash continuing the value on the next line (long JAAS strings are written so).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> ReadFile(string path, string option)
    {
        if (!File.Exists(path))
            throw new ArgumentException($"{option}: {path} does not exist.");
        int number = 0;
        string pending = "";
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            string text = pending + raw.Trim();
            pending = "";
            if (text.Length == 0 || text[0] is '#' or '!')
                continue;
            if (text.EndsWith('\\'))
            {
                pending = text[..^1];
                continue;
            }
            int at = text.IndexOfAny(['=', ':']);
            if (at <= 0)
                throw new ArgumentException($"{path}:{number}: expected key=value, got '{text}'.");
            yield return new(text[..at].Trim(), text[(at + 1)..].Trim());
        }
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
