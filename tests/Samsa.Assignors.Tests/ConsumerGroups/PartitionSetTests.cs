namespace Samsa.Assignors.Tests.ConsumerGroups;

/// <summary>The assignment's set types behave as read-only sets, whatever the other side's type.</summary>
public class PartitionSetTests
{
    public static TheoryData<string> Kinds => ["range", "sorted"];

    // {2, 3, 4} either way.
    private static PartitionSet Make(string kind) => kind == "range" ? new RangePartitionSet(2, 5) : new SortedPartitionSet([2, 3, 4]);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Membership_count_and_ascending_order(string kind)
    {
        var set = Make(kind);
        Assert.Equal(3, set.Count);
        Assert.Equal([2, 3, 4], set);
        Assert.True(set.Contains(2) && set.Contains(4));
        Assert.False(set.Contains(1) || set.Contains(5) || set.Contains(-3));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Set_relations_match_hash_sets_and_count_a_plain_sequence_as_a_set(string kind)
    {
        var set = Make(kind);
        int[][] others = [[2, 3, 4], [4, 3, 2, 2], [1, 2, 3, 4], [3], [], [7, 8], [4, 5]];
        foreach (var other in others)
        {
            var expected = new HashSet<int>([2, 3, 4]);
            Assert.Equal(expected.SetEquals(other), set.SetEquals(other));
            Assert.Equal(expected.IsSubsetOf(other), set.IsSubsetOf(other));
            Assert.Equal(expected.IsProperSubsetOf(other), set.IsProperSubsetOf(other));
            Assert.Equal(expected.IsSupersetOf(other), set.IsSupersetOf(other));
            Assert.Equal(expected.IsProperSupersetOf(other), set.IsProperSupersetOf(other));
            Assert.Equal(expected.Overlaps(other), set.Overlaps(other));
            Assert.Equal(expected.SetEquals(other), set.SetEquals(other.ToHashSet()));
        }
    }

    [Fact]
    public void An_empty_range_is_empty()
    {
        var set = new RangePartitionSet(3, 3);
        Assert.Empty(set);
        Assert.True(set.IsSubsetOf([]));
        Assert.Equal("[]", set.ToString());
    }
}
