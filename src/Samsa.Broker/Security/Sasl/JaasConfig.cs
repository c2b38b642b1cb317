using System.Text;

namespace Samsa.Broker.Security.Sasl;

/// <summary>
/// One login module entry of a sasl.jaas.config value, e.g.
/// <c>org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";</c>:
/// the module's class, its control flag and its options. Values may be quoted (with backslash
/// escapes) or bare words, as Kafka's JaasConfig reads them.
/// </summary>
internal sealed record JaasModule(string LoginModule, string Flag, IReadOnlyDictionary<string, string> Options)
{
    public const string PlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule";
    public const string ScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule";

    /// <summary>The users a PlainLoginModule declares as <c>user_NAME="password"</c>.</summary>
    public IEnumerable<KeyValuePair<string, string>> PlainUsers() =>
        Options.Where(o => o.Key.StartsWith("user_", StringComparison.Ordinal) && o.Key.Length > 5)
            .Select(o => KeyValuePair.Create(o.Key[5..], o.Value));

    /// <summary>Parses every entry; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static IReadOnlyList<JaasModule> Parse(string text)
    {
        var tokens = Tokenize(text);
        var modules = new List<JaasModule>();
        int i = 0;
        while (i < tokens.Count)
        {
            string module = Word(tokens, ref i, "a login module class");
            string flag = Word(tokens, ref i, "a control flag (required, requisite, sufficient, optional)");
            if (flag is not ("required" or "requisite" or "sufficient" or "optional"))
                throw new FormatException($"'{flag}' after {module} is not a control flag (required, requisite, sufficient, optional).");
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            while (true)
            {
                if (i >= tokens.Count)
                    throw new FormatException($"The entry for {module} does not end with ';'.");
                if (tokens[i] is { Quoted: false, Text: ";" })
                {
                    i++;
                    break;
                }
                string key = Word(tokens, ref i, "an option name");
                if (i >= tokens.Count || tokens[i] is not { Quoted: false, Text: "=" })
                    throw new FormatException($"Option '{key}' of {module} has no '=value'.");
                i++;
                if (i >= tokens.Count || tokens[i] is { Quoted: false, Text: ";" or "=" })
                    throw new FormatException($"Option '{key}' of {module} has no value.");
                options[key] = tokens[i++].Text;
            }
            modules.Add(new JaasModule(module, flag, options));
        }
        if (modules.Count == 0)
            throw new FormatException("No login module: expected e.g. 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"secret\";'.");
        return modules;
    }

    private static string Word(List<(string Text, bool Quoted)> tokens, ref int i, string what)
    {
        if (i >= tokens.Count || tokens[i] is { Quoted: false, Text: ";" or "=" })
            throw new FormatException($"Expected {what}{(i < tokens.Count ? $", got '{tokens[i].Text}'" : " at the end")}.");
        return tokens[i++].Text;
    }

    private static List<(string Text, bool Quoted)> Tokenize(string text)
    {
        var tokens = new List<(string, bool)>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is ';' or '=')
            {
                tokens.Add((c.ToString(), false));
                i++;
            }
            else if (c == '"')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length)
                        throw new FormatException("A quoted value is not closed.");
                    if (text[i] == '"')
                        break;
                    if (text[i] == '\\' && i + 1 < text.Length)
                        i++;
                    value.Append(text[i++]);
                }
                i++;
                tokens.Add((value.ToString(), true));
            }
            else
            {
                int start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not (';' or '=' or '"'))
                    i++;
                tokens.Add((text[start..i], false));
            }
        }
        return tokens;
    }
}
