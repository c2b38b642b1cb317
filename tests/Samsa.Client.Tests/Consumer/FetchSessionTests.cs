using Samsa.Client.Internal.Consumer;
using Samsa.Protocol;

namespace Samsa.Client.Tests.Consumer;

public class FetchSessionTests
{
    private static Dictionary<(string, int), (long, int)> Next(params (int Partition, long Offset)[] partitions) =>
        partitions.ToDictionary(p => ("t", p.Partition), p => (p.Offset, 0));

    [Fact]
    public void The_first_request_is_full_then_only_changes_and_forgotten_partitions_are_sent()
    {
        var session = new FetchSession();
        var first = session.Plan(Next((0, 10), (1, 20), (2, 30)));
        Assert.Equal((0, 0), (first.SessionId, first.SessionEpoch));
        Assert.Equal(3, first.Send.Count);
        session.OnResponse(ErrorCode.None, sessionId: 77);

        // Partition 0 moved on, 1 is unchanged, 2 has buffered records (left out), 3 is new.
        var second = session.Plan(Next((0, 15), (1, 20), (3, 0)));
        Assert.Equal((77, 1), (second.SessionId, second.SessionEpoch));
        Assert.Equal([("t", 0), ("t", 3)], second.Send.Select(s => s.Partition).Order());
        Assert.Equal([("t", 2)], second.Forget);
        session.OnResponse(ErrorCode.None, sessionId: 77);

        var third = session.Plan(Next((0, 15), (1, 20), (3, 0)));
        Assert.Equal(2, third.SessionEpoch);
        Assert.Empty(third.Send);
        Assert.Empty(third.Forget);
    }

    [Theory]
    [InlineData(ErrorCode.FetchSessionIdNotFound, 0)]
    [InlineData(ErrorCode.InvalidFetchSessionEpoch, 0)]
    [InlineData(ErrorCode.NotLeaderOrFollower, 5)]
    public void A_session_error_or_failure_makes_the_next_request_full(ErrorCode error, int expectedId)
    {
        var session = new FetchSession();
        session.Plan(Next((0, 1)));
        session.OnResponse(ErrorCode.None, sessionId: 5);
        session.Plan(Next((0, 2)));
        session.OnResponse(error, sessionId: 0);
        var next = session.Plan(Next((0, 2), (1, 0)));
        Assert.Equal((expectedId, 0), (next.SessionId, next.SessionEpoch));
        Assert.Equal(2, next.Send.Count);
    }

    [Fact]
    public void A_broker_that_declines_a_session_keeps_getting_full_requests()
    {
        var session = new FetchSession();
        session.Plan(Next((0, 1)));
        session.OnResponse(ErrorCode.None, sessionId: 0);
        var next = session.Plan(Next((0, 1)));
        Assert.Equal((0, 0), (next.SessionId, next.SessionEpoch));
        Assert.Single(next.Send);
    }
}
