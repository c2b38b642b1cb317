using System.Runtime.InteropServices;

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

        // One dictionary lookup per subscription: topics are numbered as they are first seen,
        // and renumbered in id order once the existing ones are known.
        var seenIds = new List<Guid>();
        int[][] seen = SeenTopics(seenIds);
        var existing = new List<(Guid Id, int Seen, int Partitions)>(seenIds.Count);
        for (int i = 0; i < seenIds.Count; i++)
        {
            int partitions = metadata.PartitionCount(seenIds[i]);
            if (partitions > 0)
                existing.Add((seenIds[i], i, partitions));
        }
        existing.Sort((a, b) => a.Id.CompareTo(b.Id));
        int[] renumber = new int[seenIds.Count];
        Array.Fill(renumber, -1);
        TopicIds = new Guid[existing.Count];
        Owners = new int[existing.Count][];
        for (int t = 0; t < existing.Count; t++)
        {
            TopicIds[t] = existing[t].Id;
            renumber[existing[t].Seen] = t;
            Owners[t] = new int[existing[t].Partitions];
            Array.Fill(Owners[t], -1);
            TotalPartitions += existing[t].Partitions;
        }
        for (int i = 0; i < seenIds.Count; i++)
            CollectionsMarshal.GetValueRefOrNullRef(_topicIndex, seenIds[i]) = renumber[i];
        MemberTopics = _homogeneous ? SharedTopics(Members.Length, TopicIds.Length) : Renumber(seen, renumber);
        Loads = new int[Members.Length];
    }

    public string[] MemberIds { get; }

    public MemberSpec[] Members { get; }

    public Guid[] TopicIds { get; }

    /// <summary>Topic, partition -> owning member, or -1 while unassigned.</summary>
    public int[][] Owners { get; }

    /// <summary>Member -> the topics it subscribes to that exist, each once, in no particular order.</summary>
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
        // subscribed[t] == m + 1 while member m's claims are checked (everyone subscribes to every
        // topic of a homogeneous group).
        int[] subscribed = new int[TopicIds.Length];
        for (int m = 0; m < Members.Length; m++)
        {
            if (Members[m].CurrentAssignment.Count == 0)
                continue;
            if (!_homogeneous)
            {
                foreach (int t in MemberTopics[m])
                    subscribed[t] = m + 1;
            }
            foreach (var (topicId, partitions) in Members[m].CurrentAssignment)
            {
                if (!TryTopicIndex(topicId, out int t) || (!_homogeneous && subscribed[t] != m + 1))
                    continue;
                int[] owners = Owners[t];
                foreach (int p in new PartitionsOf(partitions))
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
            if (!TryTopicIndex(topicId, out int t))
                continue;
            foreach (int p in new PartitionsOf(partitions))
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
    public bool TryTopicIndex(Guid topicId, out int t) => _topicIndex.TryGetValue(topicId, out t) && t >= 0;

    private static int[][] SharedTopics(int members, int topics)
    {
        int[] all = new int[topics];
        for (int t = 0; t < topics; t++)
            all[t] = t;
        var result = new int[members][];
        Array.Fill(result, all);
        return result;
    }

    /// <summary>
    /// Each member's distinct subscriptions as first-seen numbers (one shared list when the group
    /// is homogeneous), filling <see cref="_topicIndex"/> with those numbers and
    /// <paramref name="ids"/> with the ids in that order.
    /// </summary>
    private int[][] SeenTopics(List<Guid> ids)
    {
        var result = new int[_homogeneous ? Math.Min(1, Members.Length) : Members.Length][];
        var stamp = new List<int>();
        var scratch = new List<int>();
        for (int m = 0; m < result.Length; m++)
        {
            scratch.Clear();
            // This loop runs once per subscription of every member: a HashSet (what subscriptions
            // usually are) is walked with its own enumerator rather than through the interface.
            if (Members[m].SubscribedTopicIds is HashSet<Guid> set)
            {
                foreach (var id in set)
                    See(id, m, ids, stamp, scratch);
            }
            else
            {
                foreach (var id in Members[m].SubscribedTopicIds)
                    See(id, m, ids, stamp, scratch);
            }
            result[m] = [.. scratch];
        }
        return result;
    }

    private void See(Guid id, int m, List<Guid> ids, List<int> stamp, List<int> into)
    {
        ref int number = ref CollectionsMarshal.GetValueRefOrAddDefault(_topicIndex, id, out bool known);
        if (!known)
        {
            number = ids.Count;
            ids.Add(id);
            stamp.Add(0);
        }
        // stamp holds the last member (plus one) that listed the topic: a repeated id counts once.
        if (stamp[number] != m + 1)
        {
            stamp[number] = m + 1;
            into.Add(number);
        }
    }

    private static int[][] Renumber(int[][] seen, int[] renumber)
    {
        for (int m = 0; m < seen.Length; m++)
        {
            int[] topics = seen[m];
            int kept = 0;
            foreach (int number in topics)
            {
                if (renumber[number] >= 0)
                    topics[kept++] = renumber[number];
            }
            // Only a member subscribed to a missing topic needs a shorter copy.
            if (kept < topics.Length)
                seen[m] = topics[..kept];
        }
        return seen;
    }
}
