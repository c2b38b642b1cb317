using Samsa.Broker.Security;

namespace Samsa.Broker;

/// <summary>
/// One entry of <c>listeners</c>: a name (PLAINTEXT, SASL_SSL, or a name of your own mapped by
/// listener.security.protocol.map), where to bind (an empty host or 0.0.0.0 binds every interface;
/// port 0 an ephemeral port) and, optionally, the protocol and the address to advertise.
/// </summary>
public sealed record ListenerOptions(string Name, string Host, int Port)
{
    /// <summary>Null: listener.security.protocol.map, else the protocol the name says.</summary>
    public SecurityProtocol? Protocol { get; init; }

    /// <summary>What Metadata tells clients that came in on this listener; null: advertised.listeners, else the bound address.</summary>
    public string? AdvertisedHost { get; init; }

    public int? AdvertisedPort { get; init; }

    public override string ToString() => $"{Name}://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";
}
