using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.Groups;

/// <summary>
/// What every group type shares: its id, type and Kafka state name. Committed offsets are kept
/// apart from groups (as Kafka's OffsetMetadataManager does), so a group can change type — an empty
/// classic group becoming a consumer group — without losing them.
/// </summary>
internal abstract class Group(string groupId)
{
    public string GroupId { get; } = groupId;

    public abstract GroupType Type { get; }

    public abstract string StateName { get; }

    /// <summary>No members (offsets may remain).</summary>
    public abstract bool IsEmpty { get; }

    public abstract bool IsDead { get; }

    /// <summary>The shard's set of groups changed by the running operation, whose views it republishes.</summary>
    public HashSet<Group>? Tracker { get; set; }

    /// <summary>Called by whatever changes the group, so observers get a new view.</summary>
    public void MarkChanged() => Tracker?.Add(this);

    public abstract GroupView View(ITopicCatalog topics);
}

/// <summary>The topics the coordinator assigns from: ids, names and partition counts.</summary>
internal interface ITopicCatalog
{
    bool TryGet(string name, out Guid id, out int partitions);

    /// <summary>The name of a topic id, or null when no such topic exists.</summary>
    string? NameOf(Guid id);

    /// <summary>Partition count, or -1 when the topic does not exist.</summary>
    int PartitionCount(Guid id);

    /// <summary>Every topic a subscription may match (internal topics excluded).</summary>
    IEnumerable<string> Names { get; }
}

/// <summary>No topics at all: for coordinators built without a broker (tests of classic groups).</summary>
internal sealed class EmptyTopicCatalog : ITopicCatalog
{
    public static readonly EmptyTopicCatalog Instance = new();

    public bool TryGet(string name, out Guid id, out int partitions)
    {
        id = Guid.Empty;
        partitions = -1;
        return false;
    }

    public string? NameOf(Guid id) => null;

    public int PartitionCount(Guid id) => -1;

    public IEnumerable<string> Names => [];
}
