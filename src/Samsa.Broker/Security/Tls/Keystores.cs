using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security.Sasl;

namespace Samsa.Broker.Security.Tls;

/// <summary>
/// Kafka's keystore and truststore settings read into certificates: PEM (a file with the key and
/// the chain, or ssl.keystore.key / ssl.keystore.certificate.chain inline, the key optionally
/// encrypted with ssl.key.password) and PKCS12 (ssl.keystore.location + ssl.keystore.password).
/// JKS is not read; keytool converts it to PKCS12.
/// </summary>
internal static class Keystores
{
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadKeystore(ListenerSettings s)
    {
        var type = s.Get("ssl.keystore.type");
        var location = s.Get("ssl.keystore.location");
        var inlineKey = s.Get("ssl.keystore.key");
        string kind = type?.Value.Trim().ToUpperInvariant()
            ?? (location is var (_, path) && (path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase)) ? "PKCS12" : "PEM");
        if (kind == "PKCS12")
        {
            if (location is not var (key, file))
                throw Error(s, "ssl.keystore.location", "a PKCS12 keystore needs ssl.keystore.location");
            var password = s.Get("ssl.keystore.password")?.Value;
            X509Certificate2Collection all;
            try
            {
                all = Pkcs12(file, password, s.Get("ssl.key.password")?.Value);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new BrokerConfigException(key, $"{key}: cannot read the PKCS12 keystore '{file}' ({e.Message}); check the file and ssl.keystore.password.");
            }
            var leaf = all.FirstOrDefault(c => c.HasPrivateKey) ?? throw new BrokerConfigException(key, $"{key}: '{file}' holds no private key.");
            var chain = new X509Certificate2Collection();
            foreach (var c in all)
            {
                if (!ReferenceEquals(c, leaf))
                    chain.Add(c);
            }
            return (leaf, chain);
        }

        string text, where;
        if (inlineKey is var (keyKey, keyText))
        {
            var chainSetting = s.Get("ssl.keystore.certificate.chain") ?? throw Error(s, "ssl.keystore.certificate.chain", "ssl.keystore.key needs ssl.keystore.certificate.chain");
            text = keyText + "\n" + chainSetting.Value;
            where = keyKey;
        }
        else if (location is var (locationKey, file))
        {
            text = ReadFile(locationKey, file);
            where = locationKey;
        }
        else
        {
            throw Error(s, "ssl.keystore.location", $"listener {s.Listener} uses TLS and needs a certificate: set ssl.keystore.location (PEM or PKCS12) or ssl.keystore.key with ssl.keystore.certificate.chain");
        }
        var blocks = Pem.Blocks(text);
        var certificates = blocks.Where(b => b.Label == "CERTIFICATE").Select(b => b.Text).ToList();
        var privateKey = blocks.FirstOrDefault(b => b.Label.EndsWith("PRIVATE KEY", StringComparison.Ordinal));
        if (certificates.Count == 0)
            throw new BrokerConfigException(where, $"{where}: no PEM certificate found.");
        if (privateKey.Text is null)
            throw new BrokerConfigException(where, $"{where}: no PEM private key found.");
        X509Certificate2 certificate;
        try
        {
            certificate = privateKey.Label == "ENCRYPTED PRIVATE KEY"
                ? X509Certificate2.CreateFromEncryptedPem(certificates[0], privateKey.Text, s.Get("ssl.key.password")?.Value ?? throw Error(s, "ssl.key.password", "the PEM key is encrypted: set ssl.key.password"))
                : X509Certificate2.CreateFromPem(certificates[0], privateKey.Text);
        }
        catch (CryptographicException e)
        {
            throw new BrokerConfigException(where, $"{where}: the key and the first certificate do not load together ({e.Message}); the first certificate must be the listener's own, and ssl.key.password must fit.");
        }
        var rest = new X509Certificate2Collection();
        foreach (var pem in certificates.Skip(1))
            rest.Add(X509Certificate2.CreateFromPem(pem));
        return (certificate, rest);
    }

    /// <summary>The CA certificates client certificates must chain to; null for the system's trust.</summary>
    public static X509Certificate2Collection? LoadTruststore(ListenerSettings s)
    {
        var location = s.Get("ssl.truststore.location");
        var inline = s.Get("ssl.truststore.certificates");
        var type = s.Get("ssl.truststore.type")?.Value.Trim().ToUpperInvariant();
        if (location is null && inline is null)
            return null;
        if (type == "PKCS12" || (type is null && location is var (_, p) && (p.EndsWith(".p12", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase))))
        {
            if (location is not var (key, file))
                throw Error(s, "ssl.truststore.location", "a PKCS12 truststore needs ssl.truststore.location");
            try
            {
                return Pkcs12(file, s.Get("ssl.truststore.password")?.Value, null);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new BrokerConfigException(key, $"{key}: cannot read the PKCS12 truststore '{file}' ({e.Message}).");
            }
        }
        var (where, text) = inline is var (inlineKey, inlineText) ? (inlineKey, inlineText) : (location!.Value.Key, ReadFile(location.Value.Key, location.Value.Value));
        var trust = new X509Certificate2Collection();
        foreach (var block in Pem.Blocks(text).Where(b => b.Label == "CERTIFICATE"))
            trust.Add(X509Certificate2.CreateFromPem(block.Text));
        if (trust.Count == 0)
            throw new BrokerConfigException(where, $"{where}: no PEM certificate found.");
        return trust;
    }

    private static X509Certificate2Collection Pkcs12(string file, string? password, string? keyPassword)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12CollectionFromFile(file, password);
        }
        catch (CryptographicException) when (keyPassword is not null && keyPassword != password)
        {
            return X509CertificateLoader.LoadPkcs12CollectionFromFile(file, keyPassword);
        }
    }

    private static string ReadFile(string key, string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigException(key, $"{key}: cannot read '{file}': {e.Message}");
        }
    }

    private static BrokerConfigException Error(ListenerSettings s, string key, string message)
    {
        string name = $"listener.name.{s.Listener.ToLowerInvariant()}.{key}";
        return new BrokerConfigException(key, $"{key} (or {name}): {message}.");
    }
}

/// <summary>PEM blocks of a text, in order, with their labels.</summary>
internal static class Pem
{
    public static List<(string Label, string Text)> Blocks(string text)
    {
        var blocks = new List<(string, string)>();
        var rest = text.AsSpan();
        int offset = 0;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            blocks.Add((rest[fields.Label].ToString(), rest[fields.Location].ToString()));
            offset = fields.Location.End.Value;
            rest = rest[offset..];
        }
        return blocks;
    }
}
