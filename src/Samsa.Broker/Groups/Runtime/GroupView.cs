namespace Samsa.Broker.Groups.Runtime;

/// <summary>The group protocols a coordinator serves (ListGroups' GroupType).</summary>
internal enum GroupType
{
    Classic,
    Consumer,

    /// <summary>KIP-932 share groups (ShareGroupHeartbeat).</summary>
    Share,
}

internal static class GroupTypes
{
    public static string Name(GroupType type) => type switch
    {
        GroupType.Consumer => "consumer",
        GroupType.Share => "share",
        _ => "classic",
    };
}

/// <summary>Partitions of one topic, by id and name (classic assignments carry names only: id empty).</summary>
internal sealed record TopicPartitionsView(Guid TopicId, string Topic, IReadOnlyList<int> Partitions);

/// <summary>
/// An immutable picture of a group, taken under its shard's lock right after a change was applied
/// and read outside it: DescribeGroups, ListGroups and ConsumerGroupDescribe answer from these, and
/// observers receive them.
/// </summary>
internal sealed record GroupView
{
    public required string GroupId { get; init; }
    public required GroupType Type { get; init; }

    /// <summary>Kafka's state name for the type (Empty, PreparingRebalance, ..., Assigning, Reconciling, Stable, Dead).</summary>
    public required string State { get; init; }

    /// <summary>Classic: the generation. Consumer and share: the group epoch.</summary>
    public required int Epoch { get; init; }

    /// <summary>Consumer: the epoch of the target assignment; classic: the generation.</summary>
    public int AssignmentEpoch { get; init; }
    public string ProtocolType { get; init; } = "";

    /// <summary>Classic: the chosen protocol (assignor). Consumer: the server assignor in use. Share: "simple".</summary>
    public string? Protocol { get; init; }
    public string? LeaderId { get; init; }
    public long StateTimestamp { get; init; }
    public required IReadOnlyList<MemberView> Members { get; init; }
}

internal sealed record MemberView
{
    public required string MemberId { get; init; }
    public string? InstanceId { get; init; }
    public string? RackId { get; init; }
    public string ClientId { get; init; } = "";
    public string ClientHost { get; init; } = "";

    /// <summary>Consumer: the member epoch; classic: the group's generation.</summary>
    public int MemberEpoch { get; init; }

    /// <summary>Consumer members: Stable, UnrevokedPartitions, UnreleasedPartitions; classic: empty.</summary>
    public string MemberState { get; init; } = "";
    public IReadOnlyList<string> SubscribedTopicNames { get; init; } = [];
    public string? SubscribedTopicRegex { get; init; }
    public string? ServerAssignor { get; init; }
    public IReadOnlyList<TopicPartitionsView> Assigned { get; init; } = [];
    public IReadOnlyList<TopicPartitionsView> PendingRevocation { get; init; } = [];
    public IReadOnlyList<TopicPartitionsView> Target { get; init; } = [];

    /// <summary>Classic: the member's subscription for the chosen protocol and its assignment, as sent.</summary>
    public byte[] Metadata { get; init; } = [];
    public byte[] Assignment { get; init; } = [];
}
