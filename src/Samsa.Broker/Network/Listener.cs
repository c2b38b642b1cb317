using System.Net;
using System.Net.Sockets;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security;
using Samsa.Broker.Security.Sasl;
using Samsa.Broker.Security.Tls;

namespace Samsa.Broker.Network;

/// <summary>One entry of listeners, resolved: name, protocol, where it binds, what it advertises.</summary>
internal sealed record ListenerPlan(string Name, SecurityProtocol Protocol, string Host, int Port, string? AdvertisedHost, int? AdvertisedPort)
{
    /// <summary>
    /// listeners + listener.security.protocol.map + advertised.listeners. Without listeners, the
    /// one PLAINTEXT listener at <see cref="BrokerOptions.Listen"/> (SASL_PLAINTEXT with sasl.plain.users).
    /// </summary>
    public static IReadOnlyList<ListenerPlan> Resolve(BrokerOptions o)
    {
        if (o.Listeners is not { Count: > 0 } listeners)
        {
            var protocol = o.SaslPlainUsers is null ? SecurityProtocol.Plaintext : SecurityProtocol.SaslPlaintext;
            string host = o.Listen.Address.Equals(IPAddress.Any) ? "" : o.Listen.Address.ToString();
            return [new ListenerPlan(protocol.KafkaName(), protocol, host, o.Listen.Port, o.AdvertisedHost, o.AdvertisedPort)];
        }
        // KRaft files list the controller's own listener beside the clients' (CONTROLLER://:9093):
        // a single node has no controller quorum to serve, so those are not opened.
        var controller = o.ControllerListenerNames ?? [];
        listeners = [.. listeners.Where(l => !controller.Contains(l.Name, StringComparer.OrdinalIgnoreCase))];
        if (listeners.Count == 0)
            throw new BrokerConfigException("listeners", $"listeners: every listener is a controller listener ({string.Join(", ", controller)}); clients need one of their own.");
        var plans = new List<ListenerPlan>();
        for (int i = 0; i < listeners.Count; i++)
        {
            var l = listeners[i];
            SecurityProtocol protocol;
            if (l.Protocol is { } given)
                protocol = given;
            else if (o.ListenerSecurityProtocolMap is { } map && map.TryGetValue(l.Name, out var mapped))
                protocol = mapped;
            else if (!SecurityProtocols.TryParse(l.Name, out protocol))
                throw new BrokerConfigException("listener.security.protocol.map",
                    $"listener.security.protocol.map: listener {l.Name} has no security protocol; add {l.Name}:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL).");
            string? advertisedHost = l.AdvertisedHost;
            int? advertisedPort = l.AdvertisedPort;
            if (advertisedHost is null && o.AdvertisedListeners is { } advertised && advertised.TryGetValue(l.Name, out var address))
            {
                int colon = address.LastIndexOf(':');
                advertisedHost = address[..colon];
                advertisedPort = int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (advertisedHost is null && i == 0)
            {
                (advertisedHost, advertisedPort) = (o.AdvertisedHost, o.AdvertisedPort);
            }
            plans.Add(new ListenerPlan(l.Name, protocol, l.Host, l.Port, advertisedHost, advertisedPort));
        }
        if (o.AdvertisedListeners is { } names)
        {
            foreach (var name in names.Keys.Where(n => !controller.Contains(n, StringComparer.OrdinalIgnoreCase)))
            {
                if (!plans.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
                    throw new BrokerConfigException("advertised.listeners", $"advertised.listeners: {name} is not one of the listeners ({string.Join(", ", plans.Select(p => p.Name))}).");
            }
        }
        return plans;
    }
}

/// <summary>A bound listener: its socket, what it advertises, and its TLS and SASL servers.</summary>
internal sealed class Listener : IDisposable
{
    private Listener(ListenerPlan plan, Socket socket, TlsServer? tls, SaslListener? sasl)
    {
        Plan = plan;
        Socket = socket;
        Tls = tls;
        Sasl = sasl;
        var local = (IPEndPoint)socket.LocalEndPoint!;
        Port = local.Port;
        AdvertisedHost = plan.AdvertisedHost
            ?? (plan.Host.Length > 0 && plan.Host != "0.0.0.0" && plan.Host != "::" ? plan.Host
                : local.Address.Equals(IPAddress.Any) || local.Address.Equals(IPAddress.IPv6Any) ? "localhost" : local.Address.ToString());
        AdvertisedPort = plan.AdvertisedPort ?? Port;
    }

    public ListenerPlan Plan { get; }

    public string Name => Plan.Name;

    public SecurityProtocol Protocol => Plan.Protocol;

    public Socket Socket { get; }

    public int Port { get; }

    public string AdvertisedHost { get; }

    public int AdvertisedPort { get; }

    public TlsServer? Tls { get; }

    public SaslListener? Sasl { get; }

    /// <summary>Builds the listener's TLS and SASL servers (config errors name their key), then binds.</summary>
    public static Listener Open(ListenerPlan plan, BrokerOptions options, ScramCredentialStore store)
    {
        var settings = new ListenerSettings(plan.Name, options.SecuritySettings);
        var tls = plan.Protocol.UsesTls() ? TlsServer.Build(settings) : null;
        var sasl = plan.Protocol.UsesSasl() ? SaslListener.Build(plan.Name, options, store) : null;
        var endpoint = BrokerConfig.ParseEndpoint("listeners", $"{(plan.Host.Contains(':', StringComparison.Ordinal) ? $"[{plan.Host}]" : plan.Host)}:{plan.Port}");
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(endpoint);
            socket.Listen(512);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException($"Cannot listen on {endpoint} ({plan.Name}): {e.Message}", e);
        }
        return new Listener(plan, socket, tls, sasl);
    }

    public void Dispose() => Socket.Dispose();
}
