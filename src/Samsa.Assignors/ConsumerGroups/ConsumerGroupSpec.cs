namespace Samsa.Assignors;

/// <summary>
/// A KIP-848 server-side assignor ("uniform", "range"): the group coordinator calls it with the
/// members' subscriptions and their current target assignments and stores what it returns as the
/// new target assignment.
/// </summary>
public interface IConsumerGroupAssignor
{
    /// <summary>The name members ask for in ConsumerGroupHeartbeat's <c>ServerAssignor</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Computes the target assignment. Pure: the same spec and metadata give the same assignment,
    /// whatever the order the dictionaries enumerate in.
    /// </summary>
    GroupAssignment Assign(GroupSpec group, ITopicMetadata topics);
}

/// <summary>The topic metadata an assignor sees: partition counts by topic id.</summary>
public interface ITopicMetadata
{
    /// <summary>Partition count of a topic, or -1 when the topic does not exist (then nothing of it is assigned).</summary>
    int PartitionCount(Guid topicId);
}

/// <summary>One member of a consumer group as an assignor sees it.</summary>
public sealed class MemberSpec
{
    /// <summary>Creates a member; <paramref name="currentAssignment"/> is empty for a new member.</summary>
    public MemberSpec(string? rackId, IReadOnlyCollection<Guid> subscribedTopicIds, IReadOnlyDictionary<Guid, IReadOnlySet<int>> currentAssignment)
    {
        ArgumentNullException.ThrowIfNull(subscribedTopicIds);
        ArgumentNullException.ThrowIfNull(currentAssignment);
        RackId = rackId;
        SubscribedTopicIds = subscribedTopicIds;
        CurrentAssignment = currentAssignment;
    }

    /// <summary>The member's <c>client.rack</c>, if it sent one. The assignors here do not use it yet (nor do Kafka's uniform and range).</summary>
    public string? RackId { get; }

    /// <summary>Topic ids the member subscribes to (resolved from names or a regex by the coordinator).</summary>
    public IReadOnlyCollection<Guid> SubscribedTopicIds { get; }

    /// <summary>The member's current *target* assignment (what the previous Assign gave it); empty for a new member.</summary>
    public IReadOnlyDictionary<Guid, IReadOnlySet<int>> CurrentAssignment { get; }
}

/// <summary>The group an assignor assigns: its members by member id.</summary>
public sealed class GroupSpec
{
    /// <summary>Creates the spec: member id -> spec.</summary>
    public GroupSpec(IReadOnlyDictionary<string, MemberSpec> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Members = members;
        IsHomogeneous = SameSubscriptions(members);
    }

    /// <summary>Member id -> spec.</summary>
    public IReadOnlyDictionary<string, MemberSpec> Members { get; }

    /// <summary>True when every member subscribes to the same topics (assignors may take a faster path).</summary>
    public bool IsHomogeneous { get; }

    private static bool SameSubscriptions(IReadOnlyDictionary<string, MemberSpec> members)
    {
        HashSet<Guid>? first = null;
        foreach (var member in members.Values)
        {
            if (first is null)
            {
                first = [.. member.SubscribedTopicIds];
                continue;
            }
            // A plain collection may repeat an id; SetEquals compares it as a set.
            if (!first.SetEquals(member.SubscribedTopicIds))
                return false;
        }
        return true;
    }
}

/// <summary>
/// What an assignor returns: each member's new target assignment. A member's topic appears only
/// when the member gets at least one of its partitions. Where a member keeps exactly what it had,
/// the dictionary or set may be the very instance its <see cref="MemberSpec.CurrentAssignment"/>
/// held (as Kafka's assignors do to avoid copying), so callers pass assignments they do not mutate.
/// </summary>
public sealed class GroupAssignment
{
    /// <summary>Creates the assignment: member id -> topic id -> partitions.</summary>
    public GroupAssignment(IReadOnlyDictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Members = members;
    }

    /// <summary>Every member of the spec has an entry (possibly empty).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> Members { get; }
}
