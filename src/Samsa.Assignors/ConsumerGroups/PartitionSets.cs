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
    public int[] Items => partitions;

    public override int Count => partitions.Length;

    public override bool Contains(int item) => Array.BinarySearch(partitions, item) >= 0;

    public override IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)partitions).GetEnumerator();
}

/// <summary>
/// Enumerates a partition set without an enumerator object for the assignors' own types (what a
/// previous target assignment coming back as the current one is made of) and for hash sets.
/// </summary>
internal readonly struct PartitionsOf(IReadOnlySet<int> set)
{
    public Enumerator GetEnumerator() => new(set);

    public struct Enumerator : IDisposable
    {
        private readonly int[]? _array;
        private readonly bool _isHash;
        private readonly IEnumerator<int>? _other;
        private readonly int _end;
        private HashSet<int>.Enumerator _hash;
        private int _next;

        public Enumerator(IReadOnlySet<int> set)
        {
            switch (set)
            {
                case RangePartitionSet range:
                    (_next, _end) = (range.Start, range.End);
                    break;
                case SortedPartitionSet sorted:
                    (_array, _end) = (sorted.Items, sorted.Items.Length);
                    break;
                case HashSet<int> hash:
                    (_hash, _isHash) = (hash.GetEnumerator(), true);
                    break;
                default:
                    _other = set.GetEnumerator();
                    break;
            }
        }

        public int Current { get; private set; }

        public bool MoveNext()
        {
            if (_isHash || _other is not null)
            {
                bool more = _isHash ? _hash.MoveNext() : _other!.MoveNext();
                Current = !more ? 0 : _isHash ? _hash.Current : _other!.Current;
                return more;
            }
            if (_next >= _end)
                return false;
            Current = _array is null ? _next : _array[_next];
            _next++;
            return true;
        }

        public readonly void Dispose() => _other?.Dispose();
    }
}
