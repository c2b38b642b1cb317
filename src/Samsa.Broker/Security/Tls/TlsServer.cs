using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security.Sasl;

namespace Samsa.Broker.Security.Tls;

/// <summary>ssl.client.auth: whether the listener asks for client certificates, and whether it insists.</summary>
internal enum ClientAuth
{
    None,
    Requested,
    Required,
}

/// <summary>
/// A TLS listener's server side, built once from its ssl.* settings: the certificate and chain it
/// presents, the trust client certificates are checked against, ssl.client.auth and the mapping
/// from a client certificate's subject to a principal. Every connection shares the one
/// <see cref="SslServerAuthenticationOptions"/>.
/// </summary>
internal sealed class TlsServer
{
    private readonly X509Certificate2Collection? _trust;
    private readonly SslPrincipalMapper _mapper;

    private TlsServer(X509Certificate2 certificate, X509Certificate2Collection chain, X509Certificate2Collection? trust, ClientAuth clientAuth, SslPrincipalMapper mapper, SslProtocols protocols)
    {
        Certificate = certificate;
        _trust = trust;
        ClientAuth = clientAuth;
        _mapper = mapper;
        Options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(certificate, chain, offline: true),
            ClientCertificateRequired = clientAuth != ClientAuth.None,
            RemoteCertificateValidationCallback = ValidateClient,
            EnabledSslProtocols = protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
    }

    public X509Certificate2 Certificate { get; }

    public ClientAuth ClientAuth { get; }

    public SslServerAuthenticationOptions Options { get; }

    /// <summary>
    /// Kafka's default principal builder for SSL: the client certificate's subject through
    /// ssl.principal.mapping.rules, ANONYMOUS without one. Null when no rule maps it (the
    /// connection is refused, as Kafka does).
    /// </summary>
    public KafkaPrincipal? PrincipalOf(X509Certificate? client)
    {
        if (client is null)
            return KafkaPrincipal.Anonymous;
        string dn = DistinguishedName.Format(client.SubjectName());
        return _mapper.Map(dn) is { } name ? KafkaPrincipal.User(name) : null;
    }

    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
            return ClientAuth != ClientAuth.Required;
        if (_trust is null)
            return errors == SslPolicyErrors.None;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trust);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }

    /// <summary>Reads the listener's keystore and truststore; a missing or unreadable one is an error naming its key.</summary>
    public static TlsServer Build(ListenerSettings settings)
    {
        var (certificate, chain) = Keystores.LoadKeystore(settings);
        var trust = Keystores.LoadTruststore(settings);
        var clientAuth = settings.Get("ssl.client.auth")?.Value.Trim().ToLowerInvariant() switch
        {
            "required" => ClientAuth.Required,
            "requested" => ClientAuth.Requested,
            _ => ClientAuth.None,
        };
        var mapper = settings.Get("ssl.principal.mapping.rules") is var (_, rules) ? new SslPrincipalMapper(rules) : SslPrincipalMapper.Default;
        var protocols = SslProtocols.None;
        if (settings.Get("ssl.enabled.protocols") is var (_, list))
        {
            foreach (var p in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                protocols |= p == "TLSv1.3" ? SslProtocols.Tls13 : SslProtocols.Tls12;
        }
        else
        {
            protocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        }
        return new TlsServer(certificate, chain, trust, clientAuth, mapper, protocols);
    }
}

internal static class CertificateExtensions
{
    public static X500DistinguishedName SubjectName(this X509Certificate certificate) =>
        certificate is X509Certificate2 c2 ? c2.SubjectName : new X500DistinguishedName(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()).SubjectName);
}
