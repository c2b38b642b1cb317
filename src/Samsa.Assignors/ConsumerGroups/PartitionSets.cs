using System.Collections;

namespace Samsa.Assignors;

/// <summary>
/// The immutable partition sets the assignors hand out. Assignments are built once and then only
/// read (the coordinator diffs, encodes and stores them), so a contiguous run costs two ints and
/// anything else one sorted array instead of a hash set; both enumerate in ascending order, which
/// is the order Kafka lists partitions in its responses.
/// </summary>
internal abstract class PartitionSet : IReadOnlySet<int>
{
    public abstract int Count { get; }

    public abstract bool Contains(int item);

    public abstract IEnumerator<int> GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool IsSubsetOf(IEnumerable<int> other)
    {
        var set = AsSet(other);
        return Count <= set.Count && AllIn(set);
    }

    public bool IsProperSubsetOf(IEnumerable<int> other)
    {
        var set = AsSet(other);
        return Count < set.Count && AllIn(set);
    }

    public bool IsSupersetOf(IEnumerable<int> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (int p in other)
        {
            if (!Contains(p))
                return false;
        }
        return true;
    }

    public bool IsProperSupersetOf(IEnumerable<int> other)
    {
        var set = AsSet(other);
        return set.Count < Count && IsSupersetOf(set);
    }

    public bool Overlaps(IEnumerable<int> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (int p in other)
        {
            if (Contains(p))
                return true;
        }
        return false;
    }

    public bool SetEquals(IEnumerable<int> other)
    {
        var set = AsSet(other);
        return set.Count == Count && IsSupersetOf(set);
    }

    public override string ToString() => $"[{string.Join(",", this)}]";

    private bool AllIn(IReadOnlySet<int> set)
    {
        foreach (int p in this)
        {
            if (!set.Contains(p))
                return false;
        }
        return true;
    }

    // Counts only mean something for a set: a plain sequence may repeat a partition.
    private static IReadOnlySet<int> AsSet(IEnumerable<int> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other as IReadOnlySet<int> ?? new HashSet<int>(other);
    }
}

/// <summary>The partitions [start, end).</summary>
internal sealed class RangePartitionSet(int start, int end) : PartitionSet
{
    public int Start { get; } = start;

    public int End { get; } = end;

    public override int Count => End - Start;

    public override bool Contains(int item) => item >= Start && item < End;

    public override IEnumerator<int> GetEnumerator()
    {
        for (int p = Start; p < End; p++)
            yield return p;
    }

    public override string ToString() => Count == 0 ? "[]" : $"[{Start}..{End - 1}]";
}

/// <summary>Ascending, distinct partitions in an array the set owns.</summary>
internal sealed class SortedPartitionSet(int[] partitions) : PartitionSet
{
    public override int Count => partitions.Length;

    public override bool Contains(int item) => Array.BinarySearch(partitions, item) >= 0;

    public override IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)partitions).GetEnumerator();
}
