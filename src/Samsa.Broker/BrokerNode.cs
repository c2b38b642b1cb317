namespace Samsa.Broker;

/// <summary>This broker as clients see it: the only node, leader of every partition and coordinator of every group.</summary>
internal sealed record BrokerNode(int NodeId, string Host, int Port, string ClusterId);
