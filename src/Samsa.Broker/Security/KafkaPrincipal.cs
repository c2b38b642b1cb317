namespace Samsa.Broker.Security;

/// <summary>
/// Who a connection is, as Kafka's authorizer sees it: <c>User:alice</c> after SASL,
/// <c>User:CN=client,O=acme</c> (after ssl.principal.mapping.rules) for a TLS client certificate,
/// <c>User:ANONYMOUS</c> otherwise.
/// </summary>
public sealed record KafkaPrincipal(string Type, string Name)
{
    public const string UserType = "User";

    public static KafkaPrincipal Anonymous { get; } = new(UserType, "ANONYMOUS");

    public static KafkaPrincipal User(string name) => new(UserType, name);

    public override string ToString() => $"{Type}:{Name}";
}
