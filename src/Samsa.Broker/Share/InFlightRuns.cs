using System.Runtime.InteropServices;

namespace Samsa.Broker.Share;

/// <summary>
/// Consecutive in-flight offsets that are alike in everything but their offset: one state, one
/// delivery count and, while acquired, one member and lock deadline. A struct, so that a
/// thousand offsets acquired together cost one list slot, not a thousand objects.
/// </summary>
internal struct InFlightRun
{
    public long First;
    public long Last;
    public RecordState State;
    public short DeliveryCount;

    /// <summary>Who holds the offsets; null unless acquired.</summary>
    public string? MemberId;

    /// <summary>When the acquisition lock runs out, as a <see cref="TimeProvider.GetTimestamp"/> value; 0 unless acquired.</summary>
    public long LockDeadline;

    public readonly long Count => Last - First + 1;

    public readonly bool IsLike(in InFlightRun other) =>
        State == other.State && DeliveryCount == other.DeliveryCount && LockDeadline == other.LockDeadline
        && string.Equals(MemberId, other.MemberId, StringComparison.Ordinal);

    public readonly InFlightBatch ToBatch() => new(First, Last, State, DeliveryCount, MemberId);
}

/// <summary>
/// The in-flight offsets of a share-partition as runs in offset order with no holes: each run
/// starts right after the one before it. Runs are split only where a change applies to part of
/// one, and <see cref="Normalize"/> joins neighbours that have become alike again.
/// </summary>
internal sealed class InFlightRuns
{
    private readonly List<InFlightRun> _runs = [];

    public int Count => _runs.Count;

    public bool IsEmpty => _runs.Count == 0;

    /// <summary>The last in-flight offset; only when not empty.</summary>
    public long Last => _runs[^1].Last;

    public InFlightRun this[int index] => _runs[index];

    /// <summary>The runs themselves, to change in place; invalid once a run is added or removed.</summary>
    public Span<InFlightRun> AsSpan() => CollectionsMarshal.AsSpan(_runs);

    /// <summary>The index of the run holding <paramref name="offset"/>, which must be in flight.</summary>
    public int IndexOf(long offset)
    {
        var runs = AsSpan();
        int lo = 0, hi = runs.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (runs[mid].First <= offset)
                lo = mid;
            else
                hi = mid - 1;
        }
        return lo;
    }

    /// <summary>
    /// Makes <paramref name="offset"/> the first offset of a run, splitting the run that holds it,
    /// and returns that run's index; an offset past the last one returns <see cref="Count"/>.
    /// </summary>
    public int SplitAt(long offset)
    {
        if (_runs.Count == 0 || offset > Last)
            return _runs.Count;
        int index = IndexOf(offset);
        var head = _runs[index];
        if (head.First == offset)
            return index;
        var tail = head;
        tail.First = offset;
        head.Last = offset - 1;
        _runs[index] = head;
        _runs.Insert(index + 1, tail);
        return index + 1;
    }

    /// <summary>Splits so that offsets <paramref name="first"/> to <paramref name="last"/> are exactly runs Start to End (exclusive).</summary>
    public (int Start, int End) Isolate(long first, long last)
    {
        int start = SplitAt(first);
        int end = SplitAt(last + 1);
        return (start, end);
    }

    /// <summary>Adds a run after the last one; it must start right after it.</summary>
    public void Append(in InFlightRun run)
    {
        if (_runs.Count > 0 && run.First != Last + 1)
            throw new InvalidOperationException($"A run from {run.First} cannot follow one ending at {Last}.");
        _runs.Add(run);
    }

    public void RemoveFirst(int count) => _runs.RemoveRange(0, count);

    public void Clear() => _runs.Clear();

    /// <summary>Joins neighbouring runs that are alike, in one pass.</summary>
    public void Normalize()
    {
        var runs = AsSpan();
        if (runs.Length < 2)
            return;
        int kept = 0;
        for (int i = 1; i < runs.Length; i++)
        {
            if (runs[kept].IsLike(runs[i]))
                runs[kept].Last = runs[i].Last;
            else
                runs[++kept] = runs[i];
        }
        _runs.RemoveRange(kept + 1, runs.Length - kept - 1);
    }
}
