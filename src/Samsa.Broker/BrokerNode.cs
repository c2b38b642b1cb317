using Samsa.Broker.Network;

namespace Samsa.Broker;

/// <summary>
/// This broker as clients see it: the only node, leader of every partition and coordinator of
/// every group. Host and port are the first listener's; a request is answered with the address of
/// the listener it came in on (<see cref="AddressFor"/>).
/// </summary>
internal sealed record BrokerNode(int NodeId, string Host, int Port, string ClusterId)
{
    public (string Host, int Port) AddressFor(RequestContext context) => context.Session.Advertised ?? (Host, Port);
}
