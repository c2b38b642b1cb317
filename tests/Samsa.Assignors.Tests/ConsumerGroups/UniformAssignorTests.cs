using static Samsa.Assignors.Tests.ConsumerGroups.Groups;

namespace Samsa.Assignors.Tests.ConsumerGroups;

/// <summary>Exact outputs of "uniform" for small groups, one behaviour each.</summary>
public class UniformAssignorTests
{
    private static readonly IConsumerGroupAssignor Uniform = ConsumerGroupAssignors.Create("uniform");

    private static string Assign(GroupSpec group, Metadata topics)
    {
        var assignment = Uniform.Assign(group, topics);
        AssertComplete(group, topics, assignment);
        return Show(assignment);
    }

    [Fact]
    public void Fresh_homogeneous_group_gets_contiguous_runs_with_the_extra_partitions_first()
    {
        var group = Group(("c", new([1])), ("a", new([1])), ("b", new([1])));
        Assert.Equal("a: 1[0,1,2] | b: 1[3,4] | c: 1[5,6]", Assign(group, Topics((1, 7))));
    }

    [Fact]
    public void Fresh_homogeneous_runs_continue_across_topics_in_topic_order()
    {
        var group = Group(("a", new([2, 1])), ("b", new([1, 2])));
        Assert.Equal("a: 1[0,1,2] | b: 1[3] 2[0,1]", Assign(group, Topics((1, 4), (2, 2))));
    }

    [Fact]
    public void A_joining_member_takes_only_its_share_from_those_above_the_new_quota()
    {
        var group = Group(
            ("a", new([1], new() { [1] = [0, 1, 2] })),
            ("b", new([1], new() { [1] = [3, 4] })),
            ("c", new([1], new() { [1] = [5, 6] })),
            ("d", new([1])));
        // 7 over 4: three keep 2, one gets 1. Only a is above 2; it gives up its highest.
        Assert.Equal("a: 1[0,1] | b: 1[3,4] | c: 1[5,6] | d: 1[2]", Assign(group, Topics((1, 7))));
    }

    [Fact]
    public void When_a_member_leaves_the_others_keep_everything_and_share_its_partitions()
    {
        var group = Group(
            ("a", new([1], new() { [1] = [0, 1, 2] })),
            ("b", new([1], new() { [1] = [3, 4] })));
        // c had 5 and 6. The extra slot goes to a, which already holds the most.
        Assert.Equal("a: 1[0,1,2,5] | b: 1[3,4,6]", Assign(group, Topics((1, 7))));
    }

    [Fact]
    public void Unchanged_input_gives_the_same_assignment_and_reuses_the_current_instances()
    {
        var group = Group(("a", new([1], new() { [1] = [0, 2, 4] })), ("b", new([1], new() { [1] = [1, 3] })));
        var assignment = Uniform.Assign(group, Topics((1, 5)));
        Assert.Equal("a: 1[0,2,4] | b: 1[1,3]", Show(assignment));
        Assert.Same(group.Members["a"].CurrentAssignment, assignment.Members["a"]);
        Assert.Same(group.Members["b"].CurrentAssignment, assignment.Members["b"]);
    }

    [Fact]
    public void A_member_that_keeps_one_topic_and_loses_another_keeps_the_instance_of_the_first()
    {
        var group = Group(("a", new([1], new() { [1] = [0, 1], [2] = [0] })), ("b", new([1], new() { [1] = [2, 3] })));
        var assignment = Uniform.Assign(group, Topics((1, 4), (2, 1)));
        Assert.Equal("a: 1[0,1] | b: 1[2,3]", Show(assignment));
        Assert.NotSame(group.Members["a"].CurrentAssignment, assignment.Members["a"]);
        Assert.Same(group.Members["a"].CurrentAssignment[T(1)], assignment.Members["a"][T(1)]);
    }

    [Fact]
    public void Deleted_topics_shrunk_topics_and_dropped_subscriptions_lose_their_partitions()
    {
        var group = Group(
            ("a", new([1, 3], new() { [1] = [0, 5], [2] = [0], [3] = [0] })),
            ("b", new([1, 3], new() { [1] = [1], [3] = [1, 2] })));
        // Topic 1 shrank to 2 partitions (5 is gone), topic 2 is unsubscribed, topic 3 deleted.
        Assert.Equal("a: 1[0] | b: 1[1]", Assign(group, Topics((1, 2), (2, 4))));
    }

    [Fact]
    public void A_partition_two_members_claim_stays_with_the_first_in_member_id_order()
    {
        var group = Group(("b", new([1], new() { [1] = [0, 1] })), ("a", new([1], new() { [1] = [1] })));
        Assert.Equal("a: 1[1] | b: 1[0]", Assign(group, Topics((1, 2))));
    }

    [Fact]
    public void Members_without_partitions_have_empty_entries()
    {
        var group = Group(("a", new([1])), ("b", new([1])), ("c", new([1])));
        var assignment = Uniform.Assign(group, Topics((1, 1)));
        Assert.Equal("a: 1[0] | b:  | c: ", Show(assignment));
        Assert.Empty(assignment.Members["c"]);
    }

    [Fact]
    public void Heterogeneous_members_are_levelled_on_their_totals()
    {
        // a can take topic 1 only, b both: the levelled totals are 3 and 3.
        var group = Group(("a", new([1])), ("b", new([1, 2])));
        Assert.Equal("a: 1[0,1,2] | b: 1[3] 2[0,1]", Assign(group, Topics((1, 4), (2, 2))));
    }

    [Fact]
    public void Heterogeneous_group_with_a_topic_only_one_member_takes()
    {
        var group = Group(("a", new([1, 2])), ("b", new([2])));
        Assert.Equal("a: 1[0,1] 2[0] | b: 2[1,2,3]", Assign(group, Topics((1, 2), (2, 4))));
    }

    [Fact]
    public void Heterogeneous_join_moves_only_what_levelling_needs()
    {
        var group = Group(
            ("a", new([1, 2], new() { [1] = [0, 1, 2], [2] = [0] })),
            ("b", new([1, 2], new() { [1] = [3], [2] = [1, 2, 3] })),
            ("c", new([2])));
        // 8 partitions, c can only take topic 2: everyone ends at 3 or 2, c's come from topic 2.
        var assignment = Uniform.Assign(group, Topics((1, 4), (2, 4)));
        AssertComplete(group, Topics((1, 4), (2, 4)), assignment);
        var flat = Flatten(assignment);
        Assert.Equal([3, 3, 2], new[] { "a", "b", "c" }.Select(m => Load(flat, m)));
        Assert.Equal([0, 1, 2], flat["a"][T(1)]);
        Assert.Equal([3], flat["b"][T(1)]);
        Assert.Equal(2, flat["c"][T(2)].Length);
    }

    [Fact]
    public void Subscriptions_to_missing_topics_and_empty_groups_assign_nothing()
    {
        Assert.Equal("a:  | b: ", Assign(Group(("a", new([9])), ("b", new([8]))), Topics((1, 3))));
        Assert.Empty(Uniform.Assign(Group(), Topics((1, 3))).Members);
    }
}
