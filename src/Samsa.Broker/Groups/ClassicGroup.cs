using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.Groups;

/// <summary>A committed offset as kept in memory and in __consumer_offsets.</summary>
internal readonly record struct CommittedOffset(long Offset, int LeaderEpoch, string Metadata, long CommitTimestamp, long ExpireTimestamp);

/// <summary>
/// A classic group: members, generation, chosen protocol, leader, and its committed offsets.
/// Only its shard's thread touches it.
/// </summary>
internal sealed class ClassicGroup(string groupId, long createdAt) : Group(groupId)
{
    public override GroupType Type => GroupType.Classic;

    public override string StateName => GroupStates.Name(State);

    public override bool IsEmpty => Members.Count == 0;

    public override bool IsDead => State == GroupState.Dead;

    public GroupState State { get; private set; } = GroupState.Empty;

    public long StateTimestamp { get; private set; } = createdAt;

    public int Generation { get; set; }

    public string? ProtocolType { get; set; }

    public string? ProtocolName { get; set; }

    public string? LeaderId { get; set; }

    /// <summary>Members in join order (the first becomes leader when one is needed).</summary>
    public Dictionary<string, GroupMember> Members { get; } = new(StringComparer.Ordinal);

    /// <summary>group.instance.id → member id, for static members.</summary>
    public Dictionary<string, string> StaticMembers { get; } = new(StringComparer.Ordinal);

    /// <summary>KIP-394: member ids handed out with MEMBER_ID_REQUIRED and not yet used to join.</summary>
    public Dictionary<string, ITimer> PendingMembers { get; } = new(StringComparer.Ordinal);

    /// <summary>The rebalance or initial-delay timer, or the pending-sync timer.</summary>
    public ITimer? RebalanceTimer { get; set; }

    /// <summary>True while group.initial.rebalance.delay.ms holds the first rebalance open.</summary>
    public bool InInitialDelay { get; set; }

    /// <summary>Members whose JoinGroup is parked, kept by <see cref="GroupMember.PendingJoin"/>.</summary>
    public int AwaitingJoin { get; set; }

    public bool AllMembersJoined => PendingMembers.Count == 0 && AwaitingJoin == Members.Count;

    public void Add(GroupMember member)
    {
        Members[member.MemberId] = member;
        member.Owner = this;
        MarkChanged();
        if (member.PendingJoin is not null)
            AwaitingJoin++;
    }

    public void Remove(GroupMember member)
    {
        member.PendingJoin = null;
        member.Owner = null;
        Members.Remove(member.MemberId);
        MarkChanged();
    }

    /// <summary>The largest rebalance timeout among members: how long a rebalance waits for rejoins.</summary>
    public int RebalanceTimeoutMs => Members.Count == 0 ? 0 : Members.Values.Max(m => m.RebalanceTimeoutMs);

    public void TransitionTo(GroupState next, long now)
    {
        if (!GroupStates.CanMove(State, next))
            throw new InvalidOperationException($"Group {GroupId}: invalid transition {State} → {next}.");
        State = next;
        StateTimestamp = now;
        MarkChanged();
    }

    /// <summary>Restores a state read from __consumer_offsets (no transition check: this is load, not live).</summary>
    public void Restore(GroupState state, long timestamp)
    {
        State = state;
        StateTimestamp = timestamp;
        MarkChanged();
    }

    public override GroupView View(ITopicCatalog topics) => new()
    {
        GroupId = GroupId,
        Type = GroupType.Classic,
        State = StateName,
        Epoch = Generation,
        AssignmentEpoch = Generation,
        ProtocolType = ProtocolType ?? "",
        Protocol = ProtocolName,
        LeaderId = LeaderId,
        StateTimestamp = StateTimestamp,
        Members = Members.Values.Select(m => new MemberView
        {
            MemberId = m.MemberId,
            InstanceId = m.GroupInstanceId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            MemberEpoch = Generation,
            Metadata = m.MetadataFor(ProtocolName),
            Assignment = m.Assignment,
        }).ToList(),
    };

    /// <summary>True when <paramref name="protocolType"/> and at least one of <paramref name="protocols"/> fit the group (Kafka's supportsProtocols).</summary>
    public bool Supports(string protocolType, IEnumerable<string> protocols)
    {
        var names = protocols.ToList();
        if (Members.Count == 0)
            return protocolType.Length > 0 && names.Count > 0;
        return ProtocolType == protocolType && names.Any(n => Members.Values.All(m => m.Protocols.Any(p => p.Name == n)));
    }

    /// <summary>
    /// Kafka's selectProtocol: among protocols every member supports, each member votes for the
    /// first one in its own preference order; the most votes wins (ties: first candidate).
    /// </summary>
    public string SelectProtocol()
    {
        var members = Members.Values.ToList();
        var candidates = members[0].Protocols.Select(p => p.Name)
            .Where(n => members.All(m => m.Protocols.Any(p => p.Name == n)))
            .ToList();
        var votes = candidates.ToDictionary(c => c, _ => 0, StringComparer.Ordinal);
        foreach (var m in members)
        {
            string vote = m.Protocols.Select(p => p.Name).First(candidates.Contains);
            votes[vote]++;
        }
        return candidates.OrderByDescending(c => votes[c]).First();
    }
}
