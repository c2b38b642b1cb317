using Samsa.Client.Internal.Group;

namespace Samsa.Client.Tests.Group;

public class RebalancePlanTests
{
    private static readonly (string, int)[] Owned = [("t", 0), ("t", 1), ("t", 2)];

    [Fact]
    public void Eager_members_revoke_everything_before_joining_and_are_assigned_everything_after()
    {
        var before = RebalancePlan.BeforeJoin(RebalanceMode.Eager, Owned, partitionsLost: false);
        Assert.Equal(Owned, before.Revoked);
        Assert.Empty(before.Owned);

        var after = RebalancePlan.AfterSync(RebalanceMode.Eager, [], [("t", 0), ("t", 3)]);
        Assert.Equal([("t", 0), ("t", 3)], after.Assigned);
        Assert.False(after.RejoinAfterRevoke);
    }

    [Fact]
    public void Cooperative_members_keep_consuming_while_joining_and_revoke_only_what_moves()
    {
        var before = RebalancePlan.BeforeJoin(RebalanceMode.Cooperative, Owned, partitionsLost: false);
        Assert.Empty(before.Revoked);
        Assert.Equal(Owned, before.Owned);

        var after = RebalancePlan.AfterSync(RebalanceMode.Cooperative, Owned, [("t", 0), ("t", 2), ("t", 5)]);
        Assert.Equal([("t", 1)], after.Revoked);
        Assert.Equal([("t", 5)], after.Assigned);
        Assert.Equal([("t", 0), ("t", 2), ("t", 5)], after.Owned);
        Assert.True(after.RejoinAfterRevoke);
    }

    [Fact]
    public void Cooperative_rounds_with_nothing_to_revoke_do_not_rejoin()
    {
        var after = RebalancePlan.AfterSync(RebalanceMode.Cooperative, [("t", 0)], [("t", 0), ("t", 1)]);
        Assert.Empty(after.Revoked);
        Assert.False(after.RejoinAfterRevoke);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Partitions_of_a_lost_generation_are_lost_not_revoked(bool cooperative)
    {
        var mode = cooperative ? RebalanceMode.Cooperative : RebalanceMode.Eager;
        var before = RebalancePlan.BeforeJoin(mode, Owned, partitionsLost: true);
        Assert.Empty(before.Revoked);
        Assert.Equal(Owned, before.Lost);
        Assert.Empty(before.Owned);
    }
}
