namespace Samsa.Broker.Security;

/// <summary>
/// One SASL mechanism's server side for one connection: it holds the exchange's state between
/// tokens (SCRAM takes two round trips), so a new one is made for each handshake.
/// </summary>
public interface ISaslAuthenticator
{
    string Mechanism { get; }

    /// <summary>Takes the client's next token and says what to answer.</summary>
    SaslStep Evaluate(ReadOnlySpan<byte> token);
}

/// <summary>A mechanism the broker offers; <see cref="Create"/> is called once per SaslHandshake.</summary>
public interface ISaslMechanism
{
    string Name { get; }

    ISaslAuthenticator Create();
}

/// <summary>
/// The outcome of one token: a challenge to send back (more to come), success with the
/// authenticated principal (and a last token, SCRAM's server-final), or failure with Kafka's message.
/// </summary>
public readonly record struct SaslStep(byte[] Response, string? Principal, string? Error)
{
    public bool Failed => Error is not null;

    public bool Complete => Principal is not null;

    public static SaslStep Challenge(byte[] response) => new(response, null, null);

    public static SaslStep Success(string principal, byte[]? response = null) => new(response ?? [], principal, null);

    public static SaslStep Failure(string error) => new([], null, error);
}
