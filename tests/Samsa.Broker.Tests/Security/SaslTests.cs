using System.Text;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Security.Sasl;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Sasl;

namespace Samsa.Broker.Tests.Security;

public sealed class SaslTests
{
    private const string Jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"x\" user_alice=\"alice-secret\" user_bob=\"bob \\\"quoted\\\"\";";

    private static (string, string)[] Settings(params (string, string)[] extra) =>
    [
        ("listeners", "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0"),
        ("listener.name.sasl_plaintext.plain.sasl.jaas.config", Jaas),
        ("connection.failed.authentication.delay.ms", "50"),
        .. extra,
    ];

    private static async Task<Wire> Sasl(SecuredBroker broker) => await Wire.ConnectAsync(broker.PortOf("SASL_PLAINTEXT"));

    private static byte[] Plain(string authzid, string user, string password) => Encoding.UTF8.GetBytes($"{authzid}\0{user}\0{password}");

    [Fact]
    public async Task Plain_users_from_jaas_authenticate_with_handshake_v1_and_then_are_served()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings());
        await using var wire = await Sasl(broker);
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 3)).ErrorCode);
        var handshake = await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
        Assert.Equal(ErrorCode.None, handshake.ErrorCode);
        Assert.Equal(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], handshake.Mechanisms);
        var auth = await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Plain("", "bob", "bob \"quoted\"") }, 2);
        Assert.Equal(ErrorCode.None, auth.ErrorCode);
        Assert.Equal(0, auth.SessionLifetimeMs);
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12)).ErrorCode);
        // A second SaslAuthenticate on an authenticated connection is Kafka's ILLEGAL_SASL_STATE, and it stays open.
        Assert.Equal(ErrorCode.IllegalSaslState, (await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Plain("", "bob", "x") }, 2)).ErrorCode);
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12)).ErrorCode);
    }

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        { "wrong password", "", "alice", "nope" },
        { "unknown user", "", "mallory", "alice-secret" },
        { "foreign authzid", "bob", "alice", "alice-secret" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_plain_authentication_gets_kafkas_error_and_then_the_connection_closes(string why, string authzid, string user, string password)
    {
        _ = why;
        await using var broker = await SecuredBroker.StartAsync(Settings());
        await using var wire = await Sasl(broker);
        await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
        var auth = await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Plain(authzid, user, password) }, 1);
        Assert.Equal(ErrorCode.SaslAuthenticationFailed, auth.ErrorCode);
        Assert.Equal(authzid.Length > 0
            ? "Authentication failed: Client requested an authorization id that is different from username"
            : "Authentication failed: Invalid username or password", auth.ErrorMessage);
        // Nothing more on this connection: a retry is not read, the broker closes it.
        await wire.WriteAsync(new SaslAuthenticateRequest { AuthBytes = Plain("", "alice", "alice-secret") }, 1);
        Assert.True(await wire.IsClosedByBrokerAsync());
    }

    [Fact]
    public async Task Requests_out_of_sasl_order_close_the_connection_without_an_answer()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings());
        async Task Closes(params (IRequest Request, short Version, bool Answered)[] steps)
        {
            await using var wire = await Sasl(broker);
            foreach (var (request, version, answered) in steps)
            {
                if (answered)
                {
                    var frame = await SendRaw(wire, request, version);
                    Assert.NotNull(frame);
                }
                else
                {
                    await wire.WriteAsync(request, version);
                    Assert.True(await wire.IsClosedByBrokerAsync(), $"{request.ApiKey} was served out of order");
                }
            }
        }
        var metadata = new MetadataRequest { Topics = [] };
        // Unauthenticated requests on a SASL listener.
        await Closes((metadata, 12, false));
        await Closes((new ApiVersionsRequest(), 3, true), (new CreateTopicsRequest { Topics = [new() { Name = "t", NumPartitions = 1, ReplicationFactor = 1 }] }, 5, false));
        // SaslAuthenticate before a handshake; something else between handshake and authenticate.
        await Closes((new SaslAuthenticateRequest { AuthBytes = Plain("", "alice", "alice-secret") }, 2, false));
        await Closes((new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1, true), (metadata, 12, false));
        await Closes((new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1, true), (new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1, false));
        // An unsupported mechanism is answered with the enabled ones, then closed.
        await using var wire = await Sasl(broker);
        var refused = await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "GSSAPI" }, 1);
        Assert.Equal(ErrorCode.UnsupportedSaslMechanism, refused.ErrorCode);
        Assert.Contains("SCRAM-SHA-512", refused.Mechanisms);
        Assert.True(await wire.IsClosedByBrokerAsync());
    }

    private static async Task<byte[]?> SendRaw(Wire wire, IRequest request, short version)
    {
        await wire.WriteAsync(request, version);
        return await wire.ReadFrameAsync();
    }

    [Fact]
    public async Task Frames_larger_than_sasl_server_max_receive_size_before_authentication_close_before_they_are_read()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings(("sasl.server.max.receive.size", "1024")));
        await using var wire = await Sasl(broker);
        // A size prefix claiming 100 KiB and no body: the broker must refuse on the prefix alone.
        await wire.WriteRawAsync([0, 1, 0x90, 0]);
        Assert.True(await wire.IsClosedByBrokerAsync());

        // After authentication the ordinary limit applies: a 4 KiB request is served.
        await using var authenticated = await Sasl(broker);
        await authenticated.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
        await authenticated.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Plain("", "alice", "alice-secret") }, 2);
        var big = new MetadataRequest { Topics = Enumerable.Range(0, 200).Select(i => new MetadataRequest.MetadataRequestTopic { Name = $"topic-with-a-long-name-{i:D5}" }).ToList(), AllowAutoTopicCreation = false };
        Assert.Equal(200, (await authenticated.SendAsync<MetadataResponse>(big, 12)).Topics.Count);
    }

    [Fact]
    public async Task Handshake_v0_takes_raw_tokens_as_kafka_python_sends_them()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings());
        await using (var wire = await Sasl(broker))
        {
            Assert.Equal(ErrorCode.None, (await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 0)).ErrorCode);
            // kafka-python sends the user as the authorization id too.
            await wire.WriteTokenAsync(Plain("alice", "alice", "alice-secret"));
            var reply = await wire.ReadFrameAsync();
            Assert.NotNull(reply);
            Assert.Empty(reply);
            Assert.Equal(ErrorCode.None, (await wire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 1)).ErrorCode);
        }
        await using (var wire = await Sasl(broker))
        {
            await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 0);
            await wire.WriteTokenAsync(Plain("", "alice", "wrong"));
            Assert.True(await wire.IsClosedByBrokerAsync());
        }
    }

    private static async Task CreateScramUser(SecuredBroker broker, string user, string password, ScramAlgorithm algorithm, int iterations = 4096)
    {
        await using var admin = await Wire.ConnectAsync(broker.PortOf("PLAINTEXT"));
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var response = await admin.SendAsync<AlterUserScramCredentialsResponse>(new AlterUserScramCredentialsRequest
        {
            Upsertions = [new() { Name = user, Mechanism = algorithm.Type, Iterations = iterations, Salt = salt, SaltedPassword = algorithm.SaltedPassword(password, salt, iterations) }],
        }, 0);
        Assert.Equal(ErrorCode.None, Assert.Single(response.Results).ErrorCode);
    }

    private static async Task<SaslAuthenticateResponse> Scram(Wire wire, ScramAlgorithm algorithm, string user, string password, short version = 2)
    {
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = algorithm.Name }, 1)).ErrorCode);
        var client = new ScramClient(algorithm, user, password);
        var first = await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = client.First() }, version);
        if (first.ErrorCode != ErrorCode.None)
            return first;
        var final = await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = client.Final(first.AuthBytes) }, version);
        if (final.ErrorCode == ErrorCode.None)
            client.Verify(final.AuthBytes);
        return final;
    }

    [Theory]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-512")]
    public async Task Scram_users_created_over_the_admin_api_authenticate_survive_a_restart_and_wrong_passwords_fail(string mechanism)
    {
        var algorithm = ScramAlgorithm.FromName(mechanism)!;
        var settings = Settings();
        await using var broker = await SecuredBroker.StartAsync(settings);
        await CreateScramUser(broker, "carol", "carol-pw", algorithm, 8192);
        await using (var wire = await Sasl(broker))
        {
            Assert.Equal(ErrorCode.None, (await Scram(wire, algorithm, "carol", "carol-pw")).ErrorCode);
            Assert.Equal(ErrorCode.None, (await wire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12)).ErrorCode);
        }
        string stored = File.ReadAllText(Path.Combine(broker.Directory, ScramCredentialStore.FileName));
        Assert.DoesNotContain("carol-pw", stored, StringComparison.Ordinal);
        Assert.Contains("carol", stored, StringComparison.Ordinal);

        await broker.RestartAsync(settings);
        await using (var wire = await Sasl(broker))
            Assert.Equal(ErrorCode.None, (await Scram(wire, algorithm, "carol", "carol-pw")).ErrorCode);
        await using (var wire = await Sasl(broker))
        {
            var refused = await Scram(wire, algorithm, "carol", "wrong");
            Assert.Equal(ErrorCode.SaslAuthenticationFailed, refused.ErrorCode);
            Assert.Equal($"Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}", refused.ErrorMessage);
            Assert.True(await wire.IsClosedByBrokerAsync());
        }
        await using (var wire = await Sasl(broker))
        {
            // The other SCRAM mechanism has no credential for carol: the same generic refusal.
            var other = algorithm == ScramAlgorithm.Sha256 ? ScramAlgorithm.Sha512 : ScramAlgorithm.Sha256;
            Assert.Equal(ErrorCode.SaslAuthenticationFailed, (await Scram(wire, other, "carol", "carol-pw")).ErrorCode);
        }
    }

    [Fact]
    public async Task Scram_works_over_handshake_v0_raw_tokens()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings());
        await CreateScramUser(broker, "dave", "dave-pw", ScramAlgorithm.Sha512);
        await using var wire = await Sasl(broker);
        await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "SCRAM-SHA-512" }, 0);
        var client = new ScramClient(ScramAlgorithm.Sha512, "dave", "dave-pw");
        await wire.WriteTokenAsync(client.First());
        var serverFirst = await wire.ReadFrameAsync() ?? throw new IOException("closed");
        await wire.WriteTokenAsync(client.Final(serverFirst));
        client.Verify(await wire.ReadFrameAsync() ?? throw new IOException("closed"));
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<MetadataResponse>(new MetadataRequest { Topics = [] }, 12)).ErrorCode);
    }

    [Fact]
    public async Task A_session_past_connections_max_reauth_ms_is_closed_unless_the_client_reauthenticates()
    {
        var time = new FakeTimeProvider();
        await using var broker = await SecuredBroker.StartAsync(Settings(("connections.max.reauth.ms", "60000")), o => o with { TimeProvider = time });
        await CreateScramUser(broker, "erin", "erin-pw", ScramAlgorithm.Sha256);
        var metadata = new MetadataRequest { Topics = [] };

        await using (var lapsed = await Sasl(broker))
        {
            var auth = await Scram(lapsed, ScramAlgorithm.Sha256, "erin", "erin-pw");
            Assert.Equal(60000, auth.SessionLifetimeMs);
            Assert.Equal(ErrorCode.None, (await lapsed.SendAsync<MetadataResponse>(metadata, 12)).ErrorCode);
            time.Advance(TimeSpan.FromSeconds(61));
            await lapsed.WriteAsync(metadata, 12);
            Assert.True(await lapsed.IsClosedByBrokerAsync());
        }

        await using var renewed = await Sasl(broker);
        Assert.Equal(ErrorCode.None, (await Scram(renewed, ScramAlgorithm.Sha256, "erin", "erin-pw")).ErrorCode);
        time.Advance(TimeSpan.FromSeconds(50));
        // KIP-368: the same handshake and exchange again, on the same connection, before the session ends.
        Assert.Equal(60000, (await Scram(renewed, ScramAlgorithm.Sha256, "erin", "erin-pw")).SessionLifetimeMs);
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(ErrorCode.None, (await renewed.SendAsync<MetadataResponse>(metadata, 12)).ErrorCode);
    }

    [Fact]
    public async Task Reauthentication_may_not_change_the_principal()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings());
        await using var wire = await Sasl(broker);
        await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Plain("", "alice", "alice-secret") }, 2)).ErrorCode);
        Assert.Equal(ErrorCode.None, (await wire.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1)).ErrorCode);
        var other = await wire.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Plain("", "bob", "bob \"quoted\"") }, 2);
        Assert.Equal(ErrorCode.SaslAuthenticationFailed, other.ErrorCode);
        Assert.Contains("Cannot change principals", other.ErrorMessage, StringComparison.Ordinal);
        Assert.True(await wire.IsClosedByBrokerAsync());
    }

    [Fact]
    public async Task User_scram_credentials_are_described_and_altered_with_kafkas_errors()
    {
        await using var broker = await SecuredBroker.StartAsync(Settings());
        await CreateScramUser(broker, "frank", "pw", ScramAlgorithm.Sha256);
        await CreateScramUser(broker, "grace", "pw", ScramAlgorithm.Sha512, 16384);
        await using var admin = await Wire.ConnectAsync(broker.PortOf("PLAINTEXT"));

        var all = await admin.SendAsync<DescribeUserScramCredentialsResponse>(new DescribeUserScramCredentialsRequest { Users = null }, 0);
        Assert.Equal(["frank", "grace"], all.Results.Select(r => r.User).Order());
        var grace = all.Results.Single(r => r.User == "grace").CredentialInfos.Single();
        Assert.Equal((2, 16384), (grace.Mechanism, grace.Iterations));

        var some = await admin.SendAsync<DescribeUserScramCredentialsResponse>(new DescribeUserScramCredentialsRequest { Users = [new() { Name = "nobody" }, new() { Name = "frank" }, new() { Name = "frank" }] }, 0);
        Assert.Equal(ErrorCode.ResourceNotFound, some.Results.Single(r => r.User == "nobody").ErrorCode);
        Assert.Equal(ErrorCode.DuplicateResource, some.Results.Single(r => r.User == "frank").ErrorCode);

        var salt = new byte[16];
        var altered = await admin.SendAsync<AlterUserScramCredentialsResponse>(new AlterUserScramCredentialsRequest
        {
            Deletions = [new() { Name = "frank", Mechanism = 1 }, new() { Name = "nobody", Mechanism = 1 }, new() { Name = "grace", Mechanism = 3 }],
            Upsertions =
            [
                new() { Name = "", Mechanism = 1, Iterations = 4096, Salt = salt, SaltedPassword = salt },
                new() { Name = "weak", Mechanism = 1, Iterations = 100, Salt = salt, SaltedPassword = salt },
                new() { Name = "huge", Mechanism = 2, Iterations = 20000, Salt = salt, SaltedPassword = salt },
                new() { Name = "twice", Mechanism = 1, Iterations = 4096, Salt = salt, SaltedPassword = salt },
                new() { Name = "twice", Mechanism = 2, Iterations = 4096, Salt = salt, SaltedPassword = salt },
            ],
        }, 0);
        ErrorCode Of(string user) => altered.Results.Single(r => r.User == user).ErrorCode;
        Assert.Equal(ErrorCode.None, Of("frank"));
        Assert.Equal(ErrorCode.ResourceNotFound, Of("nobody"));
        Assert.Equal(ErrorCode.UnsupportedSaslMechanism, Of("grace"));
        Assert.Equal(ErrorCode.UnacceptableCredential, Of(""));
        Assert.Equal(ErrorCode.UnacceptableCredential, Of("weak"));
        Assert.Equal(ErrorCode.UnacceptableCredential, Of("huge"));
        Assert.Equal(ErrorCode.DuplicateResource, Of("twice"));
        var after = await admin.SendAsync<DescribeUserScramCredentialsResponse>(new DescribeUserScramCredentialsRequest(), 0);
        Assert.Equal(["grace"], after.Results.Select(r => r.User));
    }
}
