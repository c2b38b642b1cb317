using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.Groups.Consumer;

/// <summary>
/// A KIP-848 consumer group: the group epoch (bumped by any change of membership, subscriptions or
/// subscribed topics), the target assignment and its epoch, each member's current assignment, and
/// who owns every partition. Changed only by replaying records (GroupShard.Consumer.Replay.cs);
/// operations read it to decide which records to write.
/// </summary>
internal sealed class ConsumerGroup(string groupId, TimeProvider time, IReadOnlyList<string> assignors) : Group(groupId)
{
    private readonly Dictionary<string, ConsumerGroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _staticMembers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> _target = new(StringComparer.Ordinal);
    private readonly Dictionary<(Guid Topic, int Partition), int> _partitionEpochs = [];
    private readonly Dictionary<string, IReadOnlyList<string>> _regexes = new(StringComparer.Ordinal);
    private ConsumerGroupState _lastState = ConsumerGroupState.Empty;

    public override GroupType Type => GroupType.Consumer;

    public int GroupEpoch { get; set; }

    /// <summary>The epoch of the target assignment; behind <see cref="GroupEpoch"/> while Assigning.</summary>
    public int AssignmentEpoch { get; set; }

    public long StateTimestamp { get; private set; } = time.GetUtcNow().ToUnixTimeMilliseconds();

    public bool Deleted { get; set; }

    /// <summary>Set after loading: the next heartbeat checks the target against the topics as they are now.</summary>
    public bool MetadataStale { get; set; }

    public IReadOnlyDictionary<string, ConsumerGroupMember> Members => _members;

    /// <summary>Regular expression → the topics it matched when last resolved.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Regexes => _regexes;

    public override bool IsEmpty => _members.Count == 0;

    public override bool IsDead => Deleted;

    /// <summary>Derived from the epochs; recomputed once after a change, not per replayed record.</summary>
    public ConsumerGroupState State
    {
        get
        {
            if (_stateDirty)
            {
                _stateDirty = false;
                var state = ComputeState();
                if (state != _lastState)
                {
                    _lastState = state;
                    StateTimestamp = time.GetUtcNow().ToUnixTimeMilliseconds();
                }
            }
            return _lastState;
        }
    }

    private bool _stateDirty;

    private ConsumerGroupState ComputeState()
    {
        if (Deleted)
            return ConsumerGroupState.Dead;
        if (_members.Count == 0)
            return ConsumerGroupState.Empty;
        if (GroupEpoch > AssignmentEpoch)
            return ConsumerGroupState.Assigning;
        foreach (var m in _members.Values)
        {
            if (!m.IsReconciledTo(AssignmentEpoch))
                return ConsumerGroupState.Reconciling;
        }
        return ConsumerGroupState.Stable;
    }

    public override string StateName => State.ToString();

    public ConsumerGroupMember? Member(string memberId) => _members.GetValueOrDefault(memberId);

    public ConsumerGroupMember? StaticMember(string instanceId) =>
        _staticMembers.TryGetValue(instanceId, out var id) ? _members.GetValueOrDefault(id) : null;

    public IReadOnlyDictionary<Guid, IReadOnlySet<int>> TargetOf(string memberId) => _target.GetValueOrDefault(memberId) ?? TopicAssignment.Empty;

    public IReadOnlyDictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> Target => _target;

    /// <summary>The epoch of the member holding a partition (assigned or still revoking), or -1 when free.</summary>
    public int OwnerEpoch(Guid topic, int partition) => _partitionEpochs.GetValueOrDefault((topic, partition), -1);

    /// <summary>Partition → owner's epoch, for invariant checks.</summary>
    public IReadOnlyDictionary<(Guid Topic, int Partition), int> PartitionEpochs => _partitionEpochs;

    /// <summary>Puts a member's metadata in place (replay of its member metadata record).</summary>
    public void SetMetadata(ConsumerGroupMember metadata)
    {
        if (_members.TryGetValue(metadata.MemberId, out var current))
        {
            metadata = metadata with
            {
                MemberEpoch = current.MemberEpoch,
                PreviousMemberEpoch = current.PreviousMemberEpoch,
                State = current.State,
                Assigned = current.Assigned,
                PendingRevocation = current.PendingRevocation,
            };
        }
        Put(current, metadata);
    }

    /// <summary>Puts a member's assignment state in place (replay of its current assignment record).</summary>
    public void SetAssignment(string memberId, int epoch, int previousEpoch, MemberState state,
        IReadOnlyDictionary<Guid, IReadOnlySet<int>> assigned, IReadOnlyDictionary<Guid, IReadOnlySet<int>> revoking)
    {
        var current = _members.GetValueOrDefault(memberId);
        var next = (current ?? new ConsumerGroupMember { MemberId = memberId }) with
        {
            MemberEpoch = epoch,
            PreviousMemberEpoch = previousEpoch,
            State = state,
            Assigned = assigned,
            PendingRevocation = revoking,
        };
        Put(current, next);
    }

    private void Put(ConsumerGroupMember? current, ConsumerGroupMember next)
    {
        Invalidate(next.MemberId);
        if (current is not null)
            ReleasePartitions(current);
        _members[next.MemberId] = next;
        if (current?.InstanceId is not null && current.InstanceId != next.InstanceId && _staticMembers.GetValueOrDefault(current.InstanceId) == current.MemberId)
            _staticMembers.Remove(current.InstanceId);
        if (next.InstanceId is not null)
            _staticMembers[next.InstanceId] = next.MemberId;
        ClaimPartitions(next);
        Touched();
    }

    /// <summary>Removes a member whose records were all tombstoned.</summary>
    public void RemoveMember(string memberId)
    {
        Invalidate(memberId);
        if (!_members.Remove(memberId, out var member))
            return;
        ReleasePartitions(member);
        if (member.InstanceId is not null && _staticMembers.GetValueOrDefault(member.InstanceId) == memberId)
            _staticMembers.Remove(member.InstanceId);
        Touched();
    }

    public void SetTarget(string memberId, IReadOnlyDictionary<Guid, IReadOnlySet<int>>? assignment)
    {
        Invalidate(memberId);
        if (assignment is null)
            _target.Remove(memberId);
        else
            _target[memberId] = assignment;
        Touched();
    }

    public void SetRegex(string regex, IReadOnlyList<string>? topics)
    {
        if (topics is null)
            _regexes.Remove(regex);
        else
            _regexes[regex] = topics;
        Touched();
    }

    private void ClaimPartitions(ConsumerGroupMember member)
    {
        foreach (var (topic, partitions) in member.Assigned)
        {
            foreach (int p in partitions)
                _partitionEpochs[(topic, p)] = member.MemberEpoch;
        }
        foreach (var (topic, partitions) in member.PendingRevocation)
        {
            foreach (int p in partitions)
                _partitionEpochs[(topic, p)] = member.MemberEpoch;
        }
    }

    private void ReleasePartitions(ConsumerGroupMember member)
    {
        foreach (var (topic, partitions) in member.Assigned)
        {
            foreach (int p in partitions)
                _partitionEpochs.Remove((topic, p));
        }
        foreach (var (topic, partitions) in member.PendingRevocation)
        {
            foreach (int p in partitions)
                _partitionEpochs.Remove((topic, p));
        }
    }

    /// <summary>Marks the group for a new view; its state is recomputed when next read.</summary>
    public void Touched()
    {
        _stateDirty = true;
        MarkChanged();
    }

    /// <summary>The topics each member subscribes to: its names plus what its regex matched.</summary>
    public IEnumerable<string> SubscribedTopicsOf(ConsumerGroupMember member)
    {
        IEnumerable<string> topics = member.SubscribedTopicNames;
        if (member.SubscribedTopicRegex is { } regex && _regexes.TryGetValue(regex, out var matched))
            topics = topics.Concat(matched);
        return topics.Distinct(StringComparer.Ordinal);
    }

    public HashSet<string> SubscribedTopicNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in _members.Values)
            names.UnionWith(SubscribedTopicsOf(m));
        return names;
    }

    /// <summary>Views of members whose records did not change since the last view are reused.</summary>
    private readonly Dictionary<string, MemberView> _memberViews = new(StringComparer.Ordinal);

    private void Invalidate(string memberId) => _memberViews.Remove(memberId);

    public override GroupView View(ITopicCatalog topics) => new()
    {
        GroupId = GroupId,
        Type = GroupType.Consumer,
        State = StateName,
        Epoch = GroupEpoch,
        AssignmentEpoch = AssignmentEpoch,
        ProtocolType = "consumer",
        Protocol = PreferredAssignor,
        StateTimestamp = StateTimestamp,
        Members = _members.Values.Select(m => _memberViews.TryGetValue(m.MemberId, out var cached) ? cached : _memberViews[m.MemberId] = new MemberView
        {
            MemberId = m.MemberId,
            InstanceId = m.InstanceId,
            RackId = m.RackId,
            ClientId = m.ClientId,
            ClientHost = m.ClientHost,
            MemberEpoch = m.MemberEpoch,
            MemberState = MemberStates.Name(m.State),
            SubscribedTopicNames = m.SubscribedTopicNames,
            SubscribedTopicRegex = m.SubscribedTopicRegex,
            ServerAssignor = m.ServerAssignor,
            Assigned = Views(m.Assigned, topics),
            PendingRevocation = Views(m.PendingRevocation, topics),
            Target = Views(TargetOf(m.MemberId), topics),
        }).ToList(),
    };

    /// <summary>
    /// The assignor the group assigns with: the one most members asked for (group.remote.assignor),
    /// ties and no preference going to the earliest of group.consumer.assignors (its first is the default).
    /// </summary>
    public string PreferredAssignor => Preferred(_members.Values, assignors);

    public static string Preferred(IEnumerable<ConsumerGroupMember> members, IReadOnlyList<string> assignors)
    {
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in members)
        {
            if (m.ServerAssignor is { } name)
                votes[name] = votes.GetValueOrDefault(name) + 1;
        }
        return assignors.OrderByDescending(a => votes.GetValueOrDefault(a)).First();
    }

    private static List<TopicPartitionsView> Views(IReadOnlyDictionary<Guid, IReadOnlySet<int>> assignment, ITopicCatalog topics) =>
        TopicAssignment.Sorted(assignment).Select(t => new TopicPartitionsView(t.Topic, topics.NameOf(t.Topic) ?? "", t.Partitions)).ToList();
}
