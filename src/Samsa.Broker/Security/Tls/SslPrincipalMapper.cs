using System.Text.RegularExpressions;

namespace Samsa.Broker.Security.Tls;

/// <summary>
/// ssl.principal.mapping.rules: turns a client certificate's distinguished name (RFC 2253, as
/// <see cref="DistinguishedName.Format"/> writes it) into a principal name. Kafka's syntax: a
/// comma-separated list of <c>DEFAULT</c> (the name as it is) and
/// <c>RULE:pattern/replacement/</c> with an optional <c>L</c> or <c>U</c> after the last slash to
/// lower- or upper-case the result; the first rule whose pattern matches the whole name wins.
/// </summary>
internal sealed partial class SslPrincipalMapper
{
    // Kafka's own grammar, so that a rule list copied from a Kafka broker splits the same way: a
    // rule's pattern may contain commas, and "\/" escapes a slash.
    private const string RulePattern = @"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)";

    [GeneratedRegex(@"\s*(" + RulePattern + @")\s*(,\s*|$)")]
    private static partial Regex Splitter();

    [GeneratedRegex("^(?:" + RulePattern + ")")]
    private static partial Regex Parser();

    private readonly List<Rule> _rules = [];

    public static SslPrincipalMapper Default { get; } = new("DEFAULT");

    /// <summary>Throws <see cref="FormatException"/> naming a rule that does not parse.</summary>
    public SslPrincipalMapper(string rules)
    {
        foreach (Match split in Splitter().Matches(rules.Trim()))
        {
            string rule = split.Groups[1].Value;
            if (rule.Length == 0)
                continue;
            var m = Parser().Match(rule);
            if (!m.Success || m.Length != rule.Length)
                throw new FormatException($"Invalid rule '{rule}': expected DEFAULT or RULE:pattern/replacement/[L|U].");
            if (m.Groups[1].Success)
            {
                _rules.Add(new Rule(null, "", Case.AsIs));
            }
            else if (m.Groups[2].Success)
            {
                Regex pattern;
                try
                {
                    pattern = new Regex(m.Groups[2].Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException e)
                {
                    throw new FormatException($"Invalid rule '{rule}': {e.Message}", e);
                }
                var mode = m.Groups[6].Value switch { "L" => Case.Lower, "U" => Case.Upper, _ => Case.AsIs };
                _rules.Add(new Rule(pattern, m.Groups[4].Value, mode));
            }
            else
            {
                throw new FormatException($"Invalid rule '{rule}': expected DEFAULT or RULE:pattern/replacement/[L|U].");
            }
        }
    }

    /// <summary>The principal name for a distinguished name; null when no rule applies (Kafka then refuses the connection).</summary>
    public string? Map(string distinguishedName)
    {
        foreach (var rule in _rules)
        {
            if (rule.Apply(distinguishedName) is { } name)
                return name;
        }
        return null;
    }

    private enum Case
    {
        AsIs,
        Lower,
        Upper,
    }

    private sealed record Rule(Regex? Pattern, string Replacement, Case Mode)
    {
        public string? Apply(string dn)
        {
            if (Pattern is null)
                return dn;
            var m = Pattern.Match(dn);
            if (!m.Success || m.Index != 0 || m.Length != dn.Length)
                return null;
            string result = Pattern.Replace(dn, Replacement);
            return Mode switch
            {
                Case.Lower => result.ToLowerInvariant(),
                Case.Upper => result.ToUpperInvariant(),
                _ => result,
            };
        }
    }
}
