using System.Collections.ObjectModel;

namespace Samsa.Assignors;

/// <summary>
/// Turns a <see cref="GroupModel"/>'s owner arrays into a <see cref="GroupAssignment"/>. A rebalance
/// usually changes few members (one joins, a few give up a partition each), so a member's set for
/// a topic that is exactly what it had is its current instance, and so is its whole dictionary when
/// nothing of it changed; the rest get one set per member and topic: a range when contiguous (what
/// range and a fresh uniform assignment produce), else a sorted array.
/// </summary>
internal sealed class AssignmentWriter(GroupModel group)
{
    private static readonly IReadOnlyDictionary<Guid, IReadOnlySet<int>> Nothing = ReadOnlyDictionary<Guid, IReadOnlySet<int>>.Empty;

    // Created only for members whose assignment changes, so an unchanged member costs nothing.
    private readonly Dictionary<Guid, IReadOnlySet<int>>?[] _changed = new Dictionary<Guid, IReadOnlySet<int>>?[group.MemberCount];
    private readonly int[] _reused = new int[group.MemberCount];
    private readonly int[] _topics = new int[group.MemberCount];

    // Per-topic scratch, indexed by member and reset after each topic.
    private readonly int[] _count = new int[group.MemberCount];
    private readonly int[] _first = new int[group.MemberCount];
    private readonly int[] _last = new int[group.MemberCount];
    private readonly int[] _touched = new int[group.MemberCount];
    private readonly int[]?[] _arrays = new int[group.MemberCount][];

    public GroupAssignment Write()
    {
        CountTopics();
        for (int t = 0; t < group.TopicIds.Length; t++)
            WriteTopic(t);

        var result = new Dictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>>(group.MemberCount, StringComparer.Ordinal);
        for (int m = 0; m < group.MemberCount; m++)
        {
            var current = group.Members[m].CurrentAssignment;
            result[group.MemberIds[m]] = _changed[m] as IReadOnlyDictionary<Guid, IReadOnlySet<int>>
                ?? (_reused[m] == current.Count ? current
                : _reused[m] == 0 ? Nothing
                : Changed(m, group.TopicIds.Length)); // kept some topics unchanged, lost others
        }
        return new GroupAssignment(result);
    }

    /// <summary>How many topics each member gets, so that a changed member's dictionary is allocated at its size.</summary>
    private void CountTopics()
    {
        int[] seen = new int[group.MemberCount]; // the last topic (plus one) seen per member
        for (int t = 0; t < group.TopicIds.Length; t++)
        {
            foreach (int m in group.Owners[t])
            {
                if (m >= 0 && seen[m] != t + 1)
                {
                    seen[m] = t + 1;
                    _topics[m]++;
                }
            }
        }
    }

    private void WriteTopic(int t)
    {
        int[] owners = group.Owners[t];
        int touched = 0;
        for (int p = 0; p < owners.Length; p++)
        {
            int m = owners[p];
            if (m < 0)
                continue;
            if (_count[m]++ == 0)
            {
                _touched[touched++] = m;
                _first[m] = p;
            }
            _last[m] = p;
        }

        bool needsFill = false;
        for (int i = 0; i < touched; i++)
        {
            int m = _touched[i];
            if (group.Members[m].CurrentAssignment.TryGetValue(group.TopicIds[t], out var current) && current.Count == _count[m] && OwnsAll(owners, m, current))
            {
                _reused[m]++;
                _changed[m]?.Add(group.TopicIds[t], current);
            }
            else if (_last[m] - _first[m] + 1 == _count[m])
            {
                Changed(m, t).Add(group.TopicIds[t], new RangePartitionSet(_first[m], _last[m] + 1));
            }
            else
            {
                _arrays[m] = new int[_count[m]];
                needsFill = true;
            }
        }

        if (needsFill)
        {
            // Ascending partitions, so each array comes out sorted; _count counts back up from zero.
            for (int i = 0; i < touched; i++)
                _count[_touched[i]] = 0;
            for (int p = 0; p < owners.Length; p++)
            {
                int m = owners[p];
                if (m >= 0 && _arrays[m] is { } array)
                    array[_count[m]++] = p;
            }
        }
        for (int i = 0; i < touched; i++)
        {
            int m = _touched[i];
            if (_arrays[m] is { } array)
            {
                Changed(m, t).Add(group.TopicIds[t], new SortedPartitionSet(array));
                _arrays[m] = null;
            }
            _count[m] = 0;
        }
    }

    /// <summary>
    /// Member <paramref name="m"/>'s new dictionary, created on its first changed topic. Its
    /// entries for topics before <paramref name="before"/> were all unchanged, and the owner arrays
    /// still say which: a current set the member still owns in full.
    /// </summary>
    private Dictionary<Guid, IReadOnlySet<int>> Changed(int m, int before)
    {
        if (_changed[m] is { } existing)
            return existing;
        var created = new Dictionary<Guid, IReadOnlySet<int>>(_topics[m]);
        foreach (var (topicId, current) in group.Members[m].CurrentAssignment)
        {
            if (group.TryTopicIndex(topicId, out int t) && t < before && current.Count > 0 && OwnsAll(group.Owners[t], m, current))
                created.Add(topicId, current);
        }
        return _changed[m] = created;
    }

    // Same count and every partition owned by the member: the current set is the new one.
    private static bool OwnsAll(int[] owners, int m, IReadOnlySet<int> current)
    {
        foreach (int p in new PartitionsOf(current))
        {
            if ((uint)p >= (uint)owners.Length || owners[p] != m)
                return false;
        }
        return true;
    }
}
