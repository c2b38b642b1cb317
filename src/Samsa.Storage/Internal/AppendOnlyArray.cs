namespace Samsa.Storage.Internal;

/// <summary>
/// A list with one writer (under the log's lock) and lock-free readers. The count is published
/// after the item is written and a grown array before the count, so a reader that reads the count
/// first always finds that many items in whichever array it then sees.
/// </summary>
internal sealed class AppendOnlyArray<T>
    where T : struct
{
    private T[] _items = new T[8];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public ReadOnlySpan<T> Items
    {
        get
        {
            int count = Volatile.Read(ref _count);
            return Volatile.Read(ref _items).AsSpan(0, count);
        }
    }

    public void Add(T item)
    {
        if (_count == _items.Length)
        {
            var bigger = new T[_items.Length * 2];
            _items.AsSpan().CopyTo(bigger);
            Volatile.Write(ref _items, bigger);
        }
        _items[_count] = item;
        Volatile.Write(ref _count, _count + 1);
    }
}

/// <summary>An offset index entry: the last offset of a batch (relative to the segment) and the batch's position.</summary>
internal readonly record struct OffsetEntry(int RelativeOffset, int Position);

/// <summary>A time index entry: the segment's largest timestamp so far and the offset (relative) where it was reached.</summary>
internal readonly record struct TimeEntry(long Timestamp, int RelativeOffset);
