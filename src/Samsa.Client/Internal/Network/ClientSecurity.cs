using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Samsa.Client.Consumer;
using Samsa.Client.Errors;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Sasl;

namespace Samsa.Client.Internal.Network;

/// <summary>
/// A client's <see cref="SecurityOptions"/> made ready once: the CA certificates and the client
/// certificate read from their files, so that each connection only runs its TLS handshake and its
/// SASL exchange. The connection's plaintext path does not come here at all.
/// </summary>
internal sealed class ClientSecurity
{
    private readonly SecurityOptions _options;
    private readonly X509Certificate2Collection? _trust;
    private readonly X509Certificate2Collection? _clientCertificates;

    public ClientSecurity(SecurityOptions options)
    {
        _options = options.Validate();
        if (options.UsesTls)
        {
            _trust = LoadTrust(options);
            _clientCertificates = LoadClientCertificate(options);
        }
    }

    /// <summary>Null for plaintext, so the connection's plain path never consults security at all.</summary>
    public static ClientSecurity? For(SecurityOptions options) =>
        options.SecurityProtocol == SecurityProtocol.Plaintext ? null : new ClientSecurity(options);

    public bool UsesTls => _options.UsesTls;

    public bool UsesSasl => _options.UsesSasl;

    /// <summary>TLS over the connected stream; a refused handshake is an <see cref="SslAuthenticationException"/>.</summary>
    public async Task<SslStream> HandshakeAsync(Stream inner, string host, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        bool checkName = _options.SslEndpointIdentificationAlgorithm == "https";
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            ClientCertificates = _clientCertificates,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(certificate, chain, errors, checkName),
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new SslAuthenticationException($"TLS handshake with {host} failed: {e.Message} (check ssl.truststore.location / ssl.ca.location{(checkName ? ", and that the broker's certificate names this host or set ssl.endpoint.identification.algorithm=" : "")}).", e);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, bool checkName)
    {
        if (certificate is null)
            return false;
        if (checkName && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return false;
        if (_trust is null)
            return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trust);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    /// <summary>
    /// SaslHandshake v1 and SaslAuthenticate steps on a connection that negotiated its versions.
    /// Returns the session lifetime the broker gave (KIP-368), zero for none.
    /// </summary>
    public async Task<TimeSpan> AuthenticateAsync(BrokerConnection connection, CancellationToken cancellationToken)
    {
        string mechanism = _options.SaslMechanism;
        if (!connection.TryGetVersion(ApiKey.SaslAuthenticate, out short version) || !connection.TryGetVersion(ApiKey.SaslHandshake, out short handshakeVersion) || handshakeVersion < 1)
            throw new SaslAuthenticationException(ErrorCode.UnsupportedVersion, $"{connection.Endpoint} does not offer SaslHandshake v1 with SaslAuthenticate (a broker before Kafka 1.0).");
        var handshake = await connection.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = mechanism }, handshakeVersion, cancellationToken).ConfigureAwait(false);
        if (handshake.ErrorCode != ErrorCode.None)
            throw new SaslAuthenticationException(handshake.ErrorCode,
                $"{connection.Endpoint} does not enable SASL mechanism {mechanism} ({handshake.ErrorCode}; it offers {string.Join(", ", handshake.Mechanisms)}): set sasl.mechanism to one of them.");
        string user = _options.SaslUsername!, password = _options.SaslPassword!;
        SaslAuthenticateResponse response;
        if (mechanism == "PLAIN")
        {
            response = await Step(Encoding.UTF8.GetBytes($"\0{user}\0{password}")).ConfigureAwait(false);
        }
        else
        {
            var scram = new ScramClient(mechanism == "SCRAM-SHA-512" ? ScramAlgorithm.Sha512 : ScramAlgorithm.Sha256, user, password);
            var first = await Step(scram.First()).ConfigureAwait(false);
            byte[] final;
            try
            {
                final = scram.Final(first.AuthBytes);
            }
            catch (FormatException e)
            {
                throw new SaslAuthenticationException($"{connection.Endpoint}: {e.Message}", e);
            }
            response = await Step(final).ConfigureAwait(false);
            try
            {
                scram.Verify(response.AuthBytes);
            }
            catch (Exception e) when (e is FormatException or ScramServerErrorException)
            {
                throw new SaslAuthenticationException($"{connection.Endpoint}: {e.Message}", e);
            }
        }
        return TimeSpan.FromMilliseconds(response.SessionLifetimeMs);

        async Task<SaslAuthenticateResponse> Step(byte[] token)
        {
            var r = await connection.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = token }, version, cancellationToken).ConfigureAwait(false);
            if (r.ErrorCode != ErrorCode.None)
                throw new SaslAuthenticationException(r.ErrorCode, $"{connection.Endpoint} refused {mechanism} authentication as '{user}': {r.ErrorMessage ?? r.ErrorCode.ToString()}.");
            return r;
        }
    }

    private static X509Certificate2Collection? LoadTrust(SecurityOptions o)
    {
        string? text = o.SslTruststoreCertificates;
        if (text is null && o.SslTruststoreLocation is { } path)
        {
            if (path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase))
                return Read("ssl.truststore.location", () => X509CertificateLoader.LoadPkcs12CollectionFromFile(path, o.SslTruststorePassword));
            text = Read("ssl.truststore.location", () => File.ReadAllText(path));
        }
        if (text is null)
            return null;
        var trust = new X509Certificate2Collection();
        trust.ImportFromPem(text);
        if (trust.Count == 0)
            throw new KafkaConfigException("ssl.truststore.location", "ssl.truststore.location / ssl.ca.location: no PEM certificate found.");
        return trust;
    }

    private static X509Certificate2Collection? LoadClientCertificate(SecurityOptions o)
    {
        if (o.SslCertificateLocation is { } certPath && o.SslKeyLocation is { } keyPath)
        {
            string cert = Read("ssl.certificate.location", () => File.ReadAllText(certPath));
            string key = Read("ssl.key.location", () => File.ReadAllText(keyPath));
            return Chain(cert, key, o.SslKeyPassword, "ssl.key.location");
        }
        if (o.SslKeystoreLocation is not { } keystore)
            return null;
        if (keystore.EndsWith(".p12", StringComparison.OrdinalIgnoreCase) || keystore.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase))
        {
            var all = Read("ssl.keystore.location", () => X509CertificateLoader.LoadPkcs12CollectionFromFile(keystore, o.SslKeystorePassword));
            // The certificate with the key goes first: it is the one SslStream presents.
            var ordered = new X509Certificate2Collection();
            ordered.AddRange(all.Where(c => c.HasPrivateKey).ToArray());
            ordered.AddRange(all.Where(c => !c.HasPrivateKey).ToArray());
            return ordered;
        }
        string pem = Read("ssl.keystore.location", () => File.ReadAllText(keystore));
        return Chain(pem, pem, o.SslKeyPassword, "ssl.keystore.location");
    }

    private static X509Certificate2Collection Chain(string certificates, string key, string? password, string keyKey)
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(certificates);
        if (chain.Count == 0)
            throw new KafkaConfigException(keyKey, $"{keyKey}: no PEM certificate found.");
        string leafPem = chain[0].ExportCertificatePem();
        var leaf = Read(keyKey, () => key.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromEncryptedPem(leafPem, key, password ?? throw new KafkaConfigException("ssl.key.password", "The key is encrypted: set ssl.key.password."))
            : X509Certificate2.CreateFromPem(leafPem, key));
        // SslStream on Linux presents an ephemeral PEM key reliably once it went through PKCS12.
        var usable = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        var result = new X509Certificate2Collection(usable);
        for (int i = 1; i < chain.Count; i++)
            result.Add(chain[i]);
        return result;
    }

    private static T Read<T>(string key, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new KafkaConfigException(key, $"{key}: {e.Message}");
        }
    }
}
