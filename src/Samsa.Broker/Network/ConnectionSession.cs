using Samsa.Broker.Security;
using Samsa.Broker.Security.Sasl;

namespace Samsa.Broker.Network;

/// <summary>Per-connection state that outlives one request: the listener it came in on, who the client is, SASL progress.</summary>
public sealed class ConnectionSession
{
    /// <summary>The listener's name (PLAINTEXT, SASL_SSL, or a name of your own).</summary>
    public string ListenerName { get; internal init; } = "PLAINTEXT";

    public SecurityProtocol SecurityProtocol { get; internal init; } = SecurityProtocol.Plaintext;

    /// <summary>
    /// Who the client is: the SASL user, the TLS client certificate's mapped subject, or
    /// ANONYMOUS. The authorizer reads this.
    /// </summary>
    public KafkaPrincipal Principal => Sasl?.Principal ?? TlsPrincipal;

    /// <summary>The principal the TLS handshake gave (ANONYMOUS without a client certificate or TLS).</summary>
    internal KafkaPrincipal TlsPrincipal { get; init; } = KafkaPrincipal.Anonymous;

    /// <summary>What Metadata, FindCoordinator and DescribeCluster advertise to this client: its listener's address.</summary>
    internal (string Host, int Port)? Advertised { get; init; }

    /// <summary>The SASL state on a SASL listener; null elsewhere.</summary>
    internal SaslServerSession? Sasl { get; init; }

    /// <summary>
    /// Completes when the client closed its end while a request waits (a fetch's max_wait_ms): the
    /// connection reads nothing while it handles a request, so only this notices. Cancel the token
    /// once the wait is over. Null outside a socket (handler tests).
    /// </summary>
    public Func<CancellationToken, Task>? WhenClientGone { get; set; }
}
