using Samsa.Broker.Configuration;
using Samsa.Protocol.Sasl;

namespace Samsa.Broker.Security.Sasl;

/// <summary>
/// A SASL listener's server side: its enabled mechanisms, its PLAIN users, the SCRAM store, and
/// the timings of KIP-368 and KIP-306. Builds one <see cref="ISaslAuthenticator"/> per
/// authentication; a <see cref="SaslServerSession"/> per connection drives it.
/// </summary>
internal sealed class SaslListener
{
    private readonly IReadOnlyDictionary<string, string> _plainUsers;
    private readonly ScramCredentialStore _store;

    private SaslListener(IReadOnlyList<string> mechanisms, IReadOnlyDictionary<string, string> plainUsers, ScramCredentialStore store, BrokerOptions options)
    {
        Mechanisms = mechanisms;
        _plainUsers = plainUsers;
        _store = store;
        SessionLifetime = options.ConnectionsMaxReauth;
        FailedAuthenticationDelay = options.FailedAuthenticationDelay;
        MaxReceiveSize = options.SaslServerMaxReceiveSize;
        Time = options.TimeProvider;
    }

    public IReadOnlyList<string> Mechanisms { get; }

    public TimeSpan SessionLifetime { get; }

    public TimeSpan FailedAuthenticationDelay { get; }

    public int MaxReceiveSize { get; }

    public TimeProvider Time { get; }

    public IReadOnlyDictionary<string, string> PlainUsers => _plainUsers;

    public ISaslAuthenticator Start(string mechanism) => mechanism switch
    {
        SaslMechanisms.Plain => new PlainAuthenticator(_plainUsers),
        SaslMechanisms.ScramSha256 => new ScramAuthenticator(ScramAlgorithm.Sha256, _store),
        SaslMechanisms.ScramSha512 => new ScramAuthenticator(ScramAlgorithm.Sha512, _store),
        _ => throw new InvalidOperationException($"{mechanism} is not enabled."),
    };

    /// <summary>
    /// PLAIN users: listener.name.&lt;l&gt;.plain.sasl.jaas.config, else sasl.jaas.config, plus
    /// sasl.plain.users. Mechanisms: listener.name.&lt;l&gt;.sasl.enabled.mechanisms, else
    /// sasl.enabled.mechanisms, else both SCRAMs and, with users, PLAIN.
    /// </summary>
    public static SaslListener Build(string listener, BrokerOptions options, ScramCredentialStore store)
    {
        var settings = new ListenerSettings(listener, options.SecuritySettings);
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.SaslPlainUsers is { } legacy)
        {
            foreach (var (user, password) in legacy)
                users[user] = password;
        }
        if (settings.Get("plain.sasl.jaas.config", "sasl.jaas.config") is var (jaasKey, jaas))
        {
            foreach (var module in JaasModule.Parse(jaas))
            {
                if (module.LoginModule == JaasModule.PlainLoginModule)
                {
                    foreach (var (user, password) in module.PlainUsers())
                        users[user] = password;
                }
                else if (module.LoginModule != JaasModule.ScramLoginModule)
                {
                    throw new BrokerConfigException(jaasKey, $"{jaasKey}: login module {module.LoginModule} is not supported (PlainLoginModule and ScramLoginModule are).");
                }
            }
        }
        List<string> mechanisms;
        if (settings.Get("sasl.enabled.mechanisms") is var (mechanismsKey, list))
        {
            mechanisms = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(m => SaslMechanisms.Parse(m)!).Distinct().ToList();
            if (mechanisms.Count == 0)
                throw new BrokerConfigException(mechanismsKey, $"{mechanismsKey}: listener {listener} is SASL but enables no mechanism.");
            if (mechanisms.Contains(SaslMechanisms.Plain) && users.Count == 0)
                throw new BrokerConfigException(mechanismsKey,
                    $"{mechanismsKey}: PLAIN is enabled on listener {listener} but it has no users; set listener.name.{listener.ToLowerInvariant()}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_NAME=\"PASSWORD\";");
        }
        else
        {
            mechanisms = users.Count > 0 ? [SaslMechanisms.Plain, SaslMechanisms.ScramSha256, SaslMechanisms.ScramSha512] : [SaslMechanisms.ScramSha256, SaslMechanisms.ScramSha512];
        }
        return new SaslListener(mechanisms, users, store, options);
    }
}

/// <summary>A listener's view of the security settings: listener.name.&lt;listener&gt;.&lt;key&gt; wins over &lt;key&gt;, as in Kafka.</summary>
internal sealed class ListenerSettings(string listener, IReadOnlyDictionary<string, string> all)
{
    private readonly string _prefix = $"listener.name.{listener.ToLowerInvariant()}.";

    public string Listener => listener;

    /// <summary>The first of the keys set, per listener before global; with the key it came from, for errors.</summary>
    public (string Key, string Value)? Get(string key, string? fallback = null)
    {
        if (all.TryGetValue(_prefix + key, out var value))
            return (_prefix + key, value);
        if (fallback is null)
            return all.TryGetValue(key, out value) ? (key, value) : null;
        if (all.TryGetValue(_prefix + fallback, out value))
            return (_prefix + fallback, value);
        return all.TryGetValue(fallback, out value) ? (fallback, value) : null;
    }
}
