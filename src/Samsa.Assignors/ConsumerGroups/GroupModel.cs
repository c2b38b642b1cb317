namespace Samsa.Assignors;

/// <summary>
/// A group spec as arrays, which is what keeps the assignors near-linear: members are numbered in
/// member-id order, the topics that exist and someone subscribes to are numbered in topic-id
/// order, and every partition has one owner slot. Numbering by sorted ids (never by dictionary
/// order) is what makes an assignment depend on the spec's contents alone.
/// </summary>
internal sealed class GroupModel
{
    private readonly Dictionary<Guid, int> _topicIndex = [];
    private readonly bool _homogeneous;

    public GroupModel(GroupSpec group, ITopicMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(metadata);
        MemberIds = [.. group.Members.Keys];
        Array.Sort(MemberIds, StringComparer.Ordinal);
        Members = Array.ConvertAll(MemberIds, id => group.Members[id]);
        _homogeneous = group.IsHomogeneous;

        var subscribed = new HashSet<Guid>();
        foreach (var member in Members)
        {
            subscribed.UnionWith(member.SubscribedTopicIds);
            if (_homogeneous)
                break;
        }
        var existing = new List<(Guid Id, int Partitions)>(subscribed.Count);
        foreach (var id in subscribed)
        {
            int partitions = metadata.PartitionCount(id);
            if (partitions > 0)
                existing.Add((id, partitions));
        }
        existing.Sort((a, b) => a.Id.CompareTo(b.Id));
        TopicIds = new Guid[existing.Count];
        Owners = new int[existing.Count][];
        for (int t = 0; t < existing.Count; t++)
        {
            TopicIds[t] = existing[t].Id;
            _topicIndex[existing[t].Id] = t;
            Owners[t] = new int[existing[t].Partitions];
            Array.Fill(Owners[t], -1);
            TotalPartitions += existing[t].Partitions;
        }
        MemberTopics = _homogeneous ? SharedTopics(Members.Length, TopicIds.Length) : OwnTopics();
        Loads = new int[Members.Length];
    }

    public string[] MemberIds { get; }

    public MemberSpec[] Members { get; }

    public Guid[] TopicIds { get; }

    /// <summary>Topic, partition -> owning member, or -1 while unassigned.</summary>
    public int[][] Owners { get; }

    /// <summary>Member -> the topics it subscribes to that exist, ascending.</summary>
    public int[][] MemberTopics { get; }

    /// <summary>Member -> partitions it owns in <see cref="Owners"/>; the assignors keep it in step.</summary>
    public int[] Loads { get; }

    public int TotalPartitions { get; }

    public int MemberCount => Members.Length;

    /// <summary>Topic -> its subscribers, ascending.</summary>
    public int[][] Subscribers()
    {
        var counts = new int[TopicIds.Length];
        foreach (var topics in MemberTopics)
        {
            foreach (int t in topics)
                counts[t]++;
        }
        var result = new int[TopicIds.Length][];
        for (int t = 0; t < result.Length; t++)
            result[t] = new int[counts[t]];
        Array.Clear(counts);
        for (int m = 0; m < MemberTopics.Length; m++)
        {
            foreach (int t in MemberTopics[m])
                result[t][counts[t]++] = m;
        }
        return result;
    }

    /// <summary>
    /// Takes the current assignments as the starting point, keeping only partitions a member still
    /// subscribes to and that still exist. The previous target never gives a partition to two
    /// members, but should a spec do so, the member first in id order keeps it.
    /// </summary>
    public void ClaimCurrent()
    {
        for (int m = 0; m < Members.Length; m++)
        {
            foreach (var (topicId, partitions) in Members[m].CurrentAssignment)
            {
                if (!TryTopic(m, topicId, out int t))
                    continue;
                int[] owners = Owners[t];
                foreach (int p in partitions)
                {
                    if ((uint)p < (uint)owners.Length && owners[p] < 0)
                    {
                        owners[p] = m;
                        Loads[m]++;
                    }
                }
            }
        }
    }

    /// <summary>Unassigns the <paramref name="count"/> last (in topic, then partition order) partitions member <paramref name="m"/> owns.</summary>
    public void ReleaseLast(int m, int count, List<long> scratch)
    {
        // Only the member's own current assignment can hold what it owns before new partitions
        // are handed out, so this never scans the whole group.
        scratch.Clear();
        foreach (var (topicId, partitions) in Members[m].CurrentAssignment)
        {
            if (!TryTopic(m, topicId, out int t))
                continue;
            foreach (int p in partitions)
            {
                if ((uint)p < (uint)Owners[t].Length && Owners[t][p] == m)
                    scratch.Add(((long)t << 32) | (uint)p);
            }
        }
        scratch.Sort();
        for (int i = scratch.Count - count; i < scratch.Count; i++)
        {
            Owners[(int)(scratch[i] >> 32)][(int)scratch[i]] = -1;
            Loads[m]--;
        }
    }

    /// <summary>The owners as an assignment; see <see cref="AssignmentWriter"/>.</summary>
    public GroupAssignment ToAssignment() => new AssignmentWriter(this).Write();

    /// <summary>The number of a topic that exists and someone subscribes to.</summary>
    public bool TryTopicIndex(Guid topicId, out int t) => _topicIndex.TryGetValue(topicId, out t);

    private bool TryTopic(int m, Guid topicId, out int t) =>
        _topicIndex.TryGetValue(topicId, out t) && (_homogeneous || Array.BinarySearch(MemberTopics[m], t) >= 0);

    private static int[][] SharedTopics(int members, int topics)
    {
        int[] all = new int[topics];
        for (int t = 0; t < topics; t++)
            all[t] = t;
        var result = new int[members][];
        Array.Fill(result, all);
        return result;
    }

    private int[][] OwnTopics()
    {
        var result = new int[Members.Length][];
        var seen = new int[TopicIds.Length];
        var scratch = new List<int>();
        for (int m = 0; m < Members.Length; m++)
        {
            scratch.Clear();
            foreach (var id in Members[m].SubscribedTopicIds)
            {
                // seen[t] holds the last member (plus one) that listed t: a repeated id counts once.
                if (_topicIndex.TryGetValue(id, out int t) && seen[t] != m + 1)
                {
                    seen[t] = m + 1;
                    scratch.Add(t);
                }
            }
            scratch.Sort();
            result[m] = [.. scratch];
        }
        return result;
    }
}
