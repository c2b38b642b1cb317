using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Fetch;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Fetch;

public class FetchSessionCacheTests
{
    private readonly FakeTimeProvider _time = new();

    private static FetchPartitionRequest P(string topic, int partition, long offset = 0) =>
        new(new FetchPartition(topic, partition), offset, 1 << 20, -1, -1);

    [Fact]
    public void Full_fetch_opens_a_session_and_incremental_fetches_carry_only_changes()
    {
        var cache = new FetchSessionCache(10, TimeSpan.FromMinutes(2), _time);
        var first = cache.Begin(0, 0, [P("t", 0), P("t", 1)], []);
        Assert.False(first.IsIncremental);
        Assert.NotEqual(0, first.SessionId);
        Assert.True(first.ShouldInclude(new("t", 0), false, ErrorCode.None, 10, 10, 0));
        Assert.True(first.ShouldInclude(new("t", 1), false, ErrorCode.None, 5, 5, 0));
        first.Complete();

        // Epoch 1, nothing listed: the session's partitions are fetched.
        var second = cache.Begin(first.SessionId, 1, [], []);
        Assert.Equal(ErrorCode.None, second.Error);
        Assert.True(second.IsIncremental);
        Assert.Equal(2, second.Partitions.Count);
        Assert.False(second.ShouldInclude(new("t", 0), false, ErrorCode.None, 10, 10, 0)); // no news
        Assert.True(second.ShouldInclude(new("t", 1), false, ErrorCode.None, 6, 6, 0));   // hwm moved
        Assert.True(second.ShouldInclude(new("t", 0), true, ErrorCode.None, 10, 10, 0));   // records
        second.Complete();

        var third = cache.Begin(first.SessionId, 2, [P("u", 0)], [new("t", 1)]);
        Assert.Equal(["t-0", "u-0"], third.Partitions.Select(p => $"{p.Key.Topic}-{p.Key.Partition}").Order());
    }

    [Fact]
    public void Unknown_sessions_and_wrong_epochs_are_refused()
    {
        var cache = new FetchSessionCache(10, TimeSpan.FromMinutes(2), _time);
        Assert.Equal(ErrorCode.FetchSessionIdNotFound, cache.Begin(12345, 1, [], []).Error);
        var first = cache.Begin(0, 0, [P("t", 0)], []);
        first.Complete();
        Assert.Equal(ErrorCode.InvalidFetchSessionEpoch, cache.Begin(first.SessionId, 5, [], []).Error);
        // A refused request does not advance the epoch.
        Assert.Equal(ErrorCode.None, cache.Begin(first.SessionId, 1, [], []).Error);
    }

    [Fact]
    public void Final_epoch_closes_the_session_and_fetches_without_one()
    {
        var cache = new FetchSessionCache(10, TimeSpan.FromMinutes(2), _time);
        var first = cache.Begin(0, 0, [P("t", 0)], []);
        first.Complete();
        var last = cache.Begin(first.SessionId, FetchSessionCache.FinalEpoch, [P("t", 0)], []);
        Assert.Equal(0, last.SessionId);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Idle_sessions_are_evicted_and_a_full_cache_evicts_the_least_recently_used()
    {
        var cache = new FetchSessionCache(2, TimeSpan.FromMinutes(2), _time);
        var a = cache.Begin(0, 0, [P("t", 0)], []);
        a.Complete();
        _time.Advance(TimeSpan.FromSeconds(10));
        var b = cache.Begin(0, 0, [P("t", 1)], []);
        b.Complete();
        var c = cache.Begin(0, 0, [P("t", 2)], []);
        Assert.NotEqual(0, c.SessionId);
        Assert.Equal(ErrorCode.FetchSessionIdNotFound, cache.Begin(a.SessionId, 1, [], []).Error);

        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(ErrorCode.FetchSessionIdNotFound, cache.Begin(b.SessionId, 1, [], []).Error);
        Assert.Equal(0, cache.Count);
    }
}
