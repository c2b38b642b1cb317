namespace Samsa.Broker.Security;

/// <summary>A listener's security protocol, as Kafka names them in listener.security.protocol.map.</summary>
public enum SecurityProtocol
{
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

public static class SecurityProtocols
{
    /// <summary>PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (any case).</summary>
    public static bool TryParse(string name, out SecurityProtocol protocol)
    {
        switch (name.Trim().ToUpperInvariant())
        {
            case "PLAINTEXT":
                protocol = SecurityProtocol.Plaintext;
                return true;
            case "SSL":
                protocol = SecurityProtocol.Ssl;
                return true;
            case "SASL_PLAINTEXT":
                protocol = SecurityProtocol.SaslPlaintext;
                return true;
            case "SASL_SSL":
                protocol = SecurityProtocol.SaslSsl;
                return true;
            default:
                protocol = default;
                return false;
        }
    }

    /// <summary>Kafka's name of the protocol.</summary>
    public static string KafkaName(this SecurityProtocol protocol) => protocol switch
    {
        SecurityProtocol.Plaintext => "PLAINTEXT",
        SecurityProtocol.Ssl => "SSL",
        SecurityProtocol.SaslPlaintext => "SASL_PLAINTEXT",
        SecurityProtocol.SaslSsl => "SASL_SSL",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
    };

    public static bool UsesTls(this SecurityProtocol protocol) => protocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl;

    public static bool UsesSasl(this SecurityProtocol protocol) => protocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl;
}
