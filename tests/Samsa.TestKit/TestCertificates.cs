using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Samsa.TestKit;

/// <summary>
/// A throw-away PKI made with .NET's own APIs, for TLS tests: a self-signed CA, a server
/// certificate for 127.0.0.1 and localhost, and a client certificate, each signed by the CA and
/// written to a temporary directory as PEM (key + chain in one file, as Kafka's PEM keystores
/// take them) and PKCS12. Deleted on dispose.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string Password = "changeit";

    private TestCertificates(string dir)
    {
        Directory = dir;
    }

    public string Directory { get; }

    public X509Certificate2 Ca { get; private init; } = null!;

    public X509Certificate2 Server { get; private init; } = null!;

    public X509Certificate2 Client { get; private init; } = null!;

    /// <summary>ca.pem: the CA certificate (a truststore / ssl.ca.location).</summary>
    public string CaPem => Path.Combine(Directory, "ca.pem");

    /// <summary>server.pem: the server's private key, its certificate and the CA, in that order.</summary>
    public string ServerPem => Path.Combine(Directory, "server.pem");

    public string ServerKeyPem => Path.Combine(Directory, "server.key");

    public string ServerCertPem => Path.Combine(Directory, "server.crt");

    /// <summary>server.p12: the same, PKCS12 with <see cref="Password"/>.</summary>
    public string ServerP12 => Path.Combine(Directory, "server.p12");

    public string ClientPem => Path.Combine(Directory, "client.pem");

    public string ClientKeyPem => Path.Combine(Directory, "client.key");

    public string ClientCertPem => Path.Combine(Directory, "client.crt");

    public string ClientP12 => Path.Combine(Directory, "client.p12");

    /// <summary>truststore.p12: the CA alone, PKCS12 with <see cref="Password"/>.</summary>
    public string TrustP12 => Path.Combine(Directory, "truststore.p12");

    /// <summary>The client certificate's subject as Kafka's principal builder writes it (RFC 2253).</summary>
    public const string ClientSubject = "CN=client,OU=eng,O=samsa";

    private static readonly Lazy<TestCertificates> SharedSet = new(() =>
    {
        var certs = Create();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => certs.Dispose();
        return certs;
    });

    /// <summary>One set per test process (RSA keys take a while to make); removed when the process exits.</summary>
    public static TestCertificates Shared => SharedSet.Value;

    public static TestCertificates Create()
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-certs-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var now = DateTimeOffset.UtcNow;

        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Samsa Test CA,O=samsa", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));

        var server = Issue(ca, "CN=localhost,O=samsa", serverAuth: true, now);
        // .NET reads this string most specific first, as RFC 2253 writes it (DER holds O first).
        var client = Issue(ca, ClientSubject, serverAuth: false, now);

        var certs = new TestCertificates(dir) { Ca = ca, Server = server, Client = client };
        File.WriteAllText(certs.CaPem, ca.ExportCertificatePem());
        Write(server, ca, certs.ServerPem, certs.ServerKeyPem, certs.ServerCertPem, certs.ServerP12);
        Write(client, ca, certs.ClientPem, certs.ClientKeyPem, certs.ClientCertPem, certs.ClientP12);
        var trust = new X509Certificate2Collection(X509CertificateLoader.LoadCertificate(ca.RawData));
        File.WriteAllBytes(certs.TrustP12, trust.Export(X509ContentType.Pkcs12, Password)!);
        return certs;
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, bool serverAuth, DateTimeOffset now)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var issued = request.Create(ca, now.AddDays(-1), now.AddMonths(6), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static void Write(X509Certificate2 cert, X509Certificate2 ca, string combined, string keyFile, string certFile, string p12)
    {
        using var rsa = cert.GetRSAPrivateKey()!;
        string key = rsa.ExportPkcs8PrivateKeyPem();
        string chain = cert.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n";
        File.WriteAllText(combined, key + "\n" + chain);
        File.WriteAllText(keyFile, key + "\n");
        File.WriteAllText(certFile, chain);
        var collection = new X509Certificate2Collection { cert, X509CertificateLoader.LoadCertificate(ca.RawData) };
        File.WriteAllBytes(p12, collection.Export(X509ContentType.Pkcs12, Password)!);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        Client.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
