using System.Security.Cryptography;
using System.Text;
using Samsa.Protocol.Sasl;

namespace Samsa.Protocol.Tests.Sasl;

/// <summary>The exchanges printed in RFC 5802 section 5 (SCRAM-SHA-1) and RFC 7677 section 3 (SCRAM-SHA-256), byte for byte.</summary>
public class ScramTests
{
    private static readonly ScramAlgorithm Sha1 = new("SCRAM-SHA-1", 0, HashAlgorithmName.SHA1);

    public static TheoryData<string, string, string, string, string, string, string> Vectors => new()
    {
        {
            "SCRAM-SHA-1",
            "fyko+d2lbbFgONRv9qkxdawL",
            "3rfcNHYJY1ZVvWVs7j",
            "QSXCR+Q6sek8bf92",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
        },
        {
            "SCRAM-SHA-256",
            "rOprNGfwEbeRWgbNEkqO",
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            "W22ZaJ0SNY7soEsUEjb6gQ==",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        },
    };

    private static ScramAlgorithm Algorithm(string name) => name == "SCRAM-SHA-1" ? Sha1 : ScramAlgorithm.FromName(name)!;

    [Theory]
    [MemberData(nameof(Vectors))]
    public void The_client_writes_the_rfc_messages(string mechanism, string clientNonce, string serverNonce, string salt, string serverFirst, string clientFinal, string serverFinal)
    {
        _ = serverNonce;
        _ = salt;
        var client = new ScramClient(Algorithm(mechanism), "user", "pencil", clientNonce);
        Assert.Equal($"n,,n=user,r={clientNonce}", Encoding.UTF8.GetString(client.First()));
        Assert.Equal(clientFinal, Encoding.UTF8.GetString(client.Final(Encoding.UTF8.GetBytes(serverFirst))));
        client.Verify(Encoding.UTF8.GetBytes(serverFinal));
        Assert.Throws<FormatException>(() => client.Verify(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(new byte[Convert.FromBase64String(serverFinal[2..]).Length]))));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void The_server_accepts_the_rfc_proof_and_signs_as_the_rfc_does(string mechanism, string clientNonce, string serverNonce, string salt, string serverFirst, string clientFinal, string serverFinal)
    {
        var algorithm = Algorithm(mechanism);
        var credential = ScramCredential.FromPassword(algorithm, "pencil", 4096, Convert.FromBase64String(salt));
        var server = new ScramServer(algorithm, user => user == "user" ? credential : null, serverNonce);
        Assert.Equal(serverFirst, Encoding.UTF8.GetString(server.First(Encoding.UTF8.GetBytes($"n,,n=user,r={clientNonce}"))));
        Assert.Equal(serverFinal, Encoding.UTF8.GetString(server.Final(Encoding.UTF8.GetBytes(clientFinal))));
    }

    [Fact]
    public void A_wrong_proof_an_unknown_user_a_foreign_authzid_and_a_changed_nonce_are_refused()
    {
        var credential = ScramCredential.FromPassword(ScramAlgorithm.Sha512, "right", 4096);
        ScramServer Server() => new(ScramAlgorithm.Sha512, u => u == "alice" ? credential : null);

        var wrong = new ScramClient(ScramAlgorithm.Sha512, "alice", "wrong");
        var server = Server();
        var final = wrong.Final(server.First(wrong.First()));
        Assert.False(Assert.Throws<ScramAuthenticationException>(() => server.Final(final)).Specific);

        Assert.False(Assert.Throws<ScramAuthenticationException>(() => Server().First("n,,n=bob,r=abc"u8)).Specific);
        Assert.True(Assert.Throws<ScramAuthenticationException>(() => Server().First("n,a=bob,n=alice,r=abc"u8)).Specific);

        var right = new ScramClient(ScramAlgorithm.Sha512, "alice", "right");
        server = Server();
        var good = Encoding.UTF8.GetString(right.Final(server.First(right.First())));
        var tampered = good.Replace("r=", "r=x", StringComparison.Ordinal);
        Assert.Throws<ScramAuthenticationException>(() => server.Final(Encoding.UTF8.GetBytes(tampered)));

        server = Server();
        right = new ScramClient(ScramAlgorithm.Sha512, "alice", "right");
        right.Verify(server.Final(right.Final(server.First(right.First()))));
    }

    [Fact]
    public void Credentials_below_the_minimum_iterations_are_refused_and_names_are_escaped()
    {
        var weak = ScramCredential.FromPassword(ScramAlgorithm.Sha256, "pw", 1000);
        var server = new ScramServer(ScramAlgorithm.Sha256, _ => weak);
        Assert.Throws<ScramAuthenticationException>(() => server.First("n,,n=u,r=abc"u8));

        Assert.Equal("a=2Cb=3Dc", ScramMessages.EncodeSaslName("a,b=c"));
        Assert.Equal("a,b=c", ScramMessages.DecodeSaslName(ScramMessages.EncodeSaslName("a,b=c")));
        Assert.Throws<FormatException>(() => ScramMessages.DecodeSaslName("a=4Z"));
        string seen = "";
        var strong = ScramCredential.FromPassword(ScramAlgorithm.Sha256, "pw");
        var named = new ScramServer(ScramAlgorithm.Sha256, u => { seen = u; return strong; });
        var client = new ScramClient(ScramAlgorithm.Sha256, "a,b=c", "pw");
        client.Verify(named.Final(client.Final(named.First(client.First()))));
        Assert.Equal("a,b=c", seen);
    }

    [Fact]
    public void A_final_nonce_with_the_client_nonce_repeated_in_front_is_accepted_as_kafka_accepts_it_from_librdkafka_2_0()
    {
        var algorithm = ScramAlgorithm.Sha256;
        var salt = new byte[16];
        var credential = ScramCredential.FromPassword(algorithm, "pw", 4096, salt);
        var server = new ScramServer(algorithm, _ => credential, "SERVER");
        string serverFirst = Encoding.UTF8.GetString(server.First("n,,n=u,r=abc"u8));
        Assert.StartsWith("r=abcSERVER,", serverFirst, StringComparison.Ordinal);
        string withoutProof = "c=biws,r=abcabcSERVER";
        var proof = algorithm.ClientProof(algorithm.SaltedPassword("pw", salt, 4096), ScramMessages.AuthMessage("n=u,r=abc", serverFirst, withoutProof));
        Assert.StartsWith("v=", Encoding.UTF8.GetString(server.Final(Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}"))), StringComparison.Ordinal);
    }
}
