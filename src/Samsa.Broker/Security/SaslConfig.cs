using System.Globalization;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Security;

/// <summary>Parsing of the SASL settings in server.properties (docs/broker-config.md, docs/security.md).</summary>
internal static class SaslConfig
{
    public static List<string> Mechanisms(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToUpperInvariant()).ToList();
        foreach (var n in names)
            if (!SaslMechanisms.Supported.Contains(n))
                throw new BrokerConfigException("sasl.enabled.mechanisms", $"sasl.enabled.mechanisms: '{n}' is not supported; Samsa serves {string.Join(", ", SaslMechanisms.Supported)} (not GSSAPI or OAUTHBEARER yet).");
        return names;
    }

    /// <summary>
    /// sasl.scram.users=user:password,...: each password is salted and hashed at once for both
    /// SCRAM mechanisms (4096 iterations, a random salt each); only StoredKey and ServerKey are kept.
    /// </summary>
    public static ScramCredentialStore ScramUsers(ScramCredentialStore? existing, string value)
    {
        var store = existing ?? new ScramCredentialStore();
        foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == pair.Length - 1)
                throw new BrokerConfigException("sasl.scram.users", "sasl.scram.users: expected user:password pairs separated by commas.");
            foreach (var hash in ScramHash.All)
                store.Set(hash, pair[..colon], hash.CreateCredential(pair[(colon + 1)..]));
        }
        return store;
    }

    public static int Size(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new BrokerConfigException(key, $"{key}: '{value}' is not a positive number of bytes.");

    public static TimeSpan Delay(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            ? TimeSpan.FromMilliseconds(n)
            : throw new BrokerConfigException(key, $"{key}: '{value}' is not a number of milliseconds (0 or more).");
}
