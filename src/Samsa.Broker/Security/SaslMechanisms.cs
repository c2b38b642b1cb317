using Samsa.Broker.Configuration;

namespace Samsa.Broker.Security;

/// <summary>
/// The mechanisms a listener offers, built once from the broker's settings. Empty means the
/// listener does not authenticate at all.
/// </summary>
public sealed class SaslMechanisms
{
    private readonly Dictionary<string, ISaslMechanism> _byName;

    private SaslMechanisms(IEnumerable<ISaslMechanism> mechanisms)
    {
        Enabled = [.. mechanisms];
        _byName = Enabled.ToDictionary(m => m.Name, StringComparer.Ordinal);
        Names = [.. Enabled.Select(m => m.Name)];
    }

    public IReadOnlyList<ISaslMechanism> Enabled { get; }

    /// <summary>What SaslHandshake lists.</summary>
    public List<string> Names { get; }

    public bool RequireAuthentication => Enabled.Count > 0;

    public ISaslMechanism? Find(string name) => _byName.GetValueOrDefault(name);

    public static readonly IReadOnlyList<string> Supported = [PlainMechanism.MechanismName, ScramHash.Sha256.Mechanism, ScramHash.Sha512.Mechanism];

    /// <summary>Builds the mechanisms from the options; a mechanism that cannot work is an error naming sasl.enabled.mechanisms.</summary>
    public static SaslMechanisms Create(BrokerOptions options)
    {
        var names = options.SaslEnabledMechanisms ?? Defaults(options);
        var mechanisms = new List<ISaslMechanism>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (name == PlainMechanism.MechanismName)
            {
                if (options.SaslPlainUsers is null)
                    throw new BrokerConfigException("sasl.enabled.mechanisms", "sasl.enabled.mechanisms: PLAIN needs users (sasl.plain.users or a PlainLoginModule JAAS config).");
                mechanisms.Add(new PlainMechanism(options.SaslPlainUsers));
            }
            else if (ScramHash.ForMechanism(name) is { } hash)
                mechanisms.Add(new ScramMechanism(hash, options.ScramCredentials ?? new ScramCredentialStore()));
            else
                throw new BrokerConfigException("sasl.enabled.mechanisms", $"sasl.enabled.mechanisms: '{name}' is not supported; Samsa serves {string.Join(", ", Supported)} (not GSSAPI or OAUTHBEARER yet).");
        }
        return new SaslMechanisms(mechanisms);
    }

    private static List<string> Defaults(BrokerOptions options)
    {
        var names = new List<string>();
        if (options.SaslPlainUsers is not null)
            names.Add(PlainMechanism.MechanismName);
        if (options.ScramCredentials is not null)
            names.AddRange(ScramHash.All.Select(h => h.Mechanism));
        return names;
    }
}
