using Samsa.Broker.Groups.Consumer;

namespace Samsa.Broker.Groups.Share;

/// <summary>
/// A member of a share group as its records describe it: who it is and what it subscribes to
/// (member metadata record, type 10) and its epochs and assigned partitions (current assignment
/// record, type 14). Immutable, like <see cref="ConsumerGroupMember"/>: an operation builds the
/// member it wants, writes it as records, and the replay swaps it in. Share members have no
/// instance ids, regexes or client-side assignors, and nothing to revoke.
/// </summary>
internal sealed record ShareGroupMember
{
    public required string MemberId { get; init; }
    public string? RackId { get; init; }
    public string ClientId { get; init; } = "";
    public string ClientHost { get; init; } = "";
    public IReadOnlyList<string> SubscribedTopicNames { get; init; } = [];

    /// <summary>0 until the member's first heartbeat is answered; then the epoch of the target it was given.</summary>
    public int MemberEpoch { get; init; }
    public int PreviousMemberEpoch { get; init; }

    /// <summary>The partitions the member may fetch from (other members may fetch from them too).</summary>
    public IReadOnlyDictionary<Guid, IReadOnlySet<int>> Assigned { get; init; } = TopicAssignment.Empty;

    /// <summary>The fields of the member metadata record.</summary>
    public bool SameMetadata(ShareGroupMember other) =>
        RackId == other.RackId && ClientId == other.ClientId && ClientHost == other.ClientHost && SameSubscription(other);

    /// <summary>What the assignment depends on: a change bumps the group epoch.</summary>
    public bool SameSubscription(ShareGroupMember other) =>
        ReferenceEquals(SubscribedTopicNames, other.SubscribedTopicNames)
        || (SubscribedTopicNames.Count == other.SubscribedTopicNames.Count
            && SubscribedTopicNames.Order(StringComparer.Ordinal).SequenceEqual(other.SubscribedTopicNames.Order(StringComparer.Ordinal), StringComparer.Ordinal));

    /// <summary>The fields of the current assignment record.</summary>
    public bool SameAssignmentState(ShareGroupMember other) =>
        MemberEpoch == other.MemberEpoch && PreviousMemberEpoch == other.PreviousMemberEpoch && TopicAssignment.AreEqual(Assigned, other.Assigned);
}
