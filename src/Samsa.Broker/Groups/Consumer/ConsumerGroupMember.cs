namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// A member of a consumer group as its records describe it: subscription (member metadata record)
/// and current assignment (current member assignment record). Immutable: an operation builds the
/// member it wants with <c>with</c>, writes it as records, and the replay swaps it in.
/// </summary>
internal sealed record ConsumerGroupMember
{
    public required string MemberId { get; init; }
    public string? InstanceId { get; init; }
    public string? RackId { get; init; }
    public string ClientId { get; init; } = "";
    public string ClientHost { get; init; } = "";
    public int RebalanceTimeoutMs { get; init; } = -1;
    public IReadOnlyList<string> SubscribedTopicNames { get; init; } = [];
    public string? SubscribedTopicRegex { get; init; }
    public string? ServerAssignor { get; init; }

    /// <summary>0 before the first assignment; -2 while a static member is away (KIP-345 over KIP-848).</summary>
    public int MemberEpoch { get; init; }
    public int PreviousMemberEpoch { get; init; }
    public MemberState State { get; init; } = MemberState.Stable;

    /// <summary>What the member may consume now.</summary>
    public IReadOnlyDictionary<Guid, IReadOnlySet<int>> Assigned { get; init; } = TopicAssignment.Empty;

    /// <summary>What it was asked to give up and has not yet confirmed.</summary>
    public IReadOnlyDictionary<Guid, IReadOnlySet<int>> PendingRevocation { get; init; } = TopicAssignment.Empty;

    public bool IsStatic => InstanceId is not null;

    /// <summary>
    /// Set for a member that speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat) inside a
    /// consumer group during an online migration: its session timeout and the protocols it offered.
    /// </summary>
    public ClassicMembership? Classic { get; init; }

    public bool UsesClassicProtocol => Classic is not null;

    /// <summary>Fully reconciled with the target of that epoch.</summary>
    public bool IsReconciledTo(int targetEpoch) => MemberEpoch == targetEpoch && State == MemberState.Stable;

    /// <summary>The fields of the member metadata record (a change is written as a new record).</summary>
    public bool SameMetadata(ConsumerGroupMember other) =>
        InstanceId == other.InstanceId && RackId == other.RackId && ClientId == other.ClientId && ClientHost == other.ClientHost
        && RebalanceTimeoutMs == other.RebalanceTimeoutMs && SameSubscription(other) && Equals(Classic, other.Classic);

    /// <summary>What the assignment depends on: a change bumps the group epoch.</summary>
    public bool SameSubscription(ConsumerGroupMember other, bool ignoringRegex = false) =>
        (ignoringRegex || SubscribedTopicRegex == other.SubscribedTopicRegex) && ServerAssignor == other.ServerAssignor && RackId == other.RackId
        && (ReferenceEquals(SubscribedTopicNames, other.SubscribedTopicNames)
            || (SubscribedTopicNames.Count == other.SubscribedTopicNames.Count
                && SubscribedTopicNames.Order(StringComparer.Ordinal).SequenceEqual(other.SubscribedTopicNames.Order(StringComparer.Ordinal), StringComparer.Ordinal)));

    /// <summary>The fields of the current assignment record.</summary>
    public bool SameAssignmentState(ConsumerGroupMember other) =>
        MemberEpoch == other.MemberEpoch && PreviousMemberEpoch == other.PreviousMemberEpoch && State == other.State
        && TopicAssignment.AreEqual(Assigned, other.Assigned) && TopicAssignment.AreEqual(PendingRevocation, other.PendingRevocation);
}

/// <summary>What a classic-protocol member of a consumer group joined with (ClassicMemberMetadata).</summary>
internal sealed record ClassicMembership(int SessionTimeoutMs, IReadOnlyList<(string Name, byte[] Metadata)> Protocols)
{
    public bool Equals(ClassicMembership? other) =>
        other is not null && SessionTimeoutMs == other.SessionTimeoutMs && Protocols.Count == other.Protocols.Count
        && Protocols.Zip(other.Protocols).All(p => p.First.Name == p.Second.Name && p.First.Metadata.AsSpan().SequenceEqual(p.Second.Metadata));

    public override int GetHashCode() => HashCode.Combine(SessionTimeoutMs, Protocols.Count);
}
