using System.Globalization;
using Samsa.Broker.Security;
using Samsa.Broker.Security.Sasl;
using Samsa.Broker.Security.Tls;

namespace Samsa.Broker.Configuration;

/// <summary>
/// The listener and security keys of server.properties (docs/security.md): listeners,
/// advertised.listeners, listener.security.protocol.map, ssl.*, sasl.*, the
/// listener.name.&lt;listener&gt;.* overrides and the authentication timings. Values are checked
/// here, where the key and file line are known; files (keystores) are read when the listeners start.
/// </summary>
internal static class SecurityConfig
{
    internal delegate BrokerOptions Setter(BrokerOptions options, string value);

    public static readonly Dictionary<string, (string Doc, Setter Set)> Keys = new(StringComparer.Ordinal)
    {
        ["listeners"] = ("NAME://host:port, comma-separated: one listener each (a bare host:port: one PLAINTEXT listener, SASL_PLAINTEXT with sasl.plain.users)", SetListeners),
        ["advertised.listeners"] = ("NAME://host:port per listener that Metadata tells its clients (a bare host:port: the first listener)", SetAdvertised),
        ["listener.security.protocol.map"] = ("NAME:PROTOCOL pairs for listener names that are not protocol names", SetProtocolMap),
        ["controller.listener.names"] = ("listeners by these names are the KRaft controller's: a single node runs none, so they are not opened", (o, v) => o with { ControllerListenerNames = [.. Split(v).Select(n => n.ToUpperInvariant())] }),
        ["connections.max.reauth.ms"] = ("SASL session lifetime (KIP-368); 0, the default, for ever", (o, v) => o with { ConnectionsMaxReauth = Ms("connections.max.reauth.ms", v) }),
        ["connection.failed.authentication.delay.ms"] = ("a failed authentication is answered and closed after this", (o, v) => o with { FailedAuthenticationDelay = Ms("connection.failed.authentication.delay.ms", v) }),
        ["sasl.server.max.receive.size"] = ("largest frame a SASL listener reads before authentication", (o, v) => o with { SaslServerMaxReceiveSize = Int("sasl.server.max.receive.size", v, 64) }),
        ["authorizer.class.name"] = ("Kafka's StandardAuthorizer or AclAuthorizer class name, or samsa: check every request against the ACLs (empty, the default: no checks)", SetAuthorizer),
        ["super.users"] = ("principals the authorizer lets do anything, ;-separated (User:admin;User:CN=ops)", SetSuperUsers),
        ["allow.everyone.if.no.acl.found"] = ("with an authorizer: whether a resource no ACL covers is open to everyone (default false)", (o, v) => o with { AllowEveryoneIfNoAclFound = Bool("allow.everyone.if.no.acl.found", v) }),
        ["ssl.handshake.timeout.ms"] = ("Samsa's own: a TLS handshake not finished by then closes the connection", (o, v) => o with { SslHandshakeTimeout = TimeSpan.FromMilliseconds(Int("ssl.handshake.timeout.ms", v, 1)) }),
    };

    /// <summary>Kept as written in <see cref="BrokerOptions.SecuritySettings"/>, globally or under listener.name.&lt;listener&gt;.</summary>
    public static readonly Dictionary<string, (string Doc, Func<string, string?> Check)> Settings = new(StringComparer.Ordinal)
    {
        ["ssl.keystore.type"] = ("PEM or PKCS12 (default: PKCS12 for .p12/.pfx files, else PEM)", v => OneOf(v, "PEM", "PKCS12") ? null : "expected PEM or PKCS12 (convert JKS with keytool -importkeystore -deststoretype PKCS12)"),
        ["ssl.keystore.location"] = ("the listener's key and certificate chain: a PEM file (key first or anywhere) or a PKCS12 file", _ => null),
        ["ssl.keystore.password"] = ("password of a PKCS12 keystore", _ => null),
        ["ssl.key.password"] = ("password of an encrypted PEM key (PKCS12: when it differs from ssl.keystore.password)", _ => null),
        ["ssl.keystore.key"] = ("the private key inline, PEM (with ssl.keystore.type=PEM)", _ => null),
        ["ssl.keystore.certificate.chain"] = ("the certificate chain inline, PEM (with ssl.keystore.key)", _ => null),
        ["ssl.truststore.type"] = ("PEM or PKCS12", v => OneOf(v, "PEM", "PKCS12") ? null : "expected PEM or PKCS12"),
        ["ssl.truststore.location"] = ("CA certificates client certificates are checked against (default: the system's)", _ => null),
        ["ssl.truststore.password"] = ("password of a PKCS12 truststore", _ => null),
        ["ssl.truststore.certificates"] = ("the trusted CA certificates inline, PEM", _ => null),
        ["ssl.client.auth"] = ("required, requested or none (the default): whether clients present certificates (mTLS)", v => OneOf(v, "required", "requested", "none") ? null : "expected required, requested or none"),
        ["ssl.principal.mapping.rules"] = ("DEFAULT and RULE:pattern/replacement/[LU] rules from certificate subject to principal", CheckRules),
        ["ssl.enabled.protocols"] = ("TLSv1.2, TLSv1.3 (both by default)", CheckProtocols),
        ["ssl.protocol"] = ("accepted for compatibility; ssl.enabled.protocols decides", _ => null),
        ["ssl.endpoint.identification.algorithm"] = ("accepted for compatibility (a broker has no outgoing connections to check)", _ => null),
        ["sasl.enabled.mechanisms"] = ("PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (default: SCRAM-SHA-256 and -512, plus PLAIN when PLAIN users are set)", CheckMechanisms),
        ["sasl.jaas.config"] = ("JAAS login modules; PlainLoginModule's user_NAME=\"password\" options are the PLAIN users", CheckJaas),
        ["sasl.mechanism.inter.broker.protocol"] = ("accepted for compatibility (single node, no inter-broker traffic)", _ => null),
        ["inter.broker.listener.name"] = ("accepted for compatibility (single node, no inter-broker traffic)", _ => null),
        ["security.inter.broker.protocol"] = ("accepted for compatibility (single node, no inter-broker traffic)", _ => null),
    };

    private const string ListenerPrefix = "listener.name.";

    /// <summary>Every key this class reads, for BrokerConfig.Documented.</summary>
    public static IEnumerable<(string Key, string Doc)> Documented =>
        Keys.Select(k => (k.Key, k.Value.Doc)).Concat(Settings.Select(s => (s.Key, s.Value.Doc)));

    /// <summary>
    /// ssl.* / sasl.* settings and listener.name.&lt;listener&gt;.&lt;setting&gt; (also
    /// listener.name.&lt;listener&gt;.&lt;mechanism&gt;.sasl.jaas.config); false for keys it does not own.
    /// </summary>
    public static bool TryApply(BrokerOptions options, string key, string value, out BrokerOptions result)
    {
        result = options;
        if (Keys.TryGetValue(key, out var fixedKey))
        {
            result = fixedKey.Set(options, value);
            return true;
        }
        string setting = key;
        if (key.StartsWith(ListenerPrefix, StringComparison.Ordinal))
        {
            int dot = key.IndexOf('.', ListenerPrefix.Length);
            if (dot < 0 || dot == ListenerPrefix.Length)
                return false;
            setting = key[(dot + 1)..];
            if (setting.EndsWith(".sasl.jaas.config", StringComparison.Ordinal))
            {
                string mechanism = setting[..^".sasl.jaas.config".Length];
                if (SaslMechanisms.Parse(mechanism.ToUpperInvariant()) is null)
                    throw new BrokerConfigException(key, $"{key}: '{mechanism}' is not a SASL mechanism Samsa serves ({SaslMechanisms.Supported}).");
                setting = "sasl.jaas.config";
            }
            else if (setting is not ("sasl.enabled.mechanisms" or "sasl.jaas.config") && !setting.StartsWith("ssl.", StringComparison.Ordinal))
            {
                return false;
            }
        }
        if (!Settings.TryGetValue(setting, out var entry))
            return false;
        if (entry.Check(value) is { } problem)
            throw new BrokerConfigException(key, $"{key}: {problem}.");
        var copy = new Dictionary<string, string>(options.SecuritySettings, StringComparer.Ordinal) { [key] = value };
        result = options with { SecuritySettings = copy };
        return true;
    }

    private static BrokerOptions SetListeners(BrokerOptions options, string value)
    {
        // A bare host:port is the one listener of old (and of --listen): PLAINTEXT, or SASL_PLAINTEXT
        // with sasl.plain.users, advertised by a bare advertised.listeners.
        if (!value.Contains("://", StringComparison.Ordinal) && !value.Contains(',', StringComparison.Ordinal))
            return options with { Listeners = null, Listen = BrokerConfig.ParseEndpoint("listeners", value.Trim()) };
        var list = new List<ListenerOptions>();
        foreach (var entry in Split(value))
        {
            var (name, host, port) = ParseListener("listeners", entry, defaultName: "PLAINTEXT");
            if (list.Any(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase)))
                throw new BrokerConfigException("listeners", $"listeners: the name {name} is used twice.");
            if (port != 0 && list.Any(l => l.Port == port))
                throw new BrokerConfigException("listeners", $"listeners: port {port} is used twice.");
            list.Add(new ListenerOptions(name, host, port));
        }
        if (list.Count == 0)
            throw new BrokerConfigException("listeners", "listeners: at least one listener is needed.");
        var first = list[0];
        // Listen stays the first listener's endpoint, for code that asks where the broker binds.
        return options with { Listeners = list, Listen = BrokerConfig.ParseEndpoint("listeners", $"{first.Host}:{first.Port}") };
    }

    private static BrokerOptions SetAuthorizer(BrokerOptions options, string value)
    {
        string name = value.Trim();
        if (name.Length == 0)
            return options with { AclAuthorizer = false };
        if (name == "samsa" || Security.Authorization.AclAuthorizer.KafkaClassNames.Contains(name, StringComparer.Ordinal))
            return options with { AclAuthorizer = true };
        throw new BrokerConfigException("authorizer.class.name", $"authorizer.class.name: '{name}' is not an authorizer Samsa has (use samsa, {string.Join(" or ", Security.Authorization.AclAuthorizer.KafkaClassNames)}).");
    }

    private static BrokerOptions SetSuperUsers(BrokerOptions options, string value)
    {
        var users = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var user in users)
        {
            int colon = user.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == user.Length - 1)
                throw new BrokerConfigException("super.users", $"super.users: '{user}' is not a principal (expected Type:name, e.g. User:admin).");
        }
        return options with { SuperUsers = users };
    }

    private static bool Bool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw new BrokerConfigException(key, $"{key}: expected true or false, got '{value}'."),
    };

    private static BrokerOptions SetAdvertised(BrokerOptions options, string value)
    {
        var entries = Split(value).ToList();
        if (entries.Count == 1 && !entries[0].Contains("://", StringComparison.Ordinal))
        {
            var (_, host, port) = ParseListener("advertised.listeners", entries[0], defaultName: "");
            return options with { AdvertisedHost = host, AdvertisedPort = port };
        }
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            var (name, host, port) = ParseListener("advertised.listeners", entry, defaultName: null);
            if (host.Length == 0)
                throw new BrokerConfigException("advertised.listeners", $"advertised.listeners: {entry} needs a host clients can reach.");
            if (!map.TryAdd(name, $"{host}:{port}"))
                throw new BrokerConfigException("advertised.listeners", $"advertised.listeners: the name {name} is used twice.");
        }
        return options with { AdvertisedListeners = map };
    }

    private static BrokerOptions SetProtocolMap(BrokerOptions options, string value)
    {
        var map = new Dictionary<string, SecurityProtocol>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in Split(value))
        {
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !SecurityProtocols.TryParse(pair[(colon + 1)..], out var protocol))
                throw new BrokerConfigException("listener.security.protocol.map", $"listener.security.protocol.map: expected NAME:PROTOCOL with PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got '{pair}'.");
            map[pair[..colon].Trim()] = protocol;
        }
        return options with { ListenerSecurityProtocolMap = map };
    }

    private static (string Name, string Host, int Port) ParseListener(string key, string entry, string? defaultName)
    {
        string name, rest;
        int scheme = entry.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            name = entry[..scheme].Trim();
            rest = entry[(scheme + 3)..];
        }
        else
        {
            name = defaultName ?? throw new BrokerConfigException(key, $"{key}: expected NAME://host:port, got '{entry}'.");
            rest = entry;
        }
        if (scheme >= 0 && (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
            throw new BrokerConfigException(key, $"{key}: '{name}' is not a listener name (letters, digits and _).");
        int colon = rest.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            throw new BrokerConfigException(key, $"{key}: expected host:port, got '{entry}'.");
        return (name.ToUpperInvariant(), rest[..colon].Trim('[', ']'), port);
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool OneOf(string value, params string[] allowed) => allowed.Contains(value.Trim(), StringComparer.OrdinalIgnoreCase);

    private static string? CheckRules(string value)
    {
        try
        {
            _ = new SslPrincipalMapper(value);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message.TrimEnd('.');
        }
    }

    private static string? CheckProtocols(string value)
    {
        foreach (var p in Split(value))
        {
            if (p is not ("TLSv1.2" or "TLSv1.3"))
                return $"'{p}' is not TLSv1.2 or TLSv1.3 (older versions are not offered)";
        }
        return null;
    }

    private static string? CheckMechanisms(string value)
    {
        foreach (var m in Split(value))
        {
            if (SaslMechanisms.Parse(m) is null)
                return m.ToUpperInvariant() is "GSSAPI" or "OAUTHBEARER"
                    ? $"{m} is not supported by Samsa (use {SaslMechanisms.Supported})"
                    : $"unknown mechanism '{m}' (expected {SaslMechanisms.Supported})";
        }
        return null;
    }

    private static string? CheckJaas(string value)
    {
        try
        {
            _ = JaasModule.Parse(value);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message.TrimEnd('.');
        }
    }

    private static int Int(string key, string value, int min) => BrokerConfig.Int(key, value, min);

    private static TimeSpan Ms(string key, string value) => BrokerConfig.Ms(key, value);
}
