using System.Text.RegularExpressions;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;

namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// SubscribedTopicRegex, evaluated on the broker against whole topic names. Kafka uses RE2/J, which
/// runs in linear time; .NET's non-backtracking engine gives the same guarantee, so a hostile
/// pattern cannot stall the coordinator (and, like RE2, it refuses backreferences and lookarounds).
/// </summary>
internal static class TopicRegex
{
    private static readonly Dictionary<string, Regex> Cache = new(StringComparer.Ordinal);
    private static readonly Lock CacheLock = new();

    /// <exception cref="CoordinatorException">INVALID_REGULAR_EXPRESSION when the pattern does not compile.</exception>
    public static Regex Compile(string pattern)
    {
        lock (CacheLock)
        {
            if (Cache.TryGetValue(pattern, out var cached))
                return cached;
        }
        Regex regex;
        try
        {
            regex = new Regex($"^(?:{pattern})$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new CoordinatorException(ErrorCode.InvalidRegularExpression, $"SubscribedTopicRegex {pattern} is not a valid regular expression: {e.Message}");
        }
        lock (CacheLock)
        {
            if (Cache.Count > 1024)
                Cache.Clear();
            Cache[pattern] = regex;
        }
        return regex;
    }

    public static void Validate(string pattern) => Compile(pattern);

    /// <summary>The topic names the pattern matches whole, sorted.</summary>
    public static IReadOnlyList<string> Resolve(string pattern, IEnumerable<string> topics)
    {
        var regex = Compile(pattern);
        return topics.Where(t => regex.IsMatch(t)).Order(StringComparer.Ordinal).ToList();
    }
}
