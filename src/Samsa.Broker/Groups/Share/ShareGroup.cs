using Samsa.Assignors;
using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.Groups.Share;

/// <summary>
/// A KIP-932 share group (Kafka's ShareGroup): the group epoch (bumped by membership, subscription
/// and topic changes), the target assignment and its epoch, and each member's current assignment.
/// Changed only by replaying its records (GroupShard.Share.Replay.cs). Its state is Empty without
/// members and Stable with them (Kafka has no other live states for share groups): partitions are
/// never revoked, so nothing waits on anyone.
/// </summary>
internal sealed class ShareGroup(string groupId, TimeProvider time) : Group(groupId)
{
    public const string ProtocolType = "share";

    private readonly Dictionary<string, ShareGroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> _target = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemberView> _memberViews = new(StringComparer.Ordinal);
    private bool _wasEmpty = true;

    public override GroupType Type => GroupType.Share;

    public int GroupEpoch { get; set; }

    /// <summary>The epoch of the target assignment; behind <see cref="GroupEpoch"/> until the next heartbeat computes it.</summary>
    public int AssignmentEpoch { get; set; }

    public long StateTimestamp { get; private set; } = time.GetUtcNow().ToUnixTimeMilliseconds();

    public bool Deleted { get; set; }

    /// <summary>Set after loading: the next heartbeat checks the target against the topics as they are now.</summary>
    public bool MetadataStale { get; set; }

    public IReadOnlyDictionary<string, ShareGroupMember> Members => _members;

    public IReadOnlyDictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> Target => _target;

    public override bool IsEmpty => _members.Count == 0;

    public override bool IsDead => Deleted;

    public override string StateName => Deleted ? "Dead" : _members.Count == 0 ? "Empty" : "Stable";

    public ShareGroupMember? Member(string memberId) => _members.GetValueOrDefault(memberId);

    public IReadOnlyDictionary<Guid, IReadOnlySet<int>> TargetOf(string memberId) => _target.GetValueOrDefault(memberId) ?? TopicAssignment.Empty;

    /// <summary>Puts a member's metadata in place, keeping its assignment state (replay of type 10).</summary>
    public void SetMetadata(ShareGroupMember metadata)
    {
        if (_members.TryGetValue(metadata.MemberId, out var current))
            metadata = metadata with { MemberEpoch = current.MemberEpoch, PreviousMemberEpoch = current.PreviousMemberEpoch, Assigned = current.Assigned };
        Put(metadata);
    }

    /// <summary>Puts a member's assignment state in place (replay of type 14).</summary>
    public void SetAssignment(string memberId, int epoch, int previousEpoch, IReadOnlyDictionary<Guid, IReadOnlySet<int>> assigned)
    {
        var current = _members.GetValueOrDefault(memberId) ?? new ShareGroupMember { MemberId = memberId };
        Put(current with { MemberEpoch = epoch, PreviousMemberEpoch = previousEpoch, Assigned = assigned });
    }

    private void Put(ShareGroupMember member)
    {
        _memberViews.Remove(member.MemberId);
        _members[member.MemberId] = member;
        Touched();
    }

    public void RemoveMember(string memberId)
    {
        _memberViews.Remove(memberId);
        if (_members.Remove(memberId))
            Touched();
    }

    public void SetTarget(string memberId, IReadOnlyDictionary<Guid, IReadOnlySet<int>>? assignment)
    {
        _memberViews.Remove(memberId);
        if (assignment is null)
            _target.Remove(memberId);
        else
            _target[memberId] = assignment;
        Touched();
    }

    /// <summary>Marks the group for a new view, and notes when it changed between Empty and Stable.</summary>
    public void Touched()
    {
        bool empty = _members.Count == 0;
        if (empty != _wasEmpty)
        {
            _wasEmpty = empty;
            StateTimestamp = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
        MarkChanged();
    }

    public HashSet<string> SubscribedTopicNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in _members.Values)
            names.UnionWith(m.SubscribedTopicNames);
        return names;
    }

    public override GroupView View(ITopicCatalog topics) => new()
    {
        GroupId = GroupId,
        Type = GroupType.Share,
        State = StateName,
        Epoch = GroupEpoch,
        AssignmentEpoch = AssignmentEpoch,
        ProtocolType = ProtocolType,
        Protocol = SimpleShareAssignor.AssignorName,
        StateTimestamp = StateTimestamp,
        Members = _members.Values.Select(m => _memberViews.TryGetValue(m.MemberId, out var cached) ? cached : _memberViews[m.MemberId] = new MemberView
        {
            MemberId = m.MemberId,
            RackId = m.RackId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            MemberEpoch = m.MemberEpoch,
            MemberState = "Stable",
            SubscribedTopicNames = m.SubscribedTopicNames,
            ServerAssignor = SimpleShareAssignor.AssignorName,
            Assigned = Views(m.Assigned, topics),
            Target = Views(TargetOf(m.MemberId), topics),
        }).ToList(),
    };

    private static List<TopicPartitionsView> Views(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment, ITopicCatalog topics) =>
        TopicAssignment.Sorted(assignment).Select(t => new TopicPartitionsView(t.Topic, topics.NameOf(t.Topic) ?? "", t.Partitions)).ToList();
}
