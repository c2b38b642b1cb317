using System.Text.RegularExpressions;
using Samsa.Client.Internal.Consumer;

namespace Samsa.Client.Tests.Consumer;

public class SubscriptionStateTests
{
    [Fact]
    public void Topic_pattern_and_manual_subscriptions_do_not_mix()
    {
        var s = new SubscriptionState();
        s.Subscribe(["a"]);
        var ex = Assert.Throws<InvalidOperationException>(() => s.Assign([("a", 0)]));
        Assert.Contains("Unsubscribe", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => s.Subscribe(new Regex("a.*")));
        s.Unsubscribe();
        s.Assign([("a", 0)]);
        Assert.Equal(SubscriptionKind.Assigned, s.Kind);
    }

    [Fact]
    public void Pattern_subscriptions_match_new_topics_and_skip_internal_ones()
    {
        var s = new SubscriptionState();
        s.Subscribe(new Regex("^orders-.*"));
        Assert.True(s.UpdateMatchedTopics(["orders-eu", "payments", "__consumer_offsets"]));
        Assert.Equal(["orders-eu"], s.Topics);
        Assert.False(s.UpdateMatchedTopics(["orders-eu", "payments"]));
        Assert.True(s.UpdateMatchedTopics(["orders-eu", "orders-us"]));
        Assert.Equal(["orders-eu", "orders-us"], s.Topics);
    }

    [Fact]
    public void Reassignment_keeps_positions_of_partitions_that_stay()
    {
        var s = new SubscriptionState();
        s.Subscribe(["t"]);
        s.SetAssignment([("t", 0), ("t", 1)]);
        s.Seek("t", 0, 42);
        s.SetAssignment([("t", 0), ("t", 2)]);
        Assert.Equal(42, s.Get("t", 0).Position);
        Assert.Null(s.Get("t", 2).Position);
        Assert.False(s.IsAssigned("t", 1));
        Assert.Equal([("t", 0, 42L, (int?)null)], s.ConsumedPositions());
    }

    [Fact]
    public void Seek_to_an_unassigned_partition_or_a_negative_offset_is_an_error()
    {
        var s = new SubscriptionState();
        s.Assign([("t", 0)]);
        Assert.Throws<InvalidOperationException>(() => s.Seek("t", 9, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Seek("t", 0, -5));
    }

    [Fact]
    public void Only_partitions_with_a_resolved_position_that_are_not_paused_or_revoking_are_fetchable()
    {
        var s = new SubscriptionState();
        s.Assign([("t", 0)]);
        var p = s.Get("t", 0);
        Assert.False(p.IsFetchable);
        s.Seek("t", 0, 5);
        Assert.True(p.IsFetchable);
        p.Paused = true;
        Assert.False(p.IsFetchable);
        p.Paused = false;
        s.RequestReset("t", 0, OffsetResetRequest.Earliest);
        Assert.False(p.IsFetchable);
        Assert.Null(p.Position);
    }

    [Fact]
    public void Subscribing_to_an_empty_list_unsubscribes()
    {
        var s = new SubscriptionState();
        s.Subscribe(["a"]);
        s.Subscribe([]);
        Assert.Equal(SubscriptionKind.None, s.Kind);
        Assert.Throws<ArgumentException>(() => s.Subscribe([" "]));
    }
}
