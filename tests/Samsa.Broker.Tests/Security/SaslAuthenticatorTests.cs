using System.Text;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security;

namespace Samsa.Broker.Tests.Security;

public class SaslAuthenticatorTests
{
    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(byte[] b) => Encoding.UTF8.GetString(b);

    // RFC 7677 section 3: user "user", password "pencil".
    private const string ClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string ClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string ServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static ISaslAuthenticator Rfc7677Server()
    {
        var store = new ScramCredentialStore();
        store.Set(ScramHash.Sha256, "user", ScramHash.Sha256.CreateCredential("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096));
        return new ScramMechanism(ScramHash.Sha256, store, () => ServerNonce).Create();
    }

    [Fact]
    public void Scram_sha_256_follows_the_rfc_7677_test_vector()
    {
        var server = Rfc7677Server();
        var first = server.Evaluate(Utf8(ClientFirst));
        Assert.False(first.Failed);
        Assert.False(first.Complete);
        Assert.Equal(ServerFirst, Text(first.Response));
        var final = server.Evaluate(Utf8(ClientFinal));
        Assert.Equal("user", final.Principal);
        Assert.Equal(ServerFinal, Text(final.Response));
    }

    [Fact]
    public void Scram_refuses_a_wrong_proof_a_changed_nonce_and_an_unknown_user()
    {
        var server = Rfc7677Server();
        server.Evaluate(Utf8(ClientFirst));
        var wrong = server.Evaluate(Utf8(ClientFinal[..^8] + "AAAAAAA="));
        Assert.True(wrong.Failed);
        Assert.Contains("invalid credentials with SASL mechanism SCRAM-SHA-256", wrong.Error, StringComparison.Ordinal);

        server = Rfc7677Server();
        server.Evaluate(Utf8(ClientFirst));
        Assert.True(server.Evaluate(Utf8(ClientFinal.Replace("r=rOpr", "r=xOpr", StringComparison.Ordinal))).Failed);

        Assert.True(Rfc7677Server().Evaluate(Utf8("n,,n=mallory,r=abc")).Failed);
        Assert.True(Rfc7677Server().Evaluate(Utf8("p=tls-unique,,n=user,r=abc")).Failed);
    }

    [Fact]
    public void Scram_credentials_keep_no_password_and_need_4096_iterations()
    {
        var credential = ScramHash.Sha512.CreateCredential("pencil");
        Assert.Equal(64, credential.StoredKey.Length);
        Assert.Equal(64, credential.ServerKey.Length);
        Assert.Equal(4096, credential.Iterations);
        Assert.Throws<ArgumentOutOfRangeException>(() => ScramHash.Sha256.CreateCredential("pencil", [1, 2, 3], 4095));
    }

    [Fact]
    public void Scram_sha_512_round_trip_with_a_client_computed_proof()
    {
        var store = new ScramCredentialStore();
        var salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
        store.Set(ScramHash.Sha512, "bob", ScramHash.Sha512.CreateCredential("pw", salt, 4096));
        var server = new ScramMechanism(ScramHash.Sha512, store, () => "SRV").Create();
        string serverFirst = Text(server.Evaluate(Utf8("n,,n=bob,r=CLI")).Response);
        Assert.Equal($"r=CLISRV,s={Convert.ToBase64String(salt)},i=4096", serverFirst);

        // The client side of RFC 5802, written out here so the test does not trust the server's code.
        var h = ScramHash.Sha512;
        var salted = h.SaltedPassword("pw", salt, 4096);
        var clientKey = h.Hmac(salted, "Client Key"u8);
        string withoutProof = "c=biws,r=CLISRV";
        var authMessage = Utf8($"n=bob,r=CLI,{serverFirst},{withoutProof}");
        var signature = h.Hmac(h.Hash(clientKey), authMessage);
        var proof = clientKey.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray();
        var final = server.Evaluate(Utf8($"{withoutProof},p={Convert.ToBase64String(proof)}"));
        Assert.Equal("bob", final.Principal);
        Assert.Equal("v=" + Convert.ToBase64String(h.Hmac(h.Hmac(salted, "Server Key"u8), authMessage)), Text(final.Response));
    }

    [Theory]
    [InlineData("\0alice\0s3cret", "alice", null)]
    [InlineData("alice\0alice\0s3cret", "alice", null)]
    [InlineData("\0alice\0wrong", null, "Authentication failed: Invalid username or password")]
    [InlineData("\0nobody\0s3cret", null, "Authentication failed: Invalid username or password")]
    [InlineData("bob\0alice\0s3cret", null, "Authentication failed: Client requested an authorization id that is different from username")]
    [InlineData("alice\0s3cret", null, "Invalid SASL/PLAIN response: expected 3 tokens, got 2")]
    public void Plain_checks_user_password_and_authorization_id(string token, string? principal, string? error)
    {
        var step = new PlainMechanism(new Dictionary<string, string> { ["alice"] = "s3cret" }).Create().Evaluate(Utf8(token));
        Assert.Equal(principal, step.Principal);
        Assert.Equal(error, step.Error);
    }

    [Fact]
    public void Mechanisms_follow_the_configuration_and_refuse_what_cannot_work()
    {
        var options = BrokerConfig.Apply(new BrokerOptions(), "sasl.scram.users", "alice:pw,bob:pw2");
        Assert.Equal(["SCRAM-SHA-256", "SCRAM-SHA-512"], SaslMechanisms.Create(options).Names);
        Assert.NotNull(options.ScramCredentials!.Find(ScramHash.Sha512, "bob"));
        options = BrokerConfig.Apply(options, "sasl.plain.users", "carol:pw");
        Assert.Equal(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], SaslMechanisms.Create(options).Names);
        options = BrokerConfig.Apply(options, "sasl.enabled.mechanisms", "scram-sha-512");
        Assert.Equal(["SCRAM-SHA-512"], SaslMechanisms.Create(options).Names);
        Assert.False(SaslMechanisms.Create(new BrokerOptions()).RequireAuthentication);

        var e = Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "sasl.enabled.mechanisms", "PLAIN,GSSAPI"));
        Assert.Equal("sasl.enabled.mechanisms", e.Key);
        e = Assert.Throws<BrokerConfigException>(() => SaslMechanisms.Create(new BrokerOptions { SaslEnabledMechanisms = ["PLAIN"] }));
        Assert.Equal("sasl.enabled.mechanisms", e.Key);
        Assert.Equal(1000, BrokerConfig.Apply(new BrokerOptions(), "sasl.server.max.receive.size", "1000").SaslServerMaxReceiveSize);
        Assert.Equal(TimeSpan.Zero, BrokerConfig.Apply(new BrokerOptions(), "connection.failed.authentication.delay.ms", "0").ConnectionFailedAuthenticationDelay);
    }
}
