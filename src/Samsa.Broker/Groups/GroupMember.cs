using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>A member of a classic group, with the join and sync it may be parked on.</summary>
internal sealed class GroupMember(string memberId, string? groupInstanceId, string clientId, string clientHost)
{
    public string MemberId { get; set; } = memberId;

    public string? GroupInstanceId { get; } = groupInstanceId;

    public string ClientId { get; set; } = clientId;

    public string ClientHost { get; set; } = clientHost;

    public int SessionTimeoutMs { get; set; }

    public int RebalanceTimeoutMs { get; set; }

    public string ProtocolType { get; set; } = "";

    /// <summary>The protocols the member supports, in its order of preference, with their metadata.</summary>
    public List<(string Name, byte[] Metadata)> Protocols { get; set; } = [];

    public byte[] Assignment { get; set; } = [];

    private TaskCompletionSource<JoinGroupResponse>? _pendingJoin;

    /// <summary>The group whose count of parked joins this member's join belongs to.</summary>
    public ClassicGroup? Owner { get; set; }

    /// <summary>Set while the member's JoinGroup is parked (it has "rejoined" this rebalance). The
    /// group keeps a count, so "has everyone rejoined?" costs O(1) per join, not O(members).</summary>
    public TaskCompletionSource<JoinGroupResponse>? PendingJoin
    {
        get => _pendingJoin;
        set
        {
            if (Owner is not null && (_pendingJoin is null) != (value is null))
                Owner.AwaitingJoin += value is null ? -1 : 1;
            _pendingJoin = value;
        }
    }

    public short JoinVersion { get; set; }

    public TaskCompletionSource<SyncGroupResponse>? PendingSync { get; set; }

    public ITimer? SessionTimer { get; set; }

    public bool IsStatic => GroupInstanceId is not null;

    public byte[] MetadataFor(string? protocol) =>
        Protocols.FirstOrDefault(p => p.Name == protocol).Metadata ?? [];

    public bool SameProtocols(List<JoinGroupRequest.JoinGroupRequestProtocol> protocols) =>
        protocols.Count == Protocols.Count
        && protocols.Zip(Protocols).All(x => x.First.Name == x.Second.Name && x.First.Metadata.AsSpan().SequenceEqual(x.Second.Metadata));
}
