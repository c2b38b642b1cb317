using static Samsa.Assignors.Tests.ConsumerGroups.Groups;

namespace Samsa.Assignors.Tests.ConsumerGroups;

/// <summary>Exact outputs of the server-side "range" and the factory.</summary>
public class RangeAssignorTests
{
    private static readonly IConsumerGroupAssignor Range = ConsumerGroupAssignors.Create("range");

    private static string Assign(GroupSpec group, Metadata topics)
    {
        var assignment = Range.Assign(group, topics);
        AssertComplete(group, topics, assignment);
        return Show(assignment);
    }

    [Fact]
    public void Co_partitioned_topics_give_each_member_the_same_ranges()
    {
        var group = Group(("c", new([1, 2])), ("a", new([1, 2])), ("b", new([2, 1])));
        Assert.Equal("a: 1[0,1,2] 2[0,1,2] | b: 1[3,4] 2[3,4] | c: 1[5,6] 2[5,6]", Assign(group, Topics((1, 7), (2, 7))));
    }

    [Fact]
    public void Each_topic_is_ranged_over_its_own_subscribers()
    {
        var group = Group(("a", new([1, 2])), ("b", new([2])), ("c", new([1])));
        Assert.Equal("a: 1[0,1] 2[0,1] | b: 2[2,3] | c: 1[2]", Assign(group, Topics((1, 3), (2, 4))));
    }

    [Fact]
    public void More_members_than_partitions_leaves_the_last_ones_empty()
    {
        var group = Group(("a", new([1])), ("b", new([1])), ("c", new([1])));
        Assert.Equal("a: 1[0] | b: 1[1] | c: ", Assign(group, Topics((1, 2))));
    }

    [Fact]
    public void Current_assignments_do_not_change_the_ranges_as_in_kafka()
    {
        var group = Group(("a", new([1], new() { [1] = [3] })), ("b", new([1], new() { [1] = [0, 1, 2] })));
        Assert.Equal("a: 1[0,1] | b: 1[2,3]", Assign(group, Topics((1, 4))));
    }

    [Fact]
    public void A_member_whose_ranges_are_unchanged_keeps_its_instances()
    {
        var group = Group(("a", new([1], new() { [1] = [0, 1] })), ("b", new([1], new() { [1] = [3] })));
        var assignment = Range.Assign(group, Topics((1, 4)));
        Assert.Same(group.Members["a"].CurrentAssignment, assignment.Members["a"]);
        Assert.Equal([2, 3], assignment.Members["b"][T(1)].Order());
    }

    [Fact]
    public void Missing_topics_are_skipped()
    {
        Assert.Equal("a: 1[0,1] | b: ", Assign(Group(("a", new([1, 5])), ("b", new([5]))), Topics((1, 2))));
    }

    [Fact]
    public void The_factory_knows_uniform_and_range_and_names_an_unknown_name()
    {
        Assert.Equal(["uniform", "range"], ConsumerGroupAssignors.Names);
        Assert.All(ConsumerGroupAssignors.Names, name => Assert.Equal(name, ConsumerGroupAssignors.Create(name).Name));
        var error = Assert.Throws<ArgumentException>(() => ConsumerGroupAssignors.Create("sticky"));
        Assert.Contains("'sticky'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Homogeneity_compares_subscriptions_as_sets()
    {
        Assert.True(Group(("a", new([1, 2])), ("b", new([2, 1, 2]))).IsHomogeneous);
        Assert.False(Group(("a", new([1, 2])), ("b", new([2]))).IsHomogeneous);
        Assert.True(Group().IsHomogeneous);
    }
}
