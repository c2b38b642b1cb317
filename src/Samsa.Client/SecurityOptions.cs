namespace Samsa.Client;

/// <summary>security.protocol: how the client talks to brokers.</summary>
public enum SecurityProtocol
{
    /// <summary>PLAINTEXT: no encryption, no authentication.</summary>
    Plaintext,

    /// <summary>SSL: TLS, and a client certificate when the broker asks for one (mTLS).</summary>
    Ssl,

    /// <summary>SASL_PLAINTEXT: SASL authentication over an unencrypted connection.</summary>
    SaslPlaintext,

    /// <summary>SASL_SSL: SASL authentication over TLS.</summary>
    SaslSsl,
}

/// <summary>
/// How the client connects and proves who it is, with Kafka's property names (Java's and, where
/// they differ, librdkafka's): security.protocol; TLS trust (ssl.truststore.location or
/// ssl.ca.location, PEM; PKCS12 truststores with ssl.truststore.password), the client certificate
/// for mTLS (ssl.keystore.location as PKCS12 or PEM key + chain, or ssl.certificate.location with
/// ssl.key.location), ssl.endpoint.identification.algorithm; SASL with sasl.mechanism (PLAIN,
/// SCRAM-SHA-256, SCRAM-SHA-512) and sasl.username/sasl.password or a sasl.jaas.config login module.
/// Shared by the consumer, producer, share consumer and admin options as their <c>Security</c>.
/// </summary>
public sealed record SecurityOptions
{
    /// <summary>The default: plain text, no authentication.</summary>
    public static SecurityOptions Plaintext { get; } = new();

    /// <summary>security.protocol.</summary>
    public SecurityProtocol SecurityProtocol { get; init; } = SecurityProtocol.Plaintext;

    /// <summary>ssl.truststore.location / ssl.ca.location: CA certificates (PEM, or PKCS12) the broker's must chain to; null: the system's.</summary>
    public string? SslTruststoreLocation { get; init; }

    /// <summary>ssl.truststore.certificates / ssl.ca.pem: the CA certificates inline, PEM.</summary>
    public string? SslTruststoreCertificates { get; init; }

    /// <summary>ssl.truststore.password: for a PKCS12 truststore.</summary>
    public string? SslTruststorePassword { get; init; }

    /// <summary>ssl.keystore.location: the client's certificate and key, PKCS12 (with ssl.keystore.password) or a PEM file with both.</summary>
    public string? SslKeystoreLocation { get; init; }

    /// <summary>ssl.keystore.password: for a PKCS12 keystore.</summary>
    public string? SslKeystorePassword { get; init; }

    /// <summary>ssl.certificate.location (librdkafka): the client's certificate chain, PEM; with <see cref="SslKeyLocation"/>.</summary>
    public string? SslCertificateLocation { get; init; }

    /// <summary>ssl.key.location (librdkafka): the client's private key, PEM.</summary>
    public string? SslKeyLocation { get; init; }

    /// <summary>ssl.key.password: for an encrypted PEM key.</summary>
    public string? SslKeyPassword { get; init; }

    /// <summary>ssl.endpoint.identification.algorithm: "https" (the default) checks that the broker's certificate names the host connected to; "" or "none" does not.</summary>
    public string SslEndpointIdentificationAlgorithm { get; init; } = "https";

    /// <summary>sasl.mechanism: PLAIN (the default, as Kafka's), SCRAM-SHA-256 or SCRAM-SHA-512.</summary>
    public string SaslMechanism { get; init; } = "PLAIN";

    /// <summary>sasl.username (librdkafka), or username= of sasl.jaas.config.</summary>
    public string? SaslUsername { get; init; }

    /// <summary>sasl.password (librdkafka), or password= of sasl.jaas.config.</summary>
    public string? SaslPassword { get; init; }

    internal bool UsesTls => SecurityProtocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl;

    internal bool UsesSasl => SecurityProtocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl;

    /// <summary>The keys <see cref="TryApply"/> reads.</summary>
    public static IReadOnlyCollection<string> KnownKeys { get; } =
    [
        "security.protocol", "ssl.truststore.location", "ssl.ca.location", "ssl.truststore.certificates", "ssl.ca.pem", "ssl.truststore.password",
        "ssl.truststore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.type", "ssl.certificate.location", "ssl.key.location",
        "ssl.key.password", "ssl.endpoint.identification.algorithm", "sasl.mechanism", "sasl.mechanisms", "sasl.username", "sasl.password", "sasl.jaas.config",
    ];

    /// <summary>Applies one Kafka-style security setting; false for keys that are not about security.</summary>
    public static bool TryApply(SecurityOptions options, string key, string value, out SecurityOptions result)
    {
        ArgumentNullException.ThrowIfNull(options);
        result = key switch
        {
            "security.protocol" => options with { SecurityProtocol = ParseProtocol(key, value) },
            "ssl.truststore.location" or "ssl.ca.location" => options with { SslTruststoreLocation = value },
            "ssl.truststore.certificates" or "ssl.ca.pem" => options with { SslTruststoreCertificates = value },
            "ssl.truststore.password" => options with { SslTruststorePassword = value },
            "ssl.truststore.type" or "ssl.keystore.type" => value.ToUpperInvariant() is "PEM" or "PKCS12"
                ? options
                : throw new Consumer.KafkaConfigException(key, $"{key}: '{value}' is not PEM or PKCS12 (JKS is not read; convert it with keytool -importkeystore -deststoretype PKCS12)."),
            "ssl.keystore.location" => options with { SslKeystoreLocation = value },
            "ssl.keystore.password" => options with { SslKeystorePassword = value },
            "ssl.certificate.location" => options with { SslCertificateLocation = value },
            "ssl.key.location" => options with { SslKeyLocation = value },
            "ssl.key.password" => options with { SslKeyPassword = value },
            "ssl.endpoint.identification.algorithm" => value.ToLowerInvariant() is "https" or "" or "none"
                ? options with { SslEndpointIdentificationAlgorithm = value.ToLowerInvariant() }
                : throw new Consumer.KafkaConfigException(key, $"{key}: '{value}' is not https or empty."),
            "sasl.mechanism" or "sasl.mechanisms" => options with { SaslMechanism = ParseMechanism(key, value) },
            "sasl.username" => options with { SaslUsername = value },
            "sasl.password" => options with { SaslPassword = value },
            "sasl.jaas.config" => FromJaas(options, key, value),
            _ => null!,
        };
        return result is not null;
    }

    /// <summary>Checks the settings together; names the key that is missing.</summary>
    public SecurityOptions Validate()
    {
        if (UsesSasl && (string.IsNullOrEmpty(SaslUsername) || SaslPassword is null))
            throw new Consumer.KafkaConfigException("sasl.username", $"security.protocol={Name(SecurityProtocol)} needs sasl.username and sasl.password (or sasl.jaas.config).");
        if ((SslCertificateLocation is null) != (SslKeyLocation is null))
            throw new Consumer.KafkaConfigException(SslCertificateLocation is null ? "ssl.certificate.location" : "ssl.key.location", "ssl.certificate.location and ssl.key.location go together.");
        return this;
    }

    internal static string Name(SecurityProtocol protocol) => protocol switch
    {
        SecurityProtocol.Ssl => "SSL",
        SecurityProtocol.SaslPlaintext => "SASL_PLAINTEXT",
        SecurityProtocol.SaslSsl => "SASL_SSL",
        _ => "PLAINTEXT",
    };

    private static SecurityProtocol ParseProtocol(string key, string value) => value.Trim().ToUpperInvariant() switch
    {
        "PLAINTEXT" => SecurityProtocol.Plaintext,
        "SSL" => SecurityProtocol.Ssl,
        "SASL_PLAINTEXT" => SecurityProtocol.SaslPlaintext,
        "SASL_SSL" => SecurityProtocol.SaslSsl,
        _ => throw new Consumer.KafkaConfigException(key, $"{key}: '{value}' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."),
    };

    private static string ParseMechanism(string key, string value) => value.Trim().ToUpperInvariant() switch
    {
        "PLAIN" => "PLAIN",
        "SCRAM-SHA-256" => "SCRAM-SHA-256",
        "SCRAM-SHA-512" => "SCRAM-SHA-512",
        var other => throw new Consumer.KafkaConfigException(key, $"{key}: {other} is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; not GSSAPI or OAUTHBEARER)."),
    };

    /// <summary>Java clients write credentials as <c>...PlainLoginModule required username="u" password="p";</c> (or ScramLoginModule).</summary>
    private static SecurityOptions FromJaas(SecurityOptions options, string key, string value)
    {
        string? Option(string name)
        {
            var match = System.Text.RegularExpressions.Regex.Match(value, name + @"\s*=\s*(?:""((?:\\.|[^""\\])*)""|([^\s;""]+))");
            return match.Success ? (match.Groups[1].Success ? System.Text.RegularExpressions.Regex.Unescape(match.Groups[1].Value) : match.Groups[2].Value) : null;
        }
        if (!value.Contains("PlainLoginModule", StringComparison.Ordinal) && !value.Contains("ScramLoginModule", StringComparison.Ordinal))
            throw new Consumer.KafkaConfigException(key, $"{key}: only PlainLoginModule and ScramLoginModule are supported.");
        return options with
        {
            SaslUsername = Option("username") ?? throw new Consumer.KafkaConfigException(key, $"{key}: no username=\"...\"."),
            SaslPassword = Option("password") ?? throw new Consumer.KafkaConfigException(key, $"{key}: no password=\"...\"."),
        };
    }
}
